"""Multimodal bowls in any dimension: Rastrigin, Ackley and Styblinski-Tang."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from .base import Landscape, Point
from .common import check_dim, learning_rates, positive

__all__ = ["ackley", "rastrigin", "styblinski_tang"]


def rastrigin(dim: int = 2, amplitude: float = 10.0) -> Landscape:
    """A d + sum_i (x_i^2 - A cos(2 pi x_i)): a bowl covered in local minima; 0 at the origin."""
    name = "rastrigin"
    dim = check_dim(name, dim)
    amp = positive(name, "amplitude", amplitude)

    def fn(x: Tensor) -> Tensor:
        return amp * dim + (x * x - amp * torch.cos(2 * math.pi * x)).sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        w = 2 * math.pi * x
        f = amp * dim + (x * x - amp * torch.cos(w)).sum(-1)
        return f, 2 * x + 2 * math.pi * amp * torch.sin(w)

    return Landscape(
        name=name,
        fn=fn,
        value_and_grad=value_and_grad,
        dim=dim,
        domain=((-5.12, 5.12),) * dim,
        minima=(Point((0.0,) * dim, 0.0, "global"),),
        default_start=(3.2, 2.3) + (2.3,) * (dim - 2) if dim >= 2 else (3.2,),
        lrs=learning_rates(0.001, 0.001, 0.01, 0.05, adagrad=0.1, adadelta=1.0),
        description="Rastrigin's function: a regular grid of local minima on a bowl.",
        options={"dim": dim, "amplitude": amp},
    )


def _safe_norm(r2: Tensor) -> Tensor:
    """sqrt(r2) with gradient 0 at r2 = 0 (the minimum-norm subgradient of |x|)."""
    positive = r2 > 0
    return torch.where(positive, torch.where(positive, r2, 1.0).sqrt(), 0.0)


def ackley(dim: int = 2) -> Landscape:
    """-20 exp(-0.2 sqrt(mean x_i^2)) - exp(mean cos(2 pi x_i)) + 20 + e: minimum 0 at the
    origin, where f has a cone-shaped tip; the gradient there is taken as 0 (the minimum-norm
    subgradient)."""
    name = "ackley"
    dim = check_dim(name, dim)

    def fn(x: Tensor) -> Tensor:
        r = _safe_norm((x * x).mean(-1))
        c = torch.cos(2 * math.pi * x).mean(-1)
        return -20 * torch.exp(-0.2 * r) - torch.exp(c) + 20 + math.e

    return Landscape(
        name=name,
        fn=fn,
        dim=dim,
        domain=((-4.0, 4.0),) * dim,
        minima=(Point((0.0,) * dim, 0.0, "global"),),
        default_start=(2.6, 2.2) + (2.2,) * (dim - 2) if dim >= 2 else (2.6,),
        lrs=learning_rates(0.01, 0.003, 0.01, 0.05, adagrad=0.1, adadelta=1.0),
        description="Ackley's function: a nearly flat outer region with many local minima.",
        options={"dim": dim},
    )


def styblinski_tang(dim: int = 2) -> Landscape:
    """1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i): global minimum -39.16616570377142 per dimension
    at x_i = -2.903534 (the smaller root of 4 x^3 - 32 x + 5 = 0); every mix of that root
    and the other local one (2.746803) is a local minimum (listed up to dim 8)."""
    name = "styblinski_tang"
    dim = check_dim(name, dim)

    def fn(x: Tensor) -> Tensor:
        return 0.5 * (x**4 - 16 * x**2 + 5 * x).sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        x2 = x * x
        f = 0.5 * (x2 * x2 - 16 * x2 + 5 * x).sum(-1)
        return f, 2 * x2 * x - 16 * x + 2.5

    def root(approx: float) -> float:
        r = approx
        for _ in range(60):
            r -= (4 * r**3 - 32 * r + 5) / (12 * r**2 - 32)
        return r

    lo, hi = root(-2.9), root(2.75)
    combos: list[tuple[float, ...]] = [(lo,) * dim]
    if dim <= 8:
        combos = [c for c in itertools.product((lo, hi), repeat=dim)]
    pts = [Point(c, float(fn(torch.tensor(c, dtype=torch.float64))), "") for c in combos]
    pts.sort(key=lambda p: p.value)
    pts[0] = Point(pts[0].location, pts[0].value, "global")
    return Landscape(
        name=name,
        fn=fn,
        value_and_grad=value_and_grad,
        dim=dim,
        domain=((-5.0, 5.0),) * dim,
        minima=tuple(pts),
        default_start=(0.3, 4.5) + (4.5,) * (dim - 2) if dim >= 2 else (0.3,),
        lrs=learning_rates(0.01, 0.003, 0.05, 0.1, adagrad=0.5, adadelta=10.0),
        description="Styblinski-Tang: 2^d minima, the global one near (-2.9035, ...).",
        options={"dim": dim},
    )
