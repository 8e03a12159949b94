"""The race engine: optimizers on a landscape, every trajectory of one optimizer batched.

For one optimizer, all combinations of learning rate, other varying hyperparameters, start
point and seed are N trajectories. They live in ONE parameter (stored as ``[dim, N]`` so the
batch is the contiguous inner loop; the landscape sees its ``[N, dim]`` view); varying
hyperparameters are tensors of shape ``[1, N]``, so a single ``optimizer.step()`` advances
all N through the same optimizer class that trains models. The loss is
``landscape.loss(x).sum()``: rows are independent, so each row's gradient is its own.

Optimizers whose class sets ``elementwise = False`` (second-order and quasi-Newton methods mix
coordinates) and optimizers that are not ravine optimizers (``torch.optim`` classes) run one
instance per trajectory on a ``[1, dim]`` parameter instead; the result has the same form.
Every step receives a closure (zero grads, loss, backward), so look-ahead methods and
line searches race too.

Divergence is recorded, never raised: optimizers run with ``check_finite=False``; a row whose
position becomes non-finite or leaves the bounding box is marked diverged at that step, and
its later positions, losses and gradient norms are recorded as NaN. Batched rows are
independent, so a diverging row runs on without disturbing the others and is found from the
record after the run; a single trajectory stops where it diverges.

Speed. A step of N batched trajectories costs a fixed number of tensor ops whatever N is:
the landscape's hand-written gradient where it has one (else one backward pass), the rule,
and three copies into the record. Losses and gradient norms come from the step's own
closure when it is evaluated at the current point; otherwise (look-ahead, line searches,
noise) they are computed from the record afterwards. ``benchmarks/race_throughput.py``
measures the result against the per-trajectory loops.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .landscapes import Landscape
from .landscapes import get as get_landscape
from .optim.closures import make_closure
from .optim.registry import OptimizerInfo, resolve

__all__ = ["OUTCOMES", "RaceResult", "Run", "check_raceable", "race"]

#: Outcome codes of :attr:`Run.outcome`.
OUTCOMES: tuple[str, ...] = ("moving", "converged", "diverged", "saddle")
MOVING, CONVERGED, DIVERGED, SADDLE = range(4)


# ------------------------------------------------------------------------------ results


@dataclass
class Run:
    """The trajectories of one optimizer, as tensors with named axes.

    ``axes`` names the grid axes and is always ``("lr", *varying, "start", "seed")``: one
    axis per learning rate, per other hyperparameter given as a list, per start point and
    per seed. With ``grid = [len(coords[a]) for a in axes]``:

    * ``positions``: ``[*grid, steps + 1, dim]``, the start and the position after each step
      (NaN after a divergence);
    * ``losses``, ``grad_norms``: ``[*grid, steps + 1]``, the landscape's (noise-free,
      full-data) loss and gradient norm at each position;
    * ``outcome``: ``[*grid]`` codes into :data:`OUTCOMES`; ``minimum``: index into
      ``landscape.minima`` (saddle outcome: into ``landscape.saddles``), -1 if none;
      ``diverged_step``: the step at which a trajectory diverged, -1 if it did not;
      ``arrival_step``: the first step from which it stayed within ``tol`` of its minimum.
    """

    label: str
    optimizer: str
    hyperparameters: dict[str, Any]
    axes: tuple[str, ...]
    coords: dict[str, Any]
    positions: Tensor
    losses: Tensor
    grad_norms: Tensor
    outcome: Tensor
    minimum: Tensor
    diverged_step: Tensor
    arrival_step: Tensor
    batched: bool

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(self.outcome.shape)

    @property
    def lrs(self) -> list[float]:
        return [float(v) for v in self.coords["lr"]]

    def outcome_names(self) -> list[str]:
        """The outcome of every trajectory, flattened in grid order."""
        return [OUTCOMES[int(c)] for c in self.outcome.flatten()]

    def trajectories(self) -> Iterator[tuple[dict[str, Any], Tensor]]:
        """(coordinates, positions ``[steps + 1, dim]``) for every trajectory, in grid order."""
        grid = self.grid_shape
        flat = self.positions.reshape(-1, *self.positions.shape[-2:])
        for k, index in enumerate(_product(grid)):
            where = {}
            for axis, i in zip(self.axes, index, strict=True):
                value = self.coords[axis][i]
                where[axis] = value.tolist() if isinstance(value, Tensor) else value
            yield where, flat[k]

    def final_losses(self) -> Tensor:
        """Loss at the last recorded position (inf where the trajectory diverged)."""
        last = self.losses[..., -1].clone()
        return torch.where(self.diverged_step >= 0, torch.full_like(last, math.inf), last)


@dataclass
class RaceResult:
    """Every optimizer's :class:`Run` on one landscape, plus the race's settings."""

    landscape: Landscape
    runs: dict[str, Run]
    steps: int
    starts: Tensor
    seeds: tuple[int, ...]
    tol: float
    bound: tuple[Tensor, Tensor]
    schedules: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, label: str) -> Run:
        return self.runs[label]

    @property
    def labels(self) -> list[str]:
        return list(self.runs)

    def settings(self) -> str:
        """One line stating the race's settings, for figure captions."""
        lrs = []
        for label, run in self.runs.items():
            values = run.lrs
            if len(values) == 1:
                lrs.append(f"{label} {values[0]:g}")
            else:
                lrs.append(f"{label} {len(values)} lrs {min(values):g}..{max(values):g}")
        grids = {tuple(run.lrs) for run in self.runs.values()}
        if len(grids) == 1 and len(self.runs) > 1:
            values = next(iter(grids))
            if len(values) == 1:
                lrs = [f"{values[0]:g} for all"]
            else:
                lrs = [f"{len(values)} values {min(values):g}..{max(values):g} for all"]
        parts = [self.landscape.settings(), f"{self.steps} steps", "lr: " + ", ".join(lrs)]
        if len(self.starts) > 1:
            parts.append(f"{len(self.starts)} starts")
        for label, run in self.runs.items():
            shown = ", ".join(f"{k}={_short(v)}" for k, v in run.hyperparameters.items())
            varying = [a for a in run.axes if a not in {"lr", "start", "seed"}]
            shown = ", ".join(filter(None, [shown, *(f"{a} varies" for a in varying)]))
            if shown:
                parts.append(f"{label}: {shown}")
        if self.landscape.stochastic:
            parts.append(f"{len(self.seeds)} seed(s)")
        if self.schedules:
            parts.append("scheduled: " + ", ".join(self.schedules))
        return "; ".join(parts)

    def summary(self) -> list[tuple[str, ...]]:
        """A table: one row per optimizer and learning rate, outcomes counted over the rest."""
        rows = [("optimizer", "lr", "final loss (median)", *OUTCOMES)]
        for label, run in self.runs.items():
            final = run.final_losses()
            for i, lr in enumerate(run.lrs):
                codes = run.outcome[i].flatten()
                counts = [str(int((codes == c).sum())) for c in range(len(OUTCOMES))]
                med = float(final[i].flatten().median())
                rows.append((label, f"{lr:g}", f"{med:.4g}", *counts))
        return rows


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


# ------------------------------------------------------------------------------ the race


@dataclass
class _Entry:
    label: str
    info: OptimizerInfo
    lrs: list[float]
    fixed: dict[str, Any]
    varying: dict[str, list[Any]]


def _entries(optimizers: Any, lrs: Any) -> list[_Entry]:
    if isinstance(optimizers, str | type):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, Sequence):
        items = [(o if isinstance(o, str) else o.__name__, {"optimizer": o}) for o in optimizers]
    else:
        raise TypeError(
            "optimizers must be a name, a class, a list of them, or a mapping label -> "
            f"hyperparameters; got {type(optimizers).__name__}"
        )
    if not items:
        raise ValueError("optimizers: give at least one optimizer")
    entries = []
    for label, spec in items:
        if spec is None:
            spec = {}
        if not isinstance(spec, Mapping):
            raise TypeError(f"optimizer {label!r}: hyperparameters must be a mapping, got {spec!r}")
        spec = dict(spec)
        which = spec.pop("optimizer", label)
        if not isinstance(which, str) and not (
            isinstance(which, type) and issubclass(which, torch.optim.Optimizer)
        ):
            raise TypeError(f"optimizer {label!r}: not an optimizer name or class: {which!r}")
        info = resolve(which)
        cls = info.cls
        takes_lr = "lr" in info.defaults
        if not takes_lr:  # e.g. Levenberg-Marquardt: its step length comes from its damping
            if "lr" in spec:
                raise ValueError(f"optimizer {label!r}: {cls.__name__} has no learning rate")
            lr_spec = math.nan
        else:
            lr_spec = spec.pop("lr", lrs)
        if lr_spec is None:
            default = info.defaults.get("lr")
            if default is None:
                raise ValueError(f"optimizer {label!r}: give a learning rate (lrs=...)")
            lr_spec = default
        lr_values = _as_list("lr", label, lr_spec)
        if takes_lr:
            _check_lrs(label, lr_values)
        fixed, varying = {}, {}
        for key, value in spec.items():
            if isinstance(value, list) or (isinstance(value, Tensor) and value.ndim == 1):
                values = value.tolist() if isinstance(value, Tensor) else list(value)
                if not values:
                    raise ValueError(f"optimizer {label!r}: {key} lists no values")
                if any(isinstance(v, bool) for v in values):
                    raise ValueError(
                        f"optimizer {label!r}: {key} is a switch and cannot vary within a race; "
                        "race two entries instead"
                    )
                varying[key] = values
            else:
                fixed[key] = value
        entries.append(_Entry(str(label), info, lr_values, fixed, varying))
    return entries


def check_raceable(landscape: Landscape, optimizer: str | type, label: str | None = None) -> None:
    """Raise ValueError, naming the landscapes that would do, when ``optimizer`` (a name or a
    class) needs a model's outputs or layers that ``landscape`` does not define."""
    info = resolve(optimizer)
    cls = info.cls
    label = label or (optimizer if isinstance(optimizer, str) else cls.__name__)
    kind = info.closure_kind
    if kind not in ("outputs", "model"):
        return
    model = landscape.model
    if kind == "outputs" and model is None:
        raise ValueError(
            f"optimizer {label!r}: {cls.__name__} needs a model's outputs and per-example "
            f"losses, which {landscape.name} does not define; race it on {_have('outputs')}"
        )
    if kind == "model" and (model is None or model.inputs is None):
        raise ValueError(
            f"optimizer {label!r}: {cls.__name__} needs the layers of a model, and "
            f"{landscape.name} is not a linear model; race it on {_have('layers')}"
        )


def _have(what: str) -> str:
    from . import landscapes

    names = []
    for name in landscapes.names():
        try:
            model = landscapes.get(name).model
        except Exception:  # a landscape that cannot be built with its defaults
            continue
        if model is not None and (what == "outputs" or model.inputs is not None):
            names.append(name)
    return "one of " + ", ".join(names) + (" (without added noise)" if what == "outputs" else "")


def _check_lrs(label: str, values: list[Any]) -> None:
    """Every lr a finite number >= 0, checked as one array (grids hold thousands); the
    values become plain floats."""
    try:
        arr = torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        arr = None
    if arr is not None and arr.ndim == 1:
        bad = ~(torch.isfinite(arr) & (arr >= 0))
        if not bool(bad.any()):
            values[:] = arr.tolist()
            return
        v = values[int(bad.nonzero()[0])]
    else:
        v = next(
            (v for v in values if isinstance(v, bool) or not isinstance(v, int | float)), values
        )
    raise ValueError(f"optimizer {label!r}: invalid lr={v!r}; allowed: a number >= 0")


def _as_list(key: str, label: str, value: Any) -> list[Any]:
    if isinstance(value, Tensor):
        return value.flatten().tolist()
    if isinstance(value, list | tuple):
        if not value:
            raise ValueError(f"optimizer {label!r}: {key} lists no values")
        return list(value)
    return [value]


def _starts(landscape: Landscape, starts: Any, dtype: torch.dtype) -> Tensor:
    if starts is None:
        if not landscape.default_start:
            raise ValueError(f"{landscape.name} has no default start; pass starts=")
        return landscape.start(dtype)[None]
    s = torch.as_tensor(starts, dtype=dtype)
    if s.ndim == 1:
        s = s[None]
    if s.ndim != 2 or s.shape[-1] != landscape.dim or s.shape[0] == 0:
        raise ValueError(
            f"starts must be one point or a list of points with {landscape.dim} coordinates "
            f"each, got shape {tuple(s.shape)}"
        )
    if not torch.isfinite(s).all():
        raise ValueError("starts must be finite")
    return s


def _product(shape: Sequence[int]) -> Iterator[tuple[int, ...]]:
    import itertools

    return itertools.product(*(range(n) for n in shape))


def race(
    landscape: Landscape | str,
    optimizers: Any,
    *,
    lrs: float | Sequence[float] | Tensor | None = None,
    starts: Any = None,
    steps: int = 100,
    seeds: int | Sequence[int] = (0,),
    schedules: Mapping[str, Mapping[str, Any]] | None = None,
    tol: float | None = None,
    bound: float = 10.0,
    dtype: torch.dtype = torch.float64,
    progress: Callable[[int], None] | None = None,
) -> RaceResult:
    """Race ``optimizers`` on ``landscape`` over every combination of lr, start and seed.

    Args:
        landscape: a :class:`~ravine.landscapes.Landscape` or a name for
            :func:`ravine.landscapes.get`.
        optimizers: a name (``"adam"``), a class, a list of them, or a mapping
            ``label -> {"optimizer": name_or_class, **hyperparameters}`` (``optimizer``
            defaults to the label). A hyperparameter given as a list (or 1-D tensor) varies
            across the batch and becomes a grid axis; ``lr`` there overrides ``lrs``.
        lrs: learning rate(s) for every optimizer without its own; default: each optimizer's
            default lr.
        starts: one point ``[dim]`` or points ``[S, dim]``; default the landscape's.
        steps: optimizer steps per trajectory.
        seeds: noise seeds (stochastic landscapes): every trajectory with seed s sees the
            same noise sequence, so optimizers and learning rates meet the same noise.
        schedules: ``label -> {hyperparameter: schedule}``, applied with
            ``ravine.schedules.Scheduler`` after every step.
        tol: distance within which a final position counts as at a known minimum or saddle;
            default 1e-3 times the diagonal of the landscape's domain.
        bound: a trajectory diverges when it leaves the domain enlarged ``bound`` times about
            its centre (or becomes non-finite).
        dtype: float64 by default (exact comparisons), float32 for speed.
        progress: called with the number of trajectory-steps done after each step.

    Returns:
        A :class:`RaceResult`; see :class:`Run` for the axes of its tensors.
    """
    if isinstance(landscape, str):
        landscape = get_landscape(landscape)
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be a Landscape or a name, got {type(landscape).__name__}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    seed_list = [seeds] if isinstance(seeds, int) else list(seeds)
    if not seed_list or any(
        isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seed_list
    ):
        raise ValueError(f"seeds must be integers >= 0 (at least one), got {seeds!r}")
    if not (isinstance(bound, int | float) and bound >= 1):
        raise ValueError(f"bound must be a number >= 1, got {bound!r}")
    entries = _entries(optimizers, lrs)
    for entry in entries:
        check_raceable(landscape, entry.info.cls, entry.label)
    labels = [e.label for e in entries]
    if len(set(labels)) != len(labels):
        raise ValueError(f"optimizer labels must be distinct, got {labels}")
    schedules = dict(schedules or {})
    unknown = set(schedules) - set(labels)
    if unknown:
        raise ValueError(f"schedules name unknown optimizers {sorted(unknown)}; racing {labels}")
    start_pts = _starts(landscape, starts, dtype)
    lo, hi = landscape.box(dtype)
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    box = (centre - bound * half, centre + bound * half)
    if tol is None:
        tol = 1e-3 * float((hi - lo).norm())
    if not (isinstance(tol, int | float) and tol > 0):
        raise ValueError(f"tol must be a number > 0, got {tol!r}")

    runs = {}
    for entry in entries:
        runs[entry.label] = _run(
            landscape,
            entry,
            start_pts,
            seed_list,
            steps,
            schedules.get(entry.label),
            box,
            float(tol),
            dtype,
            progress,
        )
    return RaceResult(
        landscape=landscape,
        runs=runs,
        steps=steps,
        starts=start_pts,
        seeds=tuple(seed_list),
        tol=float(tol),
        bound=box,
        schedules=schedules,
    )


def _run(
    landscape: Landscape,
    entry: _Entry,
    starts: Tensor,
    seeds: list[int],
    steps: int,
    schedule: Mapping[str, Any] | None,
    box: tuple[Tensor, Tensor],
    tol: float,
    dtype: torch.dtype,
    progress: Callable[[int], None] | None,
) -> Run:
    axes = ("lr", *entry.varying, "start", "seed")
    values: list[list[Any]] = [entry.lrs, *entry.varying.values()]
    grid = (*(len(v) for v in values), len(starts), len(seeds))
    n = math.prod(grid)
    index = torch.stack(
        torch.meshgrid(*(torch.arange(k) for k in grid), indexing="ij"), dim=-1
    ).reshape(n, len(grid))
    x0 = starts[index[:, -2]]
    seed_index = index[:, -1]
    # Per-row hyperparameters: [N, 1] tensors (pairs such as betas: tuples of them).
    per_row: dict[str, Any] = {}
    takes_lr = "lr" in entry.info.defaults
    for k, (key, vals) in enumerate(zip(("lr", *entry.varying), values, strict=True)):
        if key == "lr" and not takes_lr:
            continue
        rows = index[:, k]
        if isinstance(vals[0], tuple | list):
            width = len(vals[0])
            table = torch.tensor([list(v) for v in vals], dtype=dtype)
            per_row[key] = tuple(table[rows, j][:, None] for j in range(width))
        else:
            table = torch.tensor(vals, dtype=dtype)
            per_row[key] = table[rows][:, None]

    batched = entry.info.elementwise
    # Positions are recorded as [steps + 1, dim, n]: one contiguous row per step. The Run's
    # [*grid, steps + 1, dim] tensor is a view of it, never a copy (on this scale a copy of
    # the record costs as much as the page faults of writing it).
    record = torch.empty(steps + 1, landscape.dim, n, dtype=dtype)
    if batched:
        hp = {}
        for key, v in per_row.items():
            single = len(entry.lrs) == 1 if key == "lr" else False
            hp[key] = float(entry.lrs[0]) if single else v
        captured = _advance_batched(
            landscape, entry, hp, x0, seed_index, seeds, steps, schedule, record, progress
        )
        diverged = _first_exit(record, box)
    else:
        captured = None
        diverged = torch.full((n,), -1, dtype=torch.long)
        for i in range(n):
            hp = {
                key: tuple(float(t[i]) for t in v) if isinstance(v, tuple) else float(v[i])
                for key, v in per_row.items()
            }
            diverged[i] = _advance_one(
                landscape,
                entry,
                hp,
                x0[i : i + 1],
                seed_index[i : i + 1],
                seeds,
                steps,
                schedule,
                box,
                record[:, :, i],
                progress,
            )

    # Positions after a divergence are NaN (the divergence step itself keeps its value).
    gone = diverged >= 0
    if bool(gone.any()):
        after = torch.arange(steps + 1)[:, None] > diverged[None, :]
        after &= gone[None, :]  # [steps + 1, n]
        record.masked_fill_(after[:, None, :], math.nan)
    else:
        after = None
    if captured is not None:
        losses, grad_norms = captured
        _finish_captured(landscape, record, losses, grad_norms, diverged, after)
    else:
        losses, grad_norms = _evaluate(landscape, record)
    outcome, minimum, arrival = _outcomes(landscape, record, diverged, tol)
    coords: dict[str, Any] = {"lr": torch.tensor(entry.lrs, dtype=torch.float64)}
    for key, vals in entry.varying.items():
        coords[key] = torch.tensor(vals, dtype=torch.float64)
    coords["start"] = starts.clone()
    coords["seed"] = torch.tensor(seeds)
    return Run(
        label=entry.label,
        optimizer=entry.info.name,
        hyperparameters=dict(entry.fixed),
        axes=axes,
        coords=coords,
        positions=record.permute(2, 0, 1).reshape(*grid, steps + 1, landscape.dim),
        losses=losses.T.reshape(*grid, steps + 1),
        grad_norms=grad_norms.T.reshape(*grid, steps + 1),
        outcome=outcome.reshape(grid),
        minimum=minimum.reshape(grid),
        diverged_step=diverged.reshape(grid),
        arrival_step=arrival.reshape(grid),
        batched=batched,
    )


def _optimizer(
    entry: _Entry, x: Any, hp: dict[str, Any], schedule: Any, landscape: Landscape | None = None
) -> tuple[Any, Any]:
    """The optimizer over ``x`` (a tensor, or the layer that holds it for "model" optimizers)
    and its scheduler."""
    info = entry.info
    kwargs = {**entry.fixed, **hp}
    if info.is_ravine:
        kwargs["check_finite"] = False
    model = landscape.model if landscape is not None else None
    if model is not None and "likelihood" in info.defaults:
        kwargs.setdefault("likelihood", model.likelihood)  # the Fisher of the landscape's loss
    try:
        opt = info.build(x if isinstance(x, torch.nn.Module) else [x], **kwargs)
    except ValueError as err:
        raise ValueError(f"{entry.label}: {err}") from None
    scheduler = None
    if schedule:
        from . import schedules as _schedules

        scheduler = _schedules.Scheduler(opt, dict(schedule))
    return opt, scheduler


class _Noise:
    """Each trajectory's noise (or mini-batch) for the step, drawn from its seed's stream."""

    def __init__(self, landscape: Landscape, seed_index: Tensor, seeds: list[int]) -> None:
        self.landscape = landscape
        self.used = sorted(set(seed_index.tolist()))
        self.gens = [landscape.generator(seeds[s]) for s in self.used]
        self.local = torch.tensor([self.used.index(s) for s in seed_index.tolist()])
        self.sample: Tensor | None = None

    def draw(self, dtype: torch.dtype) -> None:
        draws = torch.stack([self.landscape.draw(g, dtype) for g in self.gens])
        self.sample = draws[self.local]


def _advance_batched(
    landscape: Landscape,
    entry: _Entry,
    hp: dict[str, Any],
    x0: Tensor,
    seed_index: Tensor,
    seeds: list[int],
    steps: int,
    schedule: Mapping[str, Any] | None,
    record: Tensor,
    progress: Callable[[int], None] | None,
) -> tuple[Tensor, Tensor] | None:
    """Advance all rows of ``x0`` ([n, dim]) together, writing ``record`` ([steps + 1, dim, n]).

    The parameter is stored transposed, ``[dim, n]``, with hyperparameters of shape
    ``[1, n]``: every elementwise op then runs over contiguous memory with the batch as its
    inner loop. The landscape sees the ``[n, dim]`` view. Rows are independent, so a row that
    diverges cannot disturb the others; divergence is found afterwards from the record.

    On a deterministic landscape, when the optimizer takes its gradient once per step at the
    current point (no look-ahead: ``x`` was not moved in place before the closure ran), the
    closure's loss and gradient are those of the position
    before the step: they are kept as the record's losses and squared gradient norms, and
    returned, instead of evaluating the landscape again afterwards. Otherwise returns None.
    """
    n = x0.shape[0]
    x = x0.T.contiguous().requires_grad_(True)
    hp = {k: _transpose(v) for k, v in hp.items()}
    opt, scheduler = _optimizer(entry, x, hp, schedule)
    noise = _Noise(landscape, seed_index, seeds) if landscape.stochastic else None
    fn = landscape.fn
    capture = noise is None
    if capture:
        losses = torch.empty(steps + 1, n, dtype=x.dtype)
        norms = torch.empty(steps + 1, n, dtype=x.dtype)
    calls = [0]
    seen: list[Tensor] = []
    version = [x._version]  # x moved in place since the step began: a look-ahead point

    written = landscape.value_and_grad if noise is None else None

    def closure() -> Tensor:
        calls[0] += 1
        if written is not None:  # the landscape's own gradient: no graph, no backward pass
            f, g = written(x.detach().T)
            x.grad = g.T
            loss = f.sum()
        else:
            x.grad = None
            with torch.enable_grad():
                f = landscape.sample_loss(x.T, noise.sample) if noise is not None else fn(x.T)
                loss = f.sum()
                loss.backward()
        if capture and x._version == version[0]:
            seen[:] = [f]
        return loss

    record[0] = x.detach()
    for k in range(1, steps + 1):
        if noise is not None:
            noise.draw(x.dtype)
        calls[0] = 0
        seen.clear()
        version[0] = x._version
        opt.step(closure)
        if capture:
            if calls[0] != 1 or not seen:  # a line search or a look-ahead: evaluate afterwards
                capture = False
            else:
                losses[k - 1] = seen[0].detach()
                _norm(x.grad, out=norms[k - 1])
        if scheduler is not None:
            scheduler.step()
        record[k] = x.detach()
        if progress is not None:
            progress(n)
    return (losses, norms) if capture else None


def _norm(g: Tensor, out: Tensor) -> Tensor:
    """The Euclidean norm over the leading axis of ``g`` ([dim, n]) into ``out`` ([n]).

    Written elementwise because reductions over a short leading axis are slow in torch on
    CPU (a norm over ``dim=0`` of a [2, 16384] tensor takes 50 times ``hypot``)."""
    if len(g) == 1:
        return torch.abs(g[0], out=out)
    if len(g) == 2:
        return torch.hypot(g[0], g[1], out=out)
    torch.mul(g[0], g[0], out=out)
    for row in g[1:]:
        out.addcmul_(row, row)
    return out.sqrt_()


def _first_exit(record: Tensor, box: tuple[Tensor, Tensor], block: int = 1 << 16) -> Tensor:
    """The first step at which each row of ``record`` ([steps + 1, dim, n]) leaves ``box``
    or is non-finite (NaN compares False), -1 for none. The start is not checked.

    Each coordinate's extremes over the run (NaN propagates through them) pick out the rows
    that ever leave; only those are compared step by step, a few steps at a time into
    reused buffers: no fresh temporaries the size of the record (first writes to fresh
    memory cost as much as the comparisons)."""
    rows, n = record.shape[0], record.shape[-1]
    first = torch.full((n,), -1, dtype=torch.long)
    if rows < 2:
        return first
    lo, hi = (b.to(record.dtype)[:, None] for b in box)  # [dim, 1]
    path = record[1:]
    top, bottom = path.amax(0), path.amin(0)  # [dim, n]
    leaves = ~((bottom >= lo) & (top <= hi)).all(0)  # NaN compares False
    gone = leaves.nonzero().flatten()
    if not len(gone):
        return first
    sub = record[:, :, gone]  # [steps + 1, dim, k]
    k = sub.shape[-1]
    outside = torch.empty(rows, k, dtype=torch.bool)
    outside[0] = False
    per = max(1, block // max(1, k))
    ok = torch.empty(per, k, dtype=torch.bool)
    tmp = torch.empty(per, k, dtype=torch.bool)
    bounds = list(zip(box[0].tolist(), box[1].tolist(), strict=True))
    for a in range(1, rows, per):
        b = min(rows, a + per)
        acc, scratch = ok[: b - a], tmp[: b - a]
        for d, (low, high) in enumerate(bounds):
            coord = sub[a:b, d]
            if d == 0:
                torch.ge(coord, low, out=acc)
            else:
                torch.ge(coord, low, out=scratch)
                acc.logical_and_(scratch)
            torch.le(coord, high, out=scratch)
            acc.logical_and_(scratch)
        torch.logical_not(acc, out=outside[a:b])
    first[gone] = outside.T.contiguous().to(torch.uint8).argmax(1)  # the first True
    return first


def _finish_captured(
    landscape: Landscape,
    record: Tensor,
    losses: Tensor,
    norms: Tensor,
    diverged: Tensor,
    after: Tensor | None,
) -> None:
    """Complete the captured losses and norms: the final position (never a closure's point)
    is evaluated here, and the rows are NaN after a divergence (as the positions are)."""
    f, g = _loss_and_gradient(landscape, record[-1].T)
    losses[-1] = f
    _norm(g.T, out=norms[-1])
    if after is not None:
        losses.masked_fill_(after, math.nan)
        norms.masked_fill_(after, math.nan)


def _advance_one(
    landscape: Landscape,
    entry: _Entry,
    hp: dict[str, Any],
    x0: Tensor,
    seed_index: Tensor,
    seeds: list[int],
    steps: int,
    schedule: Mapping[str, Any] | None,
    box: tuple[Tensor, Tensor],
    record: Tensor,
    progress: Callable[[int], None] | None,
) -> int:
    """One trajectory as a ``[1, dim]`` parameter, writing ``record`` ([steps + 1, dim]);
    returns the step at which it diverged (it stops there), or -1."""
    kind = entry.info.closure_kind
    noise = _Noise(landscape, seed_index, seeds) if landscape.stochastic else None
    model = landscape.model
    if kind == "model":  # a bias-free linear layer whose weight [1, dim] is the trajectory
        layer = torch.nn.Linear(x0.shape[1], 1, bias=False, dtype=x0.dtype)
        layer.weight = torch.nn.Parameter(x0.clone())
        x = layer.weight
        opt, scheduler = _optimizer(entry, layer, hp, schedule, landscape)
    else:
        x = x0.clone().requires_grad_(True)
        opt, scheduler = _optimizer(entry, x, hp, schedule, landscape)
    fn = landscape.fn

    def sample() -> Tensor | None:
        return None if noise is None else noise.sample[0]

    def reduce(per_example: Tensor) -> Tensor:
        return per_example.sum() if model.reduction == "sum" else per_example.mean()

    def zero_grad() -> None:
        x.grad = None

    def loss() -> Tensor:
        if kind == "model":  # through the layer, so that its hooks see inputs and outputs
            z = layer(model.inputs(sample()).to(x.dtype))[:, 0]
            return reduce(model.loss(z, sample()))
        return (landscape.sample_loss(x, noise.sample) if noise is not None else fn(x)).sum()

    def outputs() -> tuple[Tensor, Tensor]:  # per-example losses and the model's outputs
        z = model.outputs(x[0], sample())
        return model.loss(z, sample()), z

    closure = make_closure(kind, zero_grad=zero_grad, loss=loss, outputs=outputs)

    lo, hi = box
    record[0] = x.detach()[0]
    for k in range(1, steps + 1):
        if noise is not None:
            noise.draw(x.dtype)
        opt.step(closure)
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            now = x.detach()[0]
            record[k] = now
            if not bool(((now >= lo) & (now <= hi)).all()):  # NaN compares False
                record[k + 1 :] = math.nan
                if progress is not None:
                    progress(steps - k + 1)
                return k
        if progress is not None:
            progress(1)
    return -1


def _transpose(v: Any) -> Any:
    if isinstance(v, tuple):
        return tuple(_transpose(u) for u in v)
    return v.T if isinstance(v, Tensor) else v


def _loss_and_gradient(landscape: Landscape, points: Tensor) -> tuple[Tensor, Tensor]:
    """Noise-free loss ``[...]`` and gradient ``[..., dim]`` at ``points`` ``[..., dim]``."""
    if landscape.value_and_grad is not None:
        return landscape.value_and_grad(points.detach())
    pts = points.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        f = landscape.fn(pts)
        (g,) = torch.autograd.grad(f.sum(), pts)
    return f.detach(), g


def _evaluate(landscape: Landscape, record: Tensor, chunk: int = 1 << 16) -> tuple[Tensor, Tensor]:
    """Noise-free loss and gradient norm at every position of ``record`` ([steps + 1, dim, n]),
    as two [steps + 1, n] tensors, a few steps at a time."""
    rows, _, n = record.shape
    losses = torch.empty(rows, n, dtype=record.dtype)
    norms = torch.empty(rows, n, dtype=record.dtype)
    if hasattr(landscape, "_yx"):  # data landscapes hold a [points, data] product in memory
        chunk = max(1, chunk // max(1, landscape._yx.shape[0] // 16))
    per = max(1, chunk // max(1, n))
    for a in range(0, rows, per):
        f, g = _loss_and_gradient(landscape, record[a : a + per].transpose(1, 2))
        losses[a : a + per] = f
        norms[a : a + per] = g.square().sum(-1).sqrt_()
    return losses, norms


def _outcomes(
    landscape: Landscape, record: Tensor, diverged: Tensor, tol: float
) -> tuple[Tensor, Tensor, Tensor]:
    """Outcome codes, minimum (or saddle) index and arrival step of each trajectory, from
    ``record`` ([steps + 1, dim, n])."""
    n = record.shape[-1]
    outcome = torch.full((n,), MOVING, dtype=torch.int8)
    minimum = torch.full((n,), -1, dtype=torch.long)
    arrival = torch.full((n,), -1, dtype=torch.long)
    final = record[-1].T  # [n, dim]
    ok = diverged < 0
    for points, code in ((landscape.minima, CONVERGED), (landscape.saddles, SADDLE)):
        if not points:
            continue
        locs = torch.tensor([p.location for p in points], dtype=record.dtype)
        dist = (final[:, None, :] - locs).norm(dim=-1)  # [n, M]
        best, which = dist.min(dim=1)
        hit = ok & (best <= tol) & (outcome == MOVING)
        outcome[hit] = code
        minimum[hit] = which[hit]
        if code == CONVERGED and bool(hit.any()):
            rows = hit.nonzero().flatten()
            path = record[:, :, rows]  # [steps + 1, dim, h]
            target = locs[which[rows]].T  # [dim, h]
            outside = (path - target).square().sum(1) > tol * tol  # [steps + 1, h]
            idx = torch.arange(record.shape[0])[:, None].expand_as(outside)
            last_out = torch.where(outside, idx, -1).max(dim=0).values
            arrival[rows] = last_out + 1
    outcome[~ok] = DIVERGED
    return outcome, minimum, arrival


class _CallableModule(type(sys.modules[__name__])):
    """``ravine.race`` is both this module and the function: calling the module races."""

    def __call__(self, *args: Any, **kwargs: Any) -> RaceResult:
        return race(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
