"""The fast path of a batched race entry: the optimizer's rule called directly each step.

Through ``optimizer.step(closure)`` a step of a small race costs about 100 microseconds,
of which the landscape's gradient and the rule's own ops are a third; the rest is the
step's machinery (see :mod:`ravine.optim.stepper`). Here a step is the landscape's
hand-written loss and gradient, the rule (:class:`~ravine.optim.stepper.Stepper`) and one
copy of the new position into the record, which is the next step's parameter: nothing
else is written, no gradient is attached, nothing is read back from the device.

The numbers are those of the reference (the same ops on the same layouts, the look-ahead
point computed as ``step()`` computes it), bitwise: ``tests/race/test_fast.py`` proves it
for every racing optimizer of the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch

from ..landscapes import Landscape
from .measures import norm

__all__ = ["lockstep"]


def lockstep(
    landscape: Landscape, runs: list[Any], progress: Callable[[int], None] | None
) -> Iterator[int]:
    """Advance the entries ``runs`` (:class:`~ravine.race.engine.Advance`, each with its
    :class:`~ravine.optim.stepper.Stepper` ``rule`` over a ``[dim, n]`` parameter) one step
    at a time through their records ([steps + 1, dim, n]), yielding each step number once
    every entry has recorded it.

    Where the landscape's gradient is written by hand, one evaluation a step serves every
    entry (the columns of all entries side by side; its rows are independent, and
    ``tests/race/test_fast.py`` checks that each landscape gives every column the numbers it
    gives it alone); otherwise each entry is evaluated alone, as on the reference path.
    Sets each ``run.captured`` to the losses and gradient norms at the recorded positions
    where every gradient was taken there (no look-ahead); the last row is left to the
    caller, as on the reference path. A run's ``scheduler`` (or None) steps after each step,
    and its rule reads the hyperparameters it wrote."""
    record = runs[0].record
    steps, dtype = record.shape[0] - 1, record.dtype
    value_and_grad = _value_and_grad(landscape)
    groups = [runs] if landscape.value_and_grad is not None else [[r] for r in runs]
    ends = torch.tensor([0, *(r.record.shape[2] for r in runs)]).cumsum(0).tolist()
    spans = {id(r): (a, b) for r, a, b in zip(runs, ends, ends[1:], strict=False)}
    losses = torch.empty(steps + 1, ends[-1], dtype=dtype)
    norms = torch.empty(steps + 1, ends[-1], dtype=dtype)
    capture = {id(r): True for r in runs}
    at = {id(r): r.record[0] for r in runs}
    for r in runs:
        at[id(r)].copy_(r.rule.p.detach())
    for t in range(1, steps + 1):
        for group in groups:
            points = []
            for r in group:
                p = at[id(r)]
                offset = r.rule.offset(p, t)
                if offset is not None:
                    capture[id(r)] = False
                    p = p + offset
                points.append(p)
            x = points[0] if len(points) == 1 else torch.cat(points, dim=1)
            f, g = value_and_grad(x)
            a, b = spans[id(group[0])][0], spans[id(group[-1])][1]
            losses[t - 1, a:b] = f
            for r in group:
                a0, b0 = spans[id(r)]
                gr = g[:, a0 - a : b0 - a]
                if capture[id(r)]:  # hypot's vector loop rounds otherwise than its scalar one
                    norm(gr, out=norms[t - 1, a0:b0])
                new = r.rule.step(at[id(r)], gr, t)
                at[id(r)] = p = r.record[t]
                p.copy_(new)
                if r.scheduler is not None:
                    r.scheduler.step()
                    r.rule.refresh()
                if progress is not None:
                    progress(b0 - a0)
        yield t
    for r in runs:
        if capture[id(r)]:
            a, b = spans[id(r)]
            r.captured = (losses[:, a:b], norms[:, a:b])


def _value_and_grad(landscape: Landscape) -> Callable[[torch.Tensor], tuple[Any, torch.Tensor]]:
    """The losses ([n]) and gradient ([dim, n]) at ``x`` ([dim, n]), computed as the
    reference's closure computes them: the landscape's hand-written gradient where it has
    one, else a backward pass into a leaf of ``x``'s layout."""
    written = landscape.value_and_grad
    if written is not None:

        def by_hand(x: torch.Tensor) -> tuple[Any, torch.Tensor]:
            f, g = written(x.T)
            return f, g.T

        return by_hand

    def by_autograd(x: torch.Tensor) -> tuple[Any, torch.Tensor]:
        leaf = x.detach().requires_grad_(True)
        with torch.enable_grad():
            f = landscape.fn(leaf.T)
            f.sum().backward()
        return f.detach(), leaf.grad

    return by_autograd
