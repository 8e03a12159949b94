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
    steps = runs[0].record.shape[0] - 1
    value_and_grad = _value_and_grad(landscape)
    lanes, end = [], 0
    for run in runs:
        lanes.append(_Lane(run, end))
        end = lanes[-1].end
    groups = [lanes] if landscape.value_and_grad is not None else [[lane] for lane in lanes]
    losses = torch.empty(steps + 1, end, dtype=runs[0].record.dtype)
    loss_rows = losses.unbind(0)
    # Inference mode spares each op autograd's bookkeeping (a sixth of a step here); a
    # backward pass needs grad mode, so a landscape without a written gradient has no_grad.
    # Entered and left around each step: a generator must not yield inside a grad mode.
    mode = torch.inference_mode if landscape.value_and_grad is not None else torch.no_grad
    for t in range(1, steps + 1):
        with mode():
            for group in groups:
                points = [lane.point(t) for lane in group]
                x = points[0] if len(points) == 1 else torch.cat(points, dim=1)
                f, g = value_and_grad(x)
                first = group[0].begin
                loss_rows[t - 1][first : group[-1].end].copy_(f)
                for lane in group:
                    lane.step(g[:, lane.begin - first : lane.end - first], t)
                    if progress is not None:
                        progress(lane.end - lane.begin)
        yield t
    for lane in lanes:
        if lane.capture:
            lane.run.captured = (losses[:, lane.begin : lane.end], lane.norms)


class _Lane:
    """One entry of :func:`lockstep`: columns ``begin:end`` of the joint evaluation, its
    record's rows (the parameter of each step), its gradient norms."""

    def __init__(self, run: Any, begin: int) -> None:
        self.run, self.rule, self.scheduler = run, run.rule, run.scheduler
        record = run.record
        self.begin, self.end = begin, begin + record.shape[2]
        self.rows = record.unbind(0)
        self.norms = torch.empty(record.shape[0], record.shape[2], dtype=record.dtype)
        self.norm_rows = self.norms.unbind(0)
        self.capture = True
        self.p = self.rows[0]
        self.p.copy_(self.rule.p.detach())

    def point(self, t: int) -> torch.Tensor:
        """Where step ``t`` takes its gradient: the current position or its look-ahead."""
        offset = self.rule.offset(self.p, t)
        if offset is None:
            return self.p
        self.capture = False
        return self.p + offset

    def step(self, g: torch.Tensor, t: int) -> None:
        """Step ``t`` with the gradient ``g`` ([dim, n]) taken at :meth:`point`."""
        if self.capture:  # per entry: hypot's vector loop rounds otherwise than its scalar one
            norm(g, out=self.norm_rows[t - 1])
        new = self.rule.step(self.p, g, t)
        self.p = self.rows[t]
        self.p.copy_(new)
        if self.scheduler is not None:
            self.scheduler.step()
            self.rule.refresh()


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
