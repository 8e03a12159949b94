"""A race streamed: every optimizer advanced a chunk of steps at a time, the paths so far
handed out after each chunk, the measured result with the last.

For interactive use (the explorer): the first paths can be drawn while the race runs on,
and a consumer that no longer wants a race (a start was dragged elsewhere) closes the
generator, or simply drops it, and no further step is computed. The numbers are those of
:func:`~ravine.race.run`: the same engine advances the same trajectories; only the order in
which entries take their steps differs, and each entry's optimizers keep their own state and
random generators, so the order changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .engine import start
from .plan import RacePlan
from .result import RaceResult
from .runner import result

__all__ = ["RaceChunk", "run_stream", "stream"]


@dataclass(frozen=True)
class RaceChunk:
    """A race after a chunk of steps.

    ``done``: the steps every trajectory has taken so far (the last chunk: all of them).
    ``positions``: label -> the positions recorded so far, ``[*grid, done + 1, dim]`` with
    the axes of :attr:`ravine.race.Run.positions`; ``[..., begin:, :]`` are this chunk's
    new ones. They are views of the race's record, never copied: a later chunk does not
    change them, but the final result blanks (NaN) each trajectory's positions after it
    diverged, which the views then show too.
    ``losses``: label -> the noise-free losses at those positions, ``[*grid, done + 1]``
    (for a loss-against-step chart while the race runs; the result's own may differ from
    them in the last digit where they come from the step's own evaluation, and are NaN
    after a trajectory diverged).
    ``begin``: the first step index new in this chunk (``done + 1`` minus its length).
    ``result``: the :class:`RaceResult` (losses, outcomes, ...) on the last chunk, else None.
    """

    done: int
    begin: int
    positions: dict[str, Tensor]
    losses: dict[str, Tensor]
    result: RaceResult | None = None


def stream(
    landscape: Any,
    optimizers: Any,
    *,
    every: int = 50,
    first: int | None = None,
    progress: Callable[[int], None] | None = None,
    **kwargs: Any,
) -> Iterator[RaceChunk]:
    """Race as :func:`ravine.race.race` does (``kwargs``: ``lrs``, ``starts``, ``steps``,
    ``seeds``, ``schedules``, ``tol``, ``bound``, ``dtype``), yielding a :class:`RaceChunk`
    after the first ``first`` steps (default ``every``), then after every ``every`` steps,
    and a last one, with the :class:`RaceResult`, when all steps are done::

        for chunk in ravine.race.stream("beale", ["sgd", "adam"], steps=500, every=100):
            draw(chunk.positions)              # [*grid, chunk.done + 1, dim] per label
        result = chunk.result

    Every argument is checked here, before the first chunk is asked for: a bad one raises
    :class:`~ravine.race.PlanError` from this call. Closing the returned generator (or
    dropping it) abandons the race at the current chunk's end. Chunks may be asked for from
    any thread (a web server's pool): no grad mode is held between them."""
    plan = RacePlan.build(landscape, optimizers, **kwargs)
    return run_stream(plan, every=every, first=first, progress=progress)


def run_stream(
    plan: RacePlan,
    *,
    every: int = 50,
    first: int | None = None,
    progress: Callable[[int], None] | None = None,
    fast: bool = True,
) -> Iterator[RaceChunk]:
    """:func:`stream` of a checked plan; ``fast=False`` as in :func:`~ravine.race.run`."""
    for name, value in (("every", every), ("first", every if first is None else first)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of steps >= 1, got {value!r}")
    return _chunks(plan, every, every if first is None else first, progress, fast)


def _chunks(
    plan: RacePlan, every: int, first: int, progress: Any, fast: bool
) -> Iterator[RaceChunk]:
    advances, drivers = start(plan, plan.entries, progress, fast)
    seen = [
        torch.empty(run.record.shape[0], run.record.shape[2], dtype=plan.dtype) for run in advances
    ]
    done, target = 0, min(first, plan.steps)
    while True:
        for steps in drivers:
            if target > done:
                for k in steps:
                    if k == target:
                        break
        begin, done = done + 1 if done else 0, target
        positions, losses = {}, {}
        for entry, run, f in zip(plan.entries, advances, seen, strict=True):
            grid = plan.grid(entry)
            with torch.no_grad():
                f[begin : done + 1] = plan.landscape.loss(
                    run.record[begin : done + 1].transpose(1, 2)
                )
            losses[entry.label] = f[: done + 1].T.reshape(*grid, done + 1)
            positions[entry.label] = (
                run.record[: done + 1].permute(2, 0, 1).reshape(*grid, done + 1, plan.landscape.dim)
            )
        if done == plan.steps:
            for steps in drivers:  # each generator's end: its results are set there
                for _ in steps:
                    pass
            yield RaceChunk(done, begin, positions, losses, result(plan, advances))
            return
        yield RaceChunk(done, begin, positions, losses)
        target = min(done + every, plan.steps)
