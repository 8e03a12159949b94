"""Gaussian wells on a flat plateau: where gradients vanish far from any minimum."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .base import Landscape, Point
from .common import learning_rates, positive, stationary_point

__all__ = ["plateau"]


def plateau(
    wells: Sequence[Sequence[float]] = ((-0.6, 0.6, 0.45, 0.5), (1.4, -1.1, 1.0, 0.7)),
) -> Landscape:
    """f(x) = -sum_k d_k exp(-|x - c_k|^2 / (2 s_k^2)): Gaussian wells on a flat plateau.

    Each well is ``(cx, cy, depth d, width s)``; by default a shallow local well at
    (-0.6, 0.6) (depth 0.45) and a deeper, wider global well at (1.4, -1.1) (depth 1). Far
    from the wells the gradient vanishes; the minima sit slightly off the centres (each
    well's tail tilts the other) and are found by Newton's method.
    """
    name = "plateau"
    ws = []
    for k, w in enumerate(wells):
        if len(w) != 4:
            raise ValueError(f"{name}: well {k} must be (cx, cy, depth, width), got {w!r}")
        cx, cy, d, s = (float(v) for v in w)
        positive(name, f"depth of well {k}", d)
        positive(name, f"width of well {k}", s)
        ws.append((cx, cy, d, s))
    if not ws:
        raise ValueError(f"{name}: needs at least one well")
    centers = torch.tensor([[w[0], w[1]] for w in ws], dtype=torch.float64)
    depth = torch.tensor([w[2] for w in ws], dtype=torch.float64)
    width = torch.tensor([w[3] for w in ws], dtype=torch.float64)

    def fn(x: Tensor) -> Tensor:
        c = centers.to(x.dtype)
        r2 = ((x[..., None, :] - c) ** 2).sum(-1)
        return -(depth.to(x.dtype) * torch.exp(-r2 / (2 * width.to(x.dtype) ** 2))).sum(-1)

    pts = [stationary_point(fn, (w[0], w[1])) for w in ws]
    pts.sort(key=lambda p: p.value)
    pts = [Point(p.location, p.value, "global" if i == 0 else "local") for i, p in enumerate(pts)]
    return Landscape(
        name=name,
        fn=fn,
        dim=2,
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=tuple(pts),
        default_start=(-2.0, 1.5),
        lrs=learning_rates(0.3, 0.05, 0.05, 0.05, adagrad=0.2, adadelta=10.0),
        description="A plateau with a shallow local well and a deeper global well.",
        options={"wells": len(ws)},
    )
