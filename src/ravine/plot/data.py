"""The plain data behind the race figures, computed before anything is drawn (tests check
these numbers): the landscape on a grid, the loss gaps and the learning-rate sensitivity."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ..landscapes import Landscape
from ..race import RaceResult
from ..race.measures import DIVERGED, ESCAPED

__all__ = ["Grid", "Sensitivity", "loss_gaps", "sensitivity", "surface_grid"]


@dataclass
class Grid:
    """The landscape on a regular grid over its domain (first two coordinates; any further
    coordinates at their global-minimum value or 0). ``Z[i, j] = f(X[i, j], Y[i, j])``;
    ``levels`` are the contour levels (geometric above the minimum for log-scale surfaces)."""

    X: Tensor
    Y: Tensor
    Z: Tensor
    levels: Tensor
    log: bool


def surface_grid(landscape: Landscape, n: int = 200, levels: int = 30) -> Grid:
    """Evaluate ``landscape`` on an ``n`` x ``n`` grid over its domain."""
    if landscape.dim < 2:
        raise ValueError(f"{landscape.name}: a surface needs dim >= 2, got {landscape.dim}")
    (x0, x1), (y0, y1) = landscape.domain[:2]
    xs = torch.linspace(x0, x1, n, dtype=torch.float64)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    rest = torch.zeros(landscape.dim - 2, dtype=torch.float64)
    best = landscape.global_minimum
    if best is not None and landscape.dim > 2:
        rest = torch.tensor(best.location[2:], dtype=torch.float64)
    pts = torch.cat([X[..., None], Y[..., None], rest.expand(n, n, -1)], dim=-1)
    with torch.no_grad():
        Z = landscape.loss(pts)
    zmin, zmax = float(Z.min()), float(Z.max())
    if landscape.log_scale:
        floor = best.value if best is not None else zmin
        gap = (Z - floor).clamp_min(0)
        positive = gap[gap > 0]
        lo = float(positive.min()) if positive.numel() else 1e-12
        lo = max(lo, float(gap.max()) * 1e-10, 1e-12)
        lv = floor + torch.logspace(
            math.log10(lo), math.log10(float(gap.max())), levels, dtype=torch.float64
        )
        return Grid(X, Y, Z, lv, True)
    return Grid(X, Y, Z, torch.linspace(zmin, zmax, levels, dtype=torch.float64), False)


def loss_gaps(result: RaceResult) -> dict[str, Tensor]:
    """Per optimizer, f(x_k) - f* (``f*`` the global minimum value; the raw loss where the
    landscape has no minimum), shape ``[*grid, steps + 1]``."""
    best = result.landscape.global_minimum
    floor = best.value if best is not None else 0.0
    return {label: run.losses - floor for label, run in result.runs.items()}


@dataclass
class Sensitivity:
    """Final loss gap against learning rate, per optimizer: over every start and seed, the
    median (``center``, inf when most diverged), the range over the runs that did not
    diverge (``low``..``high``, NaN if none), the fraction that diverged and the fraction
    that escaped downhill (left the box with the loss unbounded below)."""

    lrs: dict[str, Tensor]
    center: dict[str, Tensor]
    low: dict[str, Tensor]
    high: dict[str, Tensor]
    diverged: dict[str, Tensor]
    escaped: dict[str, Tensor]


def sensitivity(result: RaceResult) -> Sensitivity:
    """Final loss gap per learning rate (other varying axes are pooled with starts and seeds)."""
    best = result.landscape.global_minimum
    floor = best.value if best is not None else 0.0
    out = Sensitivity({}, {}, {}, {}, {}, {})
    for label, run in result.runs.items():
        final = (run.final_losses() - floor).reshape(len(run.lrs), -1)
        codes = run.outcome.reshape(len(run.lrs), -1)
        out.lrs[label] = run.coords["lr"].clone()
        out.center[label] = final.nanquantile(0.5, dim=1) if final.isfinite().any() else final[:, 0]
        finite = final.isfinite()
        none = ~finite.any(dim=1)
        low = torch.where(finite, final, math.inf).min(dim=1).values
        high = torch.where(finite, final, -math.inf).max(dim=1).values
        out.low[label] = low.masked_fill(none, math.nan)  # range of the runs that finished
        out.high[label] = high.masked_fill(none, math.nan)
        out.diverged[label] = (codes == DIVERGED).double().mean(dim=1)
        out.escaped[label] = (codes == ESCAPED).double().mean(dim=1)
    return out
