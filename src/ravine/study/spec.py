"""The study spec: what to train, with which optimizers and grids, for how long, and how often
to measure. Read from TOML or built from a dict; every error names the offending key.

A spec in TOML::

    name = "digits"
    seeds = [0, 1, 2]
    budget = { epochs = 10 }          # or { steps = 500 }
    batch_size = 64                   # an integer (1: single-example SGD) or "full"
    eval_every = { epochs = 1 }       # or { steps = 50 }
    threads = 1                       # torch threads per trial (1 suits small models)
    diverge_factor = 1e4              # a training loss past 1e4 x its initial one: diverged
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

Hyperparameter values are described in :mod:`ravine.study.values`.

Protocols: ``grid`` runs every setting on every seed. ``two_stage`` (the DeepOBS protocol)
tunes every setting on one seed (``tune_seed``, default the first seed), then reruns each
optimizer's best setting (by final validation metric) on all seeds. ``random`` draws
``samples`` settings per optimizer (the same number for each, so budgets are equal) from
``sample_seed`` and runs each on every seed. Give a protocol with options as a table:
``protocol = { kind = "random", samples = 8, sample_seed = 0 }``.

The spec is checked here once, section by section, into typed records
(:class:`~ravine.study.records.ProblemSpec`, :class:`~ravine.study.records.OptimizerSpec`,
:class:`~ravine.study.records.Interval`, :class:`Protocol`) that the rest of the study uses
as they are. The checks are written by hand rather than as pydantic models: most of them
depend on the optimizer registry and the problem registry, and they name the very entry at
fault (``optimizers[1].lr[1]``, ``optimizers[1].lr.log``) with the allowed values.
"""

from __future__ import annotations

import copy
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..optim.registry import OptimizerInfo, resolve
from .records import DIVERGE_FACTOR, Interval, OptimizerSpec, ProblemSpec
from .values import Range, SpecError, expand_values, is_finite, is_integer, is_number

__all__ = [
    "Protocol", "Range", "Spec", "SpecError", "check_device", "expand_values", "load_spec",
]  # fmt: skip

PROTOCOLS = {
    "grid": {"kind"},
    "two_stage": {"kind", "tune_seed"},
    "random": {"kind", "samples", "sample_seed"},
}
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
    "diverge_factor",
}
_PROBLEM_KEYS = {"name", "options", "target", "label"}
_OPT_RESERVED = {"name", "schedules", "label"}


@dataclass(frozen=True)
class Protocol:
    """How settings become trials: ``grid``, ``two_stage`` (tuned on ``tune_seed``) or
    ``random`` (``samples`` settings per optimizer drawn from ``sample_seed``)."""

    kind: str = "grid"
    tune_seed: int | None = None
    samples: int | None = None
    sample_seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


# -- small checks ---------------------------------------------------------------------------


def _known(where: str, table: dict[str, Any], allowed: set[str], what: str = "") -> None:
    """Refuse a key of ``table`` not in ``allowed``, naming it (``where.key``)."""
    for key in table:
        if key not in allowed:
            raise SpecError(
                f"{where}.{key}" if where else key,
                f"unknown key{what}; allowed: {', '.join(sorted(allowed))}",
            )


def _positive_int(key: str, v: Any) -> int:
    if not is_integer(v) or v < 1:
        raise SpecError(key, f"must be a positive integer, got {v!r}")
    return v


def _interval(key: str, v: Any) -> Interval:
    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in {"epochs", "steps"}:
        raise SpecError(key, f"must be {{epochs = N}} or {{steps = N}}, got {v!r}")
    unit = next(iter(v))
    return Interval(unit, _positive_int(f"{key}.{unit}", v[unit]))


def _unique_labels(key: str, labels: list[str], what: str) -> None:
    if len(set(labels)) != len(labels):
        raise SpecError(key, f"two {what} share a label: {labels}; give each a distinct 'label'")


def _name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise SpecError("name", f"must be a word of letters, digits, '_', '-', '.', got {name!r}")
    return name


def _seeds(seeds: Any) -> list[int]:
    if is_integer(seeds):
        seeds = [seeds]
    if not isinstance(seeds, list) or not seeds:
        raise SpecError("seeds", f"must be a non-empty list of integers, got {seeds!r}")
    for i, s in enumerate(seeds):
        if not is_integer(s) or s < 0:
            raise SpecError(f"seeds[{i}]", f"must be a non-negative integer, got {s!r}")
    if len(set(seeds)) != len(seeds):
        raise SpecError("seeds", f"contains duplicates: {seeds!r}")
    return list(seeds)


def _batch_size(v: Any) -> int | str:
    if v != "full" and (not is_integer(v) or v < 1):
        raise SpecError("batch_size", f"must be a positive integer or 'full', got {v!r}")
    return v


def _protocol(protocol: Any, seeds: list[int]) -> Protocol:
    if isinstance(protocol, str):
        protocol = {"kind": protocol}
    if not isinstance(protocol, dict):
        raise SpecError("protocol", f"must be a name or a table, got {protocol!r}")
    kind = protocol.get("kind")
    if kind not in PROTOCOLS:
        raise SpecError("protocol.kind", f"must be one of {', '.join(PROTOCOLS)}, got {kind!r}")
    _known("protocol", protocol, PROTOCOLS[kind], f" for protocol {kind!r}")
    if kind == "two_stage":
        tune = protocol.get("tune_seed", seeds[0])
        if tune not in seeds:
            raise SpecError("protocol.tune_seed", f"must be one of the seeds {seeds}, got {tune!r}")
        return Protocol(kind, tune_seed=tune)
    if kind == "random":
        samples = _positive_int("protocol.samples", protocol.get("samples"))
        sample_seed = protocol.get("sample_seed", 0)
        if not is_integer(sample_seed):
            raise SpecError("protocol.sample_seed", f"must be an integer, got {sample_seed!r}")
        return Protocol(kind, samples=samples, sample_seed=sample_seed)
    return Protocol(kind)


def _flag(key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise SpecError(key, f"must be true or false, got {v!r}")
    return v


def _diverge_factor(v: Any) -> float:
    if not is_number(v) or not v > 1:
        raise SpecError(
            "diverge_factor", f"must be a number above 1 (inf: never by size), got {v!r}"
        )
    return float(v)


def _device(v: Any) -> str:
    if not isinstance(v, str):
        raise SpecError("device", f"must be a device string such as 'cpu' or 'cuda', got {v!r}")
    return v


def check_device(device: str) -> None:
    """Refuse (naming the key ``device``) a device this machine does not have: an unknown
    type (``tpu``), ``cuda`` without CUDA or ``cuda:N`` past the last GPU, ``mps`` off Apple
    silicon. Called where the trials run in this machine's processes, before any trial."""
    import torch

    try:
        dev = torch.device(device)
    except RuntimeError:
        raise SpecError(
            "device", f"unknown device {device!r}; use 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    if dev.type in ("cpu", "meta"):
        return
    backend = torch.backends.mps if dev.type == "mps" else getattr(torch, dev.type, None)
    available = getattr(backend, "is_available", lambda: False)()
    count = getattr(backend, "device_count", lambda: 1)() if available else 0
    if not available or (dev.index is not None and dev.index >= count):
        have = f"{count} {dev.type} device(s)" if available else f"no {dev.type} device"
        raise SpecError("device", f"{device!r} is not available here ({have}); use 'cpu'")


def _table(key: str, entry: Any) -> dict[str, Any]:
    """A problem or optimizer entry: a table with a name, or a bare name."""
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise SpecError(key, f"must be a table with a name, got {entry!r}")
    if "name" not in entry:
        raise SpecError(f"{key}.name", "missing")
    return entry


def _entries(key: str, entries: Any, what: str) -> list[Any]:
    if isinstance(entries, str) and key == "problems":
        entries = [entries]
    if not isinstance(entries, list) or not entries:
        raise SpecError(key, f"must be a non-empty list of {what} tables")
    return entries


# -- problems -------------------------------------------------------------------------------


def _check_problem(key: str, name: str, options: dict[str, Any]) -> None:
    """The problem exists and takes ``options`` (an import error names the name)."""
    from .. import problems

    try:
        problems.check_options(name, options)
    except ValueError as err:
        text = str(err)
        bad_name = any(s in text for s in ("unknown problem", "cannot import", "has no function"))
        raise SpecError(f"{key}.name" if bad_name else f"{key}.options", text) from None


def _problem(key: str, entry: Any, check: bool) -> ProblemSpec:
    p = _table(key, entry)
    _known(key, p, _PROBLEM_KEYS)
    options = p.get("options", {})
    if not isinstance(options, dict):
        raise SpecError(f"{key}.options", f"must be a table, got {options!r}")
    if check:
        _check_problem(key, p["name"], options)
    target = p.get("target")
    if target is not None and not is_finite(target):
        raise SpecError(f"{key}.target", f"must be a finite number, got {target!r}")
    label = p.get("label")
    if label is None:
        args = ",".join(f"{k}={v}" for k, v in sorted(options.items()))
        label = f"{p['name']}({args})" if options else p["name"]
    return ProblemSpec(p["name"], copy.deepcopy(options), str(label), target)


def _problems(entries: Any, check: bool) -> list[ProblemSpec]:
    out = [
        _problem(f"problems[{i}]", p, check)
        for i, p in enumerate(_entries("problems", entries, "problem"))
    ]
    _unique_labels("problems", [p.label for p in out], "problems")
    return out


# -- optimizers -----------------------------------------------------------------------------


def _check_value(info: OptimizerInfo, key: str, hp: str, value: Any) -> None:
    try:
        info.check(hp, value)
    except (ValueError, TypeError) as err:
        raise SpecError(key, str(err)) from None


def _hyperparameter(info: OptimizerInfo, key: str, hp: str, value: Any):
    """The parsed values of one hyperparameter, each checked against its constraint."""
    known = info.hyperparameters
    if known is not None and hp not in known:
        raise SpecError(
            key, f"{info.name!r} has no hyperparameter {hp!r}; it takes: {', '.join(sorted(known))}"
        )
    values = expand_values(key, value)
    if isinstance(values, Range):
        for end in (values.low, values.high):
            _check_value(info, key, hp, end)
    else:
        for j, v in enumerate(values):
            _check_value(info, key + (f"[{j}]" if len(values) > 1 else ""), hp, v)
    return values


def _schedules(info: OptimizerInfo, key: str, schedules: Any) -> dict[str, str]:
    """Schedule strings by hyperparameter, each parsed once here to prove it is well formed."""
    if not isinstance(schedules, dict):
        raise SpecError(key, f'must be a table of hyperparameter = "schedule", got {schedules!r}')
    for hp, text in schedules.items():
        where = f"{key}.{hp}"
        if not isinstance(text, str) or not text.strip():
            raise SpecError(where, f"must be a schedule string such as 'cosine:1000', got {text!r}")
        known = info.hyperparameters
        if known is not None and hp.split("[", 1)[0] not in known:
            raise SpecError(where, f"{info.name!r} has no hyperparameter {hp!r}")
        from .. import schedules as _schedules

        try:
            _schedules.parse(text)
        except ValueError as err:
            raise SpecError(where, str(err)) from None
    return dict(schedules)


def _optimizer(key: str, entry: Any) -> OptimizerSpec:
    o = _table(key, entry)
    name = o["name"]
    try:
        info = resolve(name)
    except (ValueError, TypeError) as err:
        raise SpecError(f"{key}.name", str(err)) from None
    raw = {hp: copy.deepcopy(v) for hp, v in o.items() if hp not in _OPT_RESERVED}
    values = {hp: _hyperparameter(info, f"{key}.{hp}", hp, v) for hp, v in raw.items()}
    schedules = _schedules(info, f"{key}.schedules", o.get("schedules", {}))
    label = o.get("label", name)
    if not isinstance(label, str) or not label:
        raise SpecError(f"{key}.label", f"must be a non-empty string, got {label!r}")
    return OptimizerSpec(name, label, raw, values, schedules, info)


def _optimizers(entries: Any) -> list[OptimizerSpec]:
    out = [
        _optimizer(f"optimizers[{i}]", o)
        for i, o in enumerate(_entries("optimizers", entries, "optimizer"))
    ]
    _unique_labels("optimizers", [o.label for o in out], "optimizers")
    return out


# -- the spec -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A validated study spec (see the module docstring for the fields)."""

    name: str
    problems: list[ProblemSpec]
    optimizers: list[OptimizerSpec]
    seeds: list[int] = field(default_factory=lambda: [0])
    budget: Interval = field(default_factory=lambda: Interval("epochs", 5))
    batch_size: int | str = 32
    eval_every: Interval = field(default_factory=lambda: Interval("epochs", 1))
    protocol: Protocol = field(default_factory=Protocol)
    save_models: bool = True
    device: str = "cpu"
    threads: int = 1
    diverge_factor: float = DIVERGE_FACTOR

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, check_problems: bool = True) -> Spec:
        """Validate a plain dict (as read from TOML) and build a Spec; ``check_problems``
        (default True) also checks that each problem exists and takes its options."""
        if not isinstance(data, dict):
            raise SpecError("spec", f"must be a table/dict, got {type(data).__name__}")
        _known("", data, _TOP_KEYS)
        seeds = _seeds(data.get("seeds", [0]))
        return cls(
            name=_name(data.get("name", "study")),
            seeds=seeds,
            budget=_interval("budget", data.get("budget", {"epochs": 5})),
            eval_every=_interval("eval_every", data.get("eval_every", {"epochs": 1})),
            batch_size=_batch_size(data.get("batch_size", 32)),
            protocol=_protocol(data.get("protocol", "grid"), seeds),
            problems=_problems(data.get("problems"), check_problems),
            optimizers=_optimizers(data.get("optimizers")),
            save_models=_flag("save_models", data.get("save_models", True)),
            device=_device(data.get("device", "cpu")),
            threads=_positive_int("threads", data.get("threads", 1)),
            diverge_factor=_diverge_factor(data.get("diverge_factor", DIVERGE_FACTOR)),
        )

    def to_dict(self) -> dict[str, Any]:
        """The spec as a plain dict that ``from_dict`` reads back to an equal Spec (the form
        a store keeps, to refuse a different study)."""
        return {
            "name": self.name,
            "seeds": list(self.seeds),
            "budget": self.budget.to_dict(),
            "batch_size": self.batch_size,
            "eval_every": self.eval_every.to_dict(),
            "protocol": self.protocol.to_dict(),
            "save_models": self.save_models,
            "device": self.device,
            "threads": self.threads,
            "problems": [
                {k: v for k, v in p.to_dict().items() if v is not None} for p in self.problems
            ],
            "optimizers": [o.to_dict() for o in self.optimizers],
            **(
                {}
                if self.diverge_factor == DIVERGE_FACTOR
                else {"diverge_factor": self.diverge_factor}
            ),
        }


def load_spec(source: str | Path | dict[str, Any] | Spec, *, check_problems: bool = True) -> Spec:
    """A validated Spec from a TOML file path, TOML text, a dict or a Spec."""
    if isinstance(source, Spec):
        return source
    if isinstance(source, dict):
        return Spec.from_dict(source, check_problems=check_problems)
    text: str
    path = Path(source) if not (isinstance(source, str) and "\n" in source) else None
    if path is not None and path.exists():
        try:
            text = path.read_bytes().decode("utf-8")
        except (UnicodeDecodeError, IsADirectoryError):
            raise SpecError(
                "spec", f"{path} is not a TOML text file (it is not UTF-8 text)"
            ) from None
        if "\0" in text:
            raise SpecError("spec", f"{path} is not a TOML text file (it holds binary data)")
    elif isinstance(source, str) and ("=" in source or "\n" in source):
        text = source
    else:
        raise FileNotFoundError(f"spec file {str(source)!r} does not exist")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        where = f"{path} is " if path is not None and path.exists() else ""
        raise SpecError("spec", f"{where}not valid TOML: {err}") from None
    return Spec.from_dict(data, check_problems=check_problems)
