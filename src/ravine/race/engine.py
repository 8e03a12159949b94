"""The race engine: every trajectory of one optimizer advanced, batched or one at a time.

For one optimizer, all combinations of learning rate, other varying hyperparameters, start
point and seed are N trajectories. They live in ONE parameter (stored as ``[dim, N]`` so the
batch is the contiguous inner loop; the landscape sees its ``[N, dim]`` view); varying
hyperparameters are tensors of shape ``[1, N]``, so a single ``optimizer.step()`` advances
all N through the same optimizer class that trains models. The loss is
``landscape.loss(x).sum()``: rows are independent, so each row's gradient is its own.

Optimizers whose class sets ``elementwise = False`` (second-order and quasi-Newton methods mix
coordinates) and optimizers that are not ravine optimizers (``torch.optim`` classes) run one
instance per trajectory on a ``[1, dim]`` parameter instead; the record has the same form.
Every step receives a closure, so look-ahead methods and line searches race too: the batched
closure writes the landscape's own gradient where it has one; the one-at-a-time closure is
the one :func:`ravine.optim.closures.make_closure` builds for the optimizer's
``closure_kind``.

Each entry advances as a generator (:class:`Advance`) that yields after every step, so
that a race can advance all its entries a few steps at a time and show its paths as they
grow (:func:`ravine.race.stream`). A batched entry whose optimizer is a plain rule takes
the fast path (:mod:`ravine.race.fast`): the rule called directly, the record its
parameter, the same numbers as ``optimizer.step()``.

Divergence is recorded, never raised: optimizers run with ``check_finite=False``. Batched
rows are independent, so a diverging row runs on without disturbing the others and is found
from the record afterwards (:func:`~ravine.race.measures.first_exit`); a single trajectory
stops where it diverges.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor

from ..landscapes import Landscape
from ..optim.closures import make_closure
from ..optim.stepper import Stepper, plain_step, stepper
from .fast import lockstep
from .measures import first_exit, norm
from .plan import Entry, RacePlan

__all__ = ["Advance", "advance", "lockstepped", "start"]

Progress = Callable[[int], None] | None


def advance(
    plan: RacePlan, entry: Entry, progress: Progress = None, fast: bool = True
) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor] | None]:
    """Advance every trajectory of ``entry``, in grid order (``plan.grid(entry)``).

    Returns the record of positions ``[steps + 1, dim, n]``, the step at which each
    trajectory diverged (-1: never) and, where the step closures saw them, the losses and
    gradient norms at the recorded positions (see :func:`_advance_batched`), else None.
    ``fast=False`` steps through ``optimizer.step()`` everywhere (the reference)."""
    (run,), drivers = start(plan, [entry], progress, fast)
    for steps in drivers:
        for _ in steps:
            pass
    return run.result()


def start(
    plan: RacePlan, entries: list[Entry], progress: Progress = None, fast: bool = True
) -> tuple[list[Advance], list[Iterator[int]]]:
    """An :class:`Advance` for each of ``entries``, and the generators that advance them,
    each yielding its step number after each step: one for all entries on the fast path
    (:func:`~ravine.race.fast.lockstep`, one evaluation of the landscape a step for all),
    one for each other entry."""
    runs = [Advance(plan, entry, progress, fast) for entry in entries]
    quick = [r for r in runs if r.rule is not None]
    drivers = [lockstep(plan.landscape, quick, progress)] if quick else []
    return runs, drivers + [r.steps for r in runs if r.steps is not None]


def lockstepped(plan: RacePlan, entry: Entry) -> bool:
    """Whether ``entry`` takes the fast path, whose entries :func:`start` advances together
    before the others: batched, on a deterministic landscape, its class's step its rule."""
    info = entry.info
    return info.elementwise and not plan.landscape.stochastic and plain_step(info.cls)


class Advance:
    """One entry's trajectories on their way: :attr:`steps` yields each step number once
    that step is in :attr:`record` (``[steps + 1, dim, n]``); :meth:`result` once it is
    exhausted gives what :func:`advance` returns."""

    def __init__(
        self, plan: RacePlan, entry: Entry, progress: Progress = None, fast: bool = True
    ) -> None:
        grid = plan.grid(entry)
        n = math.prod(grid)
        index = torch.stack(
            torch.meshgrid(*(torch.arange(k) for k in grid), indexing="ij"), dim=-1
        ).reshape(n, len(grid))
        x0 = plan.starts[index[:, -2]]
        seed_index = index[:, -1]
        per_row = _per_row(entry, index, plan.dtype)
        # Positions are recorded as [steps + 1, dim, n]: one contiguous row per step. The
        # Run's [*grid, steps + 1, dim] tensor is a view of it, never a copy (on this scale a
        # copy of the record costs as much as the page faults of writing it).
        self.record = torch.empty(plan.steps + 1, plan.landscape.dim, n, dtype=plan.dtype)
        self.captured: tuple[Tensor, Tensor] | None = None
        self.diverged = torch.full((n,), -1, dtype=torch.long)
        self.batched = entry.info.elementwise
        self._box = plan.box
        self.steps: Iterator[int] | None = None
        self.rule: Stepper | None = None  # the fast path's, driven by fast.lockstep
        if not self.batched:
            self.steps = _advance_each(plan, entry, per_row, x0, seed_index, self, progress)
            return
        hp = {k: _transpose(v) for k, v in per_row.items()}
        if len(entry.lrs) == 1 and "lr" in hp:
            hp["lr"] = float(entry.lrs[0])
        landscape = plan.landscape
        x = x0.T.contiguous().requires_grad_(True)
        opt, self.scheduler = _optimizer(entry, x, hp, landscape)
        if fast and lockstepped(plan, entry):
            self.rule = stepper(opt, x)
        if self.rule is None:
            self.steps = _advance_batched(plan, opt, self.scheduler, x, seed_index, self, progress)

    def result(self) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor] | None]:
        if self.batched:
            self.diverged = first_exit(self.record, self._box)
        return self.record, self.diverged, self.captured


def _advance_each(
    plan: RacePlan,
    entry: Entry,
    per_row: dict[str, Any],
    x0: Tensor,
    seed_index: Tensor,
    out: Advance,
    progress: Progress,
) -> Iterator[int]:
    """Every trajectory of a non-batched entry, each its own optimizer, all advanced one
    step before the next (each optimizer draws from its own generator, so the order does
    not change the numbers)."""
    live = []
    for i in range(x0.shape[0]):
        hp = {
            key: tuple(float(t[i]) for t in v) if isinstance(v, tuple) else float(v[i])
            for key, v in per_row.items()
        }
        rows = slice(i, i + 1)
        record = out.record[:, :, i]
        steps = _advance_one(plan, entry, hp, x0[rows], seed_index[rows], record, progress)
        live.append((i, steps))
    for k in range(1, plan.steps + 1):
        still = []
        for i, steps in live:
            diverged = next(steps)
            if diverged is None:
                still.append((i, steps))
            else:
                out.diverged[i] = diverged
        live = still
        yield k


def _per_row(entry: Entry, index: Tensor, dtype: torch.dtype) -> dict[str, Any]:
    """Each trajectory's learning rate and varying hyperparameters, as ``[n, 1]`` tensors
    (pairs such as betas: tuples of them); ``index`` ([n, axes]) locates rows in the grid."""
    per_row: dict[str, Any] = {}
    values: list[list[Any]] = [entry.lrs, *entry.varying.values()]
    for k, (key, vals) in enumerate(zip(("lr", *entry.varying), values, strict=True)):
        if key == "lr" and not entry.takes_lr:
            continue
        rows = index[:, k]
        if isinstance(vals[0], tuple | list):
            table = torch.tensor([list(v) for v in vals], dtype=dtype)
            per_row[key] = tuple(table[rows, j][:, None] for j in range(len(vals[0])))
        else:
            per_row[key] = torch.tensor(vals, dtype=dtype)[rows][:, None]
    return per_row


def _optimizer(entry: Entry, x: Any, hp: dict[str, Any], landscape: Landscape) -> tuple[Any, Any]:
    """The optimizer over ``x`` (a tensor, or the layer that holds it for "model" optimizers)
    and its scheduler."""
    info = entry.info
    kwargs = {**entry.fixed, **hp}
    if info.is_ravine:
        kwargs["check_finite"] = False
    if landscape.model is not None and "likelihood" in info.defaults:
        kwargs.setdefault("likelihood", landscape.model.likelihood)  # the Fisher of its loss
    try:
        opt = info.build(x if isinstance(x, torch.nn.Module) else [x], **kwargs)
    except ValueError as err:
        raise ValueError(f"{entry.label}: {err}") from None
    scheduler = None
    if entry.schedule:
        from .. import schedules

        scheduler = schedules.Scheduler(opt, dict(entry.schedule))
    return opt, scheduler


class _Noise:
    """Each trajectory's noise (or mini-batch) for the step, drawn from its seed's stream."""

    def __init__(self, landscape: Landscape, seed_index: Tensor, seeds: tuple[int, ...]) -> None:
        self.landscape = landscape
        self.used = sorted(set(seed_index.tolist()))
        self.gens = [landscape.generator(seeds[s]) for s in self.used]
        self.local = torch.tensor([self.used.index(s) for s in seed_index.tolist()])
        self.sample: Tensor | None = None

    def draw(self, dtype: torch.dtype) -> None:
        draws = torch.stack([self.landscape.draw(g, dtype) for g in self.gens])
        self.sample = draws[self.local]


class _BatchedClosure:
    """The closure of a batched step over ``x`` ([dim, n]): the landscape's own gradient
    where it has one (no graph, no backward pass), else autograd on the loss this step sees.

    It counts its calls in a step (:meth:`begin` starts one) and keeps the loss it computed
    at the step's own point, before anything moved ``x`` in place (a look-ahead point)."""

    def __init__(self, landscape: Landscape, x: Tensor, noise: _Noise | None) -> None:
        self.landscape, self.x, self.noise = landscape, x, noise
        self.written = landscape.value_and_grad if noise is None else None
        self.begin()

    def begin(self) -> None:
        self.calls = 0
        self.seen: Tensor | None = None
        self.version = self.x._version

    def at_start(self) -> Tensor | None:
        """The losses ([n]) at the step's own point when the step evaluated only there."""
        return self.seen if self.calls == 1 else None

    def __call__(self) -> Tensor:
        self.calls += 1
        x = self.x
        if self.written is not None:
            f, g = self.written(x.detach().T)
            x.grad = g.T
            loss = f.sum()
        else:
            x.grad = None
            with torch.enable_grad():
                noise = self.noise
                if noise is not None:
                    f = self.landscape.sample_loss(x.T, noise.sample)
                else:
                    f = self.landscape.fn(x.T)
                loss = f.sum()
                loss.backward()
        if x._version == self.version:
            self.seen = f
        return loss


def _single_closure(
    kind: str, landscape: Landscape, x: Tensor, layer: Any, noise: _Noise | None
) -> Callable[[], Any]:
    """The closure of one trajectory ``x`` ([1, dim]) for an optimizer of closure ``kind``;
    "model" optimizers see the loss through ``layer``, so that their hooks see its inputs
    and outputs."""
    model = landscape.model

    def sample() -> Tensor | None:
        return None if noise is None else noise.sample[0]

    def zero_grad() -> None:
        x.grad = None

    def loss() -> Tensor:
        if kind == "model":
            z = layer(model.inputs(sample()).to(x.dtype))[:, 0]
            per_example = model.loss(z, sample())
            return per_example.sum() if model.reduction == "sum" else per_example.mean()
        if noise is not None:
            return landscape.sample_loss(x, noise.sample).sum()
        return landscape.fn(x).sum()

    def outputs() -> tuple[Tensor, Tensor]:  # per-example losses and the model's outputs
        z = model.outputs(x[0], sample())
        return model.loss(z, sample()), z

    return make_closure(kind, zero_grad=zero_grad, loss=loss, outputs=outputs)


def _advance_batched(
    plan: RacePlan,
    opt: Any,
    scheduler: Any,
    x: Tensor,
    seed_index: Tensor,
    out: Advance,
    progress: Progress,
) -> Iterator[int]:
    """Advance all columns of ``x`` ([dim, n]) together through ``opt.step``, writing
    ``out.record`` ([steps + 1, dim, n]).

    The parameter is stored transposed, ``[dim, n]``, with hyperparameters of shape
    ``[1, n]``: every elementwise op then runs over contiguous memory with the batch as its
    inner loop. Rows are independent, so a row that diverges cannot disturb the others.

    On a deterministic landscape, when the optimizer takes its gradient once per step at the
    current point (no look-ahead, no line search), the closure's loss and gradient are those
    of the position before the step: they become ``out.captured``, the record's losses and
    gradient norms, instead of evaluating the landscape again afterwards."""
    landscape, steps, n, record = plan.landscape, plan.steps, x.shape[1], out.record
    noise = _Noise(landscape, seed_index, plan.seeds) if landscape.stochastic else None
    closure = _BatchedClosure(landscape, x, noise)
    capture = noise is None
    if capture:
        losses = torch.empty(steps + 1, n, dtype=x.dtype)
        norms = torch.empty(steps + 1, n, dtype=x.dtype)
    record[0] = x.detach()
    for k in range(1, steps + 1):
        if noise is not None:
            noise.draw(x.dtype)
        closure.begin()
        opt.step(closure)
        if capture:
            f = closure.at_start()
            if f is None:  # a line search or a look-ahead: evaluate afterwards
                capture = False
            else:
                losses[k - 1] = f.detach()
                norm(x.grad, out=norms[k - 1])
        if scheduler is not None:
            scheduler.step()
        record[k] = x.detach()
        if progress is not None:
            progress(n)
        yield k
    if capture:
        out.captured = (losses, norms)


def _advance_one(
    plan: RacePlan,
    entry: Entry,
    hp: dict[str, Any],
    x0: Tensor,
    seed_index: Tensor,
    record: Tensor,
    progress: Progress,
) -> Iterator[int | None]:
    """One trajectory as a ``[1, dim]`` parameter, writing ``record`` ([steps + 1, dim]);
    yields None after each step, or the step at which it diverged (and then stops, the rest
    of its record NaN)."""
    landscape, steps = plan.landscape, plan.steps
    kind = entry.info.closure_kind
    noise = _Noise(landscape, seed_index, plan.seeds) if landscape.stochastic else None
    layer = None
    if kind == "model":  # a bias-free linear layer whose weight [1, dim] is the trajectory
        layer = torch.nn.Linear(x0.shape[1], 1, bias=False, dtype=x0.dtype)
        layer.weight = torch.nn.Parameter(x0.clone())
        x = layer.weight
    else:
        x = x0.clone().requires_grad_(True)
    opt, scheduler = _optimizer(entry, layer if layer is not None else x, hp, landscape)
    closure = _single_closure(kind, landscape, x, layer, noise)
    lo, hi = plan.box
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
            inside = bool(((now >= lo) & (now <= hi)).all())  # NaN compares False
        if not inside:
            record[k + 1 :] = math.nan
            if progress is not None:
                progress(steps - k + 1)
            yield k  # outside the no_grad block: a generator keeps its grad mode to itself
            return
        if progress is not None:
            progress(1)
        yield None


def _transpose(v: Any) -> Any:
    if isinstance(v, tuple):
        return tuple(_transpose(u) for u in v)
    return v.T if isinstance(v, Tensor) else v
