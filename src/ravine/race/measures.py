"""What a race measures from its record of positions: the first exit from the bounding box
(divergence), the noise-free loss and gradient norm at every position, and each
trajectory's outcome (converged to a known minimum, caught by a saddle, diverged, moving).

The record is ``[steps + 1, dim, n]``: one contiguous row per step, the batch innermost.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ..landscapes import Landscape

__all__ = [
    "CONVERGED",
    "DIVERGED",
    "ESCAPED",
    "MOVING",
    "OUTCOMES",
    "SADDLE",
    "blank_after_divergence",
    "escaped",
    "evaluate",
    "finish_captured",
    "first_exit",
    "loss_and_gradient",
    "norm",
    "outcomes",
]

#: Outcome codes of :attr:`ravine.race.Run.outcome`. A trajectory that leaves the box
#: (:func:`first_exit`) has *escaped* when it left downhill, at a loss below its start and
#: below every known minimum (a saddle's unbounded descent: x^2 - y^2 as y grows), and has
#: *diverged* otherwise.
OUTCOMES: tuple[str, ...] = ("moving", "converged", "diverged", "saddle", "escaped")
MOVING, CONVERGED, DIVERGED, SADDLE, ESCAPED = range(5)


def norm(g: Tensor, out: Tensor) -> Tensor:
    """The Euclidean norm over the leading axis of ``g`` ([dim, n]) into ``out`` ([n]).

    Written elementwise because reductions over a short leading axis are slow in torch on
    CPU (a norm over ``dim=0`` of a [2, 16384] tensor takes 50 times ``hypot``)."""
    dim = g.shape[0]  # not len(g): torch's __len__ costs a microsecond a call
    if dim == 1:
        return torch.abs(g[0], out=out)
    if dim == 2:
        return torch.hypot(*g.unbind(0), out=out)
    torch.mul(g[0], g[0], out=out)
    for row in g[1:]:
        out.addcmul_(row, row)
    return out.sqrt_()


def first_exit(record: Tensor, box: tuple[Tensor, Tensor], block: int = 1 << 16) -> Tensor:
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


def blank_after_divergence(record: Tensor, diverged: Tensor) -> Tensor | None:
    """Set the positions after each row's divergence step to NaN (the divergence step keeps
    its value); returns the ``[steps + 1, n]`` mask of the blanked steps, None if none."""
    gone = diverged >= 0
    if not bool(gone.any()):
        return None
    after = torch.arange(record.shape[0])[:, None] > diverged[None, :]
    after &= gone[None, :]  # [steps + 1, n]
    record.masked_fill_(after[:, None, :], math.nan)
    return after


def loss_and_gradient(landscape: Landscape, points: Tensor) -> tuple[Tensor, Tensor]:
    """Noise-free loss ``[...]`` and gradient ``[..., dim]`` at ``points`` ``[..., dim]``."""
    if landscape.value_and_grad is not None:
        return landscape.value_and_grad(points.detach())
    pts = points.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        f = landscape.fn(pts)
        (g,) = torch.autograd.grad(f.sum(), pts)
    return f.detach(), g


def finish_captured(
    landscape: Landscape, record: Tensor, losses: Tensor, norms: Tensor, after: Tensor | None
) -> None:
    """Complete the losses and norms captured from the step closures: the final position
    (never a closure's point) is evaluated here, and the rows are NaN after a divergence
    (``after``, as the positions are)."""
    f, g = loss_and_gradient(landscape, record[-1].T)
    losses[-1] = f
    norm(g.T, out=norms[-1])
    if after is not None:
        losses.masked_fill_(after, math.nan)
        norms.masked_fill_(after, math.nan)


def evaluate(landscape: Landscape, record: Tensor, chunk: int = 1 << 16) -> tuple[Tensor, Tensor]:
    """Noise-free loss and gradient norm at every position of ``record`` ([steps + 1, dim, n]),
    as two [steps + 1, n] tensors, a few steps at a time (fewer on a data landscape, whose
    evaluation holds a [points, examples] product in memory)."""
    rows, _, n = record.shape
    losses = torch.empty(rows, n, dtype=record.dtype)
    norms = torch.empty(rows, n, dtype=record.dtype)
    chunk = max(1, chunk // max(1, landscape.n_examples // 16))
    per = max(1, chunk // max(1, n))
    for a in range(0, rows, per):
        f, g = loss_and_gradient(landscape, record[a : a + per].transpose(1, 2))
        losses[a : a + per] = f
        norms[a : a + per] = g.square().sum(-1).sqrt_()
    return losses, norms


def outcomes(
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
            arrival[rows] = _arrival(record[:, :, rows], locs[which[rows]].T, tol)
    outcome[~ok] = DIVERGED
    outcome[escaped(landscape, record, diverged)] = ESCAPED
    return outcome, minimum, arrival


def escaped(landscape: Landscape, record: Tensor, diverged: Tensor) -> Tensor:
    """Which rows left the box downhill: the loss where they left is below the loss at
    their start and below the lowest known minimum (-inf counts, NaN does not)."""
    out = torch.zeros(record.shape[-1], dtype=torch.bool)
    gone = (diverged >= 0).nonzero().flatten()
    if not len(gone):
        return out
    best = landscape.global_minimum
    floor = best.value if best is not None else math.inf
    with torch.no_grad():
        at_exit = landscape.loss(record[diverged[gone], :, gone])  # [k]
        at_start = landscape.loss(record[0, :, gone].T)
    out[gone] = (at_exit < at_start) & (at_exit < floor)
    return out


def _arrival(path: Tensor, target: Tensor, tol: float) -> Tensor:
    """The first step of ``path`` ([steps + 1, dim, h]) from which each row stays within
    ``tol`` of its ``target`` ([dim, h])."""
    outside = (path - target).square().sum(1) > tol * tol  # [steps + 1, h]
    idx = torch.arange(path.shape[0])[:, None].expand_as(outside)
    return torch.where(outside, idx, -1).max(dim=0).values + 1
