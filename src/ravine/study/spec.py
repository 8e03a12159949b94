"""The study spec: what to train, with which optimizers and grids, for how long, and how often
to measure. Read from TOML or built from a dict; every error names the offending key.

A spec in TOML::

    name = "digits"
    seeds = [0, 1, 2]
    budget = { epochs = 10 }          # or { steps = 500 }
    batch_size = 64                   # an integer (1: single-example SGD) or "full"
    eval_every = { epochs = 1 }       # or { steps = 50 }
    threads = 1                       # torch threads per trial (1 suits small models)
    save_models = true                # keep each trial's final weights (for ensembles)
    protocol = "grid"                 # "grid", "two_stage" or "random"

    [[problems]]
    name = "digits_mlp"               # a built-in name or "module:function"
    options = { hidden = 64 }
    target = 0.9                      # validation metric that defines "steps to target"

    [[optimizers]]
    name = "adam"
    lr = { log = [1e-4, 1e-1, 7] }    # 7 log-spaced values from 1e-4 to 1e-1 inclusive
    betas = [[0.9, 0.999]]            # a list is a grid of values; a scalar is fixed
    schedules = { lr = "cosine:1000" }

Hyperparameter values: a number, string or boolean is fixed; a list is a grid of values; a
table ``{log = [low, high, n]}`` is ``n`` log-spaced values ``low * (high/low)**(i/(n-1))``
and ``{linear = [low, high, n]}`` ``n`` evenly spaced ones. The string ``"log:1e-4:1:9"`` is
the same as ``{log = [1e-4, 1, 9]}``. Under the random protocol a ``log`` range is sampled
log-uniformly and a ``linear`` range uniformly between its ends, a list uniformly.

Protocols: ``grid`` runs every setting on every seed. ``two_stage`` (the DeepOBS protocol)
tunes every setting on one seed (``tune_seed``, default the first seed), then reruns each
optimizer's best setting (by final validation metric) on all seeds. ``random`` draws
``samples`` settings per optimizer (the same number for each, so budgets are equal) from
``sample_seed`` and runs each on every seed. Give a protocol with options as a table:
``protocol = { kind = "random", samples = 8, sample_seed = 0 }``.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..optim.registry import OptimizerInfo, resolve

__all__ = ["Spec", "SpecError", "expand_values", "load_spec"]

PROTOCOLS = ("grid", "two_stage", "random")
_TOP_KEYS = {
    "name",
    "seeds",
    "budget",
    "batch_size",
    "eval_every",
    "protocol",
    "problems",
    "optimizers",
    "save_models",
    "device",
    "threads",
}
_PROBLEM_KEYS = {"name", "options", "target", "label"}
_OPT_RESERVED = {"name", "schedules", "label"}


class SpecError(ValueError):
    """A malformed study spec; ``key`` is the path of the offending entry (``optimizers[1].lr``)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    return _is_number(v) and math.isfinite(v)


_RANGE_STRING = re.compile(r"^\s*(log|linear)\s*:\s*([^:]+):([^:]+):([^:]+)\s*$")


@dataclass(frozen=True)
class Range:
    """A continuous range of one hyperparameter: ``n`` grid points, or samples in random search."""

    kind: str  # "log" or "linear"
    low: float
    high: float
    n: int

    def grid(self) -> list[float]:
        """The ``n`` points, rounded to 12 significant digits so that grids which share a
        point (1e-4 in a grid from 1e-5 and in one from 1e-4) give the very same float."""
        if self.n == 1:
            return [float(self.low)]
        if self.kind == "log":
            a, b = math.log(self.low), math.log(self.high)
            pts = [math.exp(a + (b - a) * i / (self.n - 1)) for i in range(self.n)]
        else:
            pts = [self.low + (self.high - self.low) * i / (self.n - 1) for i in range(self.n)]
        return [float(f"{v:.12g}") for v in pts]

    def sample(self, rng) -> float:
        u = rng.random()
        if self.kind == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


def _parse_range(key: str, value: Any) -> Range | None:
    """A Range from ``{log = [lo, hi, n]}``, ``{linear = ...}`` or ``"log:lo:hi:n"``; None if
    ``value`` is neither form."""
    if isinstance(value, str):
        m = _RANGE_STRING.match(value)
        if not m:
            return None
        kind = m.group(1)
        try:
            parts = [float(m.group(2)), float(m.group(3)), float(m.group(4))]
        except ValueError:
            raise SpecError(key, f"cannot read {value!r} as '{kind}:low:high:n'") from None
        if not parts[2].is_integer():
            raise SpecError(key, f"the number of points in {value!r} must be an integer")
        lo, hi, n = parts[0], parts[1], int(parts[2])
    elif isinstance(value, dict):
        if set(value) - {"log", "linear"} or len(value) != 1:
            raise SpecError(
                key,
                f"a range is {{log = [low, high, n]}} or {{linear = [low, high, n]}}, got keys "
                f"{sorted(value)}",
            )
        kind = next(iter(value))
        triple = value[kind]
        if not (isinstance(triple, list) and len(triple) == 3):
            raise SpecError(f"{key}.{kind}", f"must be [low, high, n], got {triple!r}")
        lo, hi, n = triple
        if not (_finite(lo) and _finite(hi)):
            raise SpecError(f"{key}.{kind}", f"low and high must be finite numbers, got {triple!r}")
        if not (isinstance(n, int) and not isinstance(n, bool)):
            raise SpecError(f"{key}.{kind}", f"n must be an integer, got {n!r}")
    else:
        return None
    if n < 1:
        raise SpecError(key, f"the number of points must be >= 1, got {n}")
    if kind == "log" and (lo <= 0 or hi <= 0):
        raise SpecError(key, f"a log range needs low > 0 and high > 0, got [{lo}, {hi}]")
    if hi < lo:
        raise SpecError(key, f"high must be >= low, got [{lo}, {hi}]")
    return Range(kind, float(lo), float(hi), n)


def _check_scalar(key: str, v: Any) -> None:
    if isinstance(v, bool | str):
        return
    if _is_number(v):
        if not math.isfinite(v):
            raise SpecError(key, f"must be finite, got {v!r}")
        return
    if isinstance(v, list) and all(_finite(x) for x in v) and v:
        return  # a tuple-valued hyperparameter such as betas = [0.9, 0.999]
    raise SpecError(key, f"must be a number, string, boolean or list of numbers, got {v!r}")


def expand_values(key: str, value: Any) -> list[Any] | Range:
    """The values a hyperparameter takes: a list (a grid) or a Range. Raises SpecError."""
    r = _parse_range(key, value)
    if r is not None:
        return r
    if isinstance(value, list):
        if not value:
            raise SpecError(key, "an empty list gives no values")
        # a list of numbers is a grid of scalars, a list of lists a grid of tuples
        for i, v in enumerate(value):
            _check_scalar(f"{key}[{i}]", v)
        if all(_is_number(v) for v in value) and key.endswith("betas"):
            # betas = [0.9, 0.999] is one fixed tuple, not a grid of two floats
            return [tuple(value)]
        return [tuple(v) if isinstance(v, list) else v for v in value]
    _check_scalar(key, value)
    return [value]


def _positive_int(key: str, v: Any) -> int:
    if not (isinstance(v, int) and not isinstance(v, bool)) or v < 1:
        raise SpecError(key, f"must be a positive integer, got {v!r}")
    return v


def _interval(key: str, v: Any) -> dict[str, int]:
    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in {"epochs", "steps"}:
        raise SpecError(key, f"must be {{epochs = N}} or {{steps = N}}, got {v!r}")
    unit = next(iter(v))
    return {unit: _positive_int(f"{key}.{unit}", v[unit])}


@dataclass
class Spec:
    """A validated study spec (see the module docstring for the fields)."""

    name: str
    problems: list[dict[str, Any]]
    optimizers: list[dict[str, Any]]
    seeds: list[int] = field(default_factory=lambda: [0])
    budget: dict[str, int] = field(default_factory=lambda: {"epochs": 5})
    batch_size: int | str = 32
    eval_every: dict[str, int] = field(default_factory=lambda: {"epochs": 1})
    protocol: dict[str, Any] = field(default_factory=lambda: {"kind": "grid"})
    save_models: bool = True
    device: str = "cpu"
    threads: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, check_problems: bool = True) -> Spec:
        """Validate a plain dict (as read from TOML) and build a Spec."""
        if not isinstance(data, dict):
            raise SpecError("spec", f"must be a table/dict, got {type(data).__name__}")
        data = copy.deepcopy(data)
        for key in data:
            if key not in _TOP_KEYS:
                raise SpecError(key, f"unknown key; allowed keys: {', '.join(sorted(_TOP_KEYS))}")
        name = data.get("name", "study")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise SpecError(
                "name", f"must be a word of letters, digits, '_', '-', '.', got {name!r}"
            )

        seeds = data.get("seeds", [0])
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            seeds = [seeds]
        if not isinstance(seeds, list) or not seeds:
            raise SpecError("seeds", f"must be a non-empty list of integers, got {seeds!r}")
        for i, s in enumerate(seeds):
            if not (isinstance(s, int) and not isinstance(s, bool)) or s < 0:
                raise SpecError(f"seeds[{i}]", f"must be a non-negative integer, got {s!r}")
        if len(set(seeds)) != len(seeds):
            raise SpecError("seeds", f"contains duplicates: {seeds!r}")

        budget = _interval("budget", data.get("budget", {"epochs": 5}))
        eval_every = _interval("eval_every", data.get("eval_every", {"epochs": 1}))

        batch_size = data.get("batch_size", 32)
        if batch_size != "full" and (
            not (isinstance(batch_size, int) and not isinstance(batch_size, bool)) or batch_size < 1
        ):
            raise SpecError(
                "batch_size", f"must be a positive integer or 'full', got {batch_size!r}"
            )

        protocol = data.get("protocol", "grid")
        if isinstance(protocol, str):
            protocol = {"kind": protocol}
        if not isinstance(protocol, dict):
            raise SpecError("protocol", f"must be a name or a table, got {protocol!r}")
        kind = protocol.get("kind")
        if kind not in PROTOCOLS:
            raise SpecError("protocol.kind", f"must be one of {', '.join(PROTOCOLS)}, got {kind!r}")
        allowed = {
            "grid": {"kind"},
            "two_stage": {"kind", "tune_seed"},
            "random": {"kind", "samples", "sample_seed"},
        }[kind]
        for key in protocol:
            if key not in allowed:
                raise SpecError(
                    f"protocol.{key}",
                    f"unknown for protocol {kind!r}; allowed: {', '.join(sorted(allowed))}",
                )
        if kind == "two_stage":
            tune = protocol.setdefault("tune_seed", seeds[0])
            if tune not in seeds:
                raise SpecError(
                    "protocol.tune_seed", f"must be one of the seeds {seeds}, got {tune!r}"
                )
        if kind == "random":
            _positive_int("protocol.samples", protocol.get("samples"))
            ss = protocol.setdefault("sample_seed", 0)
            if not (isinstance(ss, int) and not isinstance(ss, bool)):
                raise SpecError("protocol.sample_seed", f"must be an integer, got {ss!r}")

        problems = data.get("problems")
        if isinstance(problems, str):
            problems = [{"name": problems}]
        if not isinstance(problems, list) or not problems:
            raise SpecError("problems", "must be a non-empty list of problem tables")
        out_problems = []
        for i, p in enumerate(problems):
            key = f"problems[{i}]"
            if isinstance(p, str):
                p = {"name": p}
            if not isinstance(p, dict):
                raise SpecError(key, f"must be a table with a name, got {p!r}")
            for k in p:
                if k not in _PROBLEM_KEYS:
                    raise SpecError(
                        f"{key}.{k}", f"unknown key; allowed: {', '.join(sorted(_PROBLEM_KEYS))}"
                    )
            if "name" not in p:
                raise SpecError(f"{key}.name", "missing")
            options = p.get("options", {})
            if not isinstance(options, dict):
                raise SpecError(f"{key}.options", f"must be a table, got {options!r}")
            if check_problems:
                from .. import problems as _problems

                try:
                    _problems.check_options(p["name"], options)
                except ValueError as err:
                    where = (
                        f"{key}.name"
                        if "unknown problem" in str(err)
                        or "cannot import" in str(err)
                        or "has no function" in str(err)
                        else f"{key}.options"
                    )
                    raise SpecError(where, str(err)) from None
            target = p.get("target")
            if target is not None and not _finite(target):
                raise SpecError(f"{key}.target", f"must be a finite number, got {target!r}")
            label = p.get("label", p["name"] if not options else None)
            if label is None:
                label = (
                    p["name"] + "(" + ",".join(f"{k}={v}" for k, v in sorted(options.items())) + ")"
                )
            out_problems.append(
                {"name": p["name"], "options": options, "target": target, "label": str(label)}
            )
        labels = [p["label"] for p in out_problems]
        if len(set(labels)) != len(labels):
            raise SpecError(
                "problems", f"two problems share a label: {labels}; give each a distinct 'label'"
            )

        optimizers = data.get("optimizers")
        if not isinstance(optimizers, list) or not optimizers:
            raise SpecError("optimizers", "must be a non-empty list of optimizer tables")
        out_opts = []
        for i, o in enumerate(optimizers):
            key = f"optimizers[{i}]"
            if isinstance(o, str):
                o = {"name": o}
            if not isinstance(o, dict):
                raise SpecError(key, f"must be a table with a name, got {o!r}")
            if "name" not in o:
                raise SpecError(f"{key}.name", "missing")
            oname = o["name"]
            try:
                info = resolve(oname)
            except (ValueError, TypeError) as err:
                raise SpecError(f"{key}.name", str(err)) from None
            known = info.hyperparameters
            grid: dict[str, Any] = {}
            for hp, value in o.items():
                if hp in _OPT_RESERVED:
                    continue
                if known is not None and hp not in known:
                    raise SpecError(
                        f"{key}.{hp}",
                        f"{oname!r} has no hyperparameter {hp!r}; "
                        f"it takes: {', '.join(sorted(known))}",
                    )
                values = expand_values(f"{key}.{hp}", value)
                if isinstance(values, list):
                    for j, v in enumerate(values):
                        _check_constraint(
                            info, f"{key}.{hp}" + (f"[{j}]" if len(values) > 1 else ""), hp, v
                        )
                else:
                    for end in (values.low, values.high):
                        _check_constraint(info, f"{key}.{hp}", hp, end)
                grid[hp] = value
            schedules = o.get("schedules", {})
            if not isinstance(schedules, dict):
                raise SpecError(
                    f"{key}.schedules",
                    f'must be a table of hyperparameter = "schedule", got {schedules!r}',
                )
            for hp, s in schedules.items():
                if not isinstance(s, str) or not s.strip():
                    raise SpecError(
                        f"{key}.schedules.{hp}",
                        f"must be a schedule string such as 'cosine:1000', got {s!r}",
                    )
                if known is not None and hp.split("[", 1)[0] not in known:
                    raise SpecError(
                        f"{key}.schedules.{hp}", f"{oname!r} has no hyperparameter {hp!r}"
                    )
                from .. import schedules as _schedules

                try:
                    _schedules.parse(s)
                except ValueError as err:
                    raise SpecError(f"{key}.schedules.{hp}", str(err)) from None
            label = o.get("label", oname)
            if not isinstance(label, str) or not label:
                raise SpecError(f"{key}.label", f"must be a non-empty string, got {label!r}")
            out_opts.append(
                {"name": oname, "label": label, "grid": grid, "schedules": dict(schedules)}
            )
        labels = [o["label"] for o in out_opts]
        if len(set(labels)) != len(labels):
            raise SpecError(
                "optimizers",
                f"two optimizers share a label: {labels}; give each a distinct 'label'",
            )

        save_models = data.get("save_models", True)
        if not isinstance(save_models, bool):
            raise SpecError("save_models", f"must be true or false, got {save_models!r}")
        device = data.get("device", "cpu")
        if not isinstance(device, str):
            raise SpecError(
                "device", f"must be a device string such as 'cpu' or 'cuda', got {device!r}"
            )
        threads = _positive_int("threads", data.get("threads", 1))
        return cls(
            threads=threads,
            name=name,
            problems=out_problems,
            optimizers=out_opts,
            seeds=seeds,
            budget=budget,
            batch_size=batch_size,
            eval_every=eval_every,
            protocol=protocol,
            save_models=save_models,
            device=device,
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain dict that ``from_dict`` reads back to an equal Spec."""
        return {
            "name": self.name,
            "seeds": list(self.seeds),
            "budget": dict(self.budget),
            "batch_size": self.batch_size,
            "eval_every": dict(self.eval_every),
            "protocol": dict(self.protocol),
            "save_models": self.save_models,
            "device": self.device,
            "threads": self.threads,
            "problems": [{k: v for k, v in p.items() if v is not None} for p in self.problems],
            "optimizers": [
                {
                    "name": o["name"],
                    "label": o["label"],
                    **o["grid"],
                    **({"schedules": o["schedules"]} if o["schedules"] else {}),
                }
                for o in self.optimizers
            ],
        }


def _check_constraint(info: OptimizerInfo, key: str, hp: str, value: Any) -> None:
    try:
        info.check(hp, value)
    except (ValueError, TypeError) as err:
        raise SpecError(key, str(err)) from None


def load_spec(source: str | Path | dict[str, Any] | Spec, *, check_problems: bool = True) -> Spec:
    """A validated Spec from a TOML file path, TOML text, a dict or a Spec."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, dict):
        return Spec.from_dict(source, check_problems=check_problems)
    text: str
    path = Path(source) if not (isinstance(source, str) and "\n" in source) else None
    if path is not None and path.exists():
        text = path.read_text()
    elif isinstance(source, str) and ("=" in source or "\n" in source):
        text = source
    else:
        raise FileNotFoundError(f"spec file {str(source)!r} does not exist")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError("spec", f"not valid TOML: {err}") from None
    return Spec.from_dict(data, check_problems=check_problems)
