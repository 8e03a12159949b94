"""What the page is offered: the landscapes it can draw (their box, known points and a
contour grid) and, per landscape, the optimizers that can race on it with their controls."""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import torch

from .. import landscapes
from ..landscapes import Landscape
from ..optim import registry
from ..plot.data import surface_grid
from ..race import PlanError, check_raceable
from ..race.plan import default_lr
from .controls import controls

__all__ = ["GRID", "landscape_detail", "landscape_list", "optimizer_list"]

#: Points per side of the contour grid sent to the page.
GRID = 120


def landscape_list() -> list[dict[str, Any]]:
    """Every landscape the page can draw (two-dimensional with its default options)."""
    out = []
    for name in landscapes.names():
        land = _default(name)
        if land is not None and land.dim == 2:
            out.append({"name": name, "description": land.description})
    return out


def landscape_detail(land: Landscape) -> dict[str, Any]:
    """The landscape's facts and its contour grid. For a surface whose values span decades
    (``log_scale``) ``z`` holds ``log10(f - f*)``, so that evenly spaced contours of ``z``
    are log-spaced in f; ``levels`` are the contour levels in f either way."""
    grid = surface_grid(land, n=GRID)
    z = grid.Z
    floor = land.global_minimum.value if land.global_minimum is not None else float(z.min())
    if grid.log:
        lowest = float(grid.levels[0]) - floor
        z = torch.log10((z - floor).clamp_min(lowest))
    return {
        "name": land.name,
        "description": land.description,
        "settings": land.settings(),
        "domain": [list(d) for d in land.domain],
        "minima": [_point(p) for p in land.minima],
        "saddles": [_point(p) for p in land.saddles],
        "start": list(land.default_start),
        "log": grid.log,
        "floor": floor,
        "stochastic": land.stochastic,
        "options": {k: v for k, v in land.options.items() if _scalar(v)},
        "x": grid.X[0].tolist(),
        "y": grid.Y[:, 0].tolist(),
        "z": [[_finite(v) for v in row] for row in z.tolist()],
        "levels": grid.levels.tolist(),
    }


def optimizer_list(land: Landscape) -> list[dict[str, Any]]:
    """The registered optimizers that can race on ``land``, each with its learning rate
    suggested for ``land`` and its controls."""
    out = []
    for name in registry.names():
        info = registry.resolve(name)
        try:
            check_raceable(land, name)
        except (PlanError, ValueError):
            continue
        lr = default_lr(land, info) if "lr" in info.defaults else None
        out.append(
            {
                "name": name,
                "description": info.description,
                "family": getattr(info.cls, "family", ""),
                "batched": info.elementwise,
                "lr": lr,
                "controls": controls(info, lr),
            }
        )
    return out


@cache
def _default(name: str) -> Landscape | None:
    try:
        return landscapes.get(name)
    except (ValueError, TypeError):  # a landscape that needs options to be built
        return None


def _point(p: Any) -> dict[str, Any]:
    return {"location": list(p.location), "value": p.value, "label": p.label}


def _scalar(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None
