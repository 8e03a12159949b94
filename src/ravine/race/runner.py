"""A race from its plan to its result: advance each optimizer's trajectories, measure them,
and gather the measurements into a :class:`~ravine.race.result.RaceResult`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..landscapes import Landscape
from .engine import Advance, lockstepped, start
from .measures import blank_after_divergence, evaluate, finish_captured, outcomes
from .plan import Entry, RacePlan
from .result import RaceResult, Run

__all__ = ["costed", "measure", "race", "result", "run", "work_cost"]


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
        schedules: ``label -> {hyperparameter: schedule}`` (a schedule or its string form),
            applied with ``ravine.schedules.Scheduler`` after every step.
        tol: distance within which a final position counts as at a known minimum or saddle;
            default 1e-3 times the diagonal of the landscape's domain.
        bound: a trajectory diverges when it leaves the domain enlarged ``bound`` times about
            its centre (or becomes non-finite).
        dtype: float64 by default (exact comparisons), float32 for speed.
        progress: called with the number of trajectory-steps done after each step.

    Returns:
        A :class:`RaceResult`; see :class:`Run` for the axes of its tensors.

    Every argument is checked before any work (:meth:`RacePlan.build`); a
    :class:`~ravine.race.plan.PlanError` names the one at fault.
    """
    plan = RacePlan.build(
        landscape,
        optimizers,
        lrs=lrs,
        starts=starts,
        steps=steps,
        seeds=seeds,
        schedules=schedules,
        tol=tol,
        bound=bound,
        dtype=dtype,
    )
    return run(plan, progress=progress)


def run(
    plan: RacePlan, progress: Callable[[int], None] | None = None, *, fast: bool = True
) -> RaceResult:
    """Run a checked race plan; ``progress`` is called with the number of trajectory-steps
    done after each step (``plan.work`` in all). ``fast=False`` steps every optimizer
    through its ``step()`` (the reference the fast path is tested against,
    :mod:`ravine.race.fast`)."""
    advances, drivers = start(plan, plan.entries, progress, fast)
    for steps in drivers:
        for _ in steps:
            pass
    return result(plan, advances)


def result(plan: RacePlan, advances: list[Advance]) -> RaceResult:
    """The result of ``plan`` from each entry's finished :class:`Advance`."""
    runs = {
        entry.label: measure(plan, entry, *run.result())
        for entry, run in zip(plan.entries, advances, strict=True)
    }
    return RaceResult(
        landscape=plan.landscape,
        runs=runs,
        steps=plan.steps,
        starts=plan.starts,
        seeds=plan.seeds,
        tol=plan.tol,
        bound=plan.box,
        schedules=plan.schedules,
    )


def work_cost(plan: RacePlan, entry: Entry | None = None) -> int:
    """The race's work (or ``entry``'s) in cost units, proportional to its running time: a
    batched entry advances all its trajectories in one step, so it costs ``steps``; an entry
    run one trajectory at a time costs ``steps`` per trajectory. (``plan.work`` counts
    trajectory-steps, which make a batched entry of n trajectories look n times as long.)"""
    if entry is None:
        return sum(work_cost(plan, e) for e in plan.entries)
    return plan.steps * (1 if entry.info.elementwise else math.prod(plan.grid(entry)))


def costed(plan: RacePlan, update: Callable[[float], Any]) -> Callable[[int], None]:
    """A ``progress`` callback for :func:`run` (trajectory-steps) that calls ``update`` with
    the same work in cost units (:func:`work_cost`): the entries run in a known order (those
    of the fast path together first, then the others in turn), so the trajectory-steps done
    so far say which entry the next ones belong to."""
    order = sorted(plan.entries, key=lambda e: not lockstepped(plan, e))
    spans = [(plan.steps * math.prod(plan.grid(e)), work_cost(plan, e)) for e in order]
    state = {"entry": 0, "done": 0}

    def progress(n: int) -> None:
        while n > 0 and state["entry"] < len(spans):
            size, cost = spans[state["entry"]]
            take = min(n, size - state["done"])
            update(take * cost / size)
            n, state["done"] = n - take, state["done"] + take
            if state["done"] == size:
                state["entry"], state["done"] = state["entry"] + 1, 0

    return progress


def measure(
    plan: RacePlan,
    entry: Entry,
    record: Tensor,
    diverged: Tensor,
    captured: tuple[Tensor, Tensor] | None,
) -> Run:
    """One optimizer's trajectories (as :func:`~ravine.race.engine.advance` returns them),
    measured, as tensors with the axes of its grid."""
    landscape, steps = plan.landscape, plan.steps
    after = blank_after_divergence(record, diverged)
    if captured is not None:
        losses, grad_norms = captured
        finish_captured(landscape, record, losses, grad_norms, after)
    else:
        losses, grad_norms = evaluate(landscape, record)
    outcome, minimum, arrival = outcomes(landscape, record, diverged, plan.tol)
    coords: dict[str, Any] = {"lr": torch.tensor(entry.lrs, dtype=torch.float64)}
    for key, vals in entry.varying.items():
        coords[key] = torch.tensor(vals, dtype=torch.float64)
    coords["start"] = plan.starts.clone()
    coords["seed"] = torch.tensor(plan.seeds)
    grid = plan.grid(entry)
    return Run(
        label=entry.label,
        optimizer=entry.info.name,
        hyperparameters=dict(entry.fixed),
        axes=entry.axes,
        coords=coords,
        positions=record.permute(2, 0, 1).reshape(*grid, steps + 1, landscape.dim),
        losses=losses.T.reshape(*grid, steps + 1),
        grad_norms=grad_norms.T.reshape(*grid, steps + 1),
        outcome=outcome.reshape(grid),
        minimum=minimum.reshape(grid),
        diverged_step=diverged.reshape(grid),
        arrival_step=arrival.reshape(grid),
        batched=entry.info.elementwise,
    )
