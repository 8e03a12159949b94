"""What the analytic landscapes share: the two coordinates of 2-D positions, gradients and
residuals in the layout the race engine wants, option checks, and stationary points refined
by Newton's method in float64 (so stored locations have zero gradient to rounding).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from .base import LossFn, Point

__all__ = [
    "SQRT2",
    "as_residuals",
    "check_dim",
    "learning_rates",
    "pair",
    "positive",
    "refine",
    "stationary_point",
    "xy",
]


def xy(x: Tensor) -> tuple[Tensor, Tensor]:
    """The first two coordinates of positions ``[..., 2]``."""
    return x[..., 0], x[..., 1]


def pair(gu: Tensor, gv: Tensor) -> Tensor:
    """The gradient ``[..., 2]`` from its two components, stored component-major: the race
    engine's ``[2, n]`` parameter then receives it as a contiguous tensor."""
    return torch.stack((gu, gv)).movedim(0, -1)


SQRT2 = math.sqrt(2.0)


def as_residuals(*parts: Tensor) -> Tensor:
    """Residuals ``[..., m]`` of a sum of squares ``sum_j part_j^2 = sum_j r_j^2 / 2``."""
    return SQRT2 * torch.stack(parts, dim=-1)


def refine(fn: LossFn, approx: Sequence[float], iterations: int = 50) -> tuple[float, ...]:
    """Newton's method on grad f = 0 from ``approx`` (float64): an exact stationary point."""
    x = torch.tensor(approx, dtype=torch.float64)
    for _ in range(iterations):
        xr = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(fn(xr), xr, create_graph=True)
        h = torch.stack(
            [torch.autograd.grad(g[i], xr, retain_graph=True)[0] for i in range(len(x))]
        )
        step = torch.linalg.solve(h.detach(), g.detach())
        x = x - step
        if float(step.abs().max()) < 1e-15:
            break
    return tuple(float(c) for c in x)


def stationary_point(
    fn: LossFn, approx: Sequence[float], label: str = "", exact: bool = False
) -> Point:
    """The stationary point near ``approx`` (refined unless ``exact``) with its value."""
    loc = tuple(float(c) for c in approx) if exact else refine(fn, approx)
    value = float(fn(torch.tensor(loc, dtype=torch.float64)))
    return Point(loc, value, label)


def check_dim(name: str, dim: int, minimum: int = 1) -> int:
    """``dim`` if it is an integer >= ``minimum``; else an error naming landscape ``name``."""
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < minimum:
        raise ValueError(f"{name}: dim must be an integer >= {minimum}, got {dim!r}")
    return dim


def positive(name: str, key: str, value: float) -> float:
    """``value`` as a float if finite and > 0; else an error naming ``name`` and ``key``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{name}: {key} must be a finite number > 0, got {value!r}")
    return float(value)


def learning_rates(
    sgd: float, momentum: float, adaptive: float, adam: float, **by_name: float
) -> dict[str, float]:
    """A landscape's suggested learning rates (:attr:`Landscape.lrs`) by optimizer family:
    plain gradient descent, heavy-ball and Nesterov momentum, the adaptive methods (AdaGrad,
    RMSProp, AdaDelta) and the Adam family; ``by_name`` overrides one optimizer of a family
    (``adadelta=10.0``: its lr scales a unit-free step, unlike its family's)."""
    return {
        "gradient descent": sgd,
        "momentum": momentum,
        "adaptive": adaptive,
        "adam": adam,
        # RAdam's first steps are momentum SGD (lr g), its later ones Adam's (about lr);
        # Lion's are lr sign(.), as Adam's early ones
        "rectified adam": min(sgd, adam),
        "sign": adam,
        # Adafactor's and LAMB's steps are about lr RMS(theta) per coordinate, as Adam's
        # about lr; LARS's lr trust_coeff ||theta|| g / ||g||: lr / 1e-3 for Adam's size
        "adam (factored)": adam,
        "layer-wise adaptive": adam,
        "lars": adam / 1e-3,
        # Schedule-Free steps as its base method does (momentum SGD, AdamW); Prodigy's lr
        # multiplies the rate it estimates itself
        "schedule_free_sgd": momentum,
        "schedule_free_adamw": adam,
        "learning-rate free": 1.0,
        # Shampoo's and SOAP's steps are unit-free, as Adam's
        "matrix preconditioner": adam,
        # Muon's and Sophia's steps are normalised or clipped to about lr, as Adam's early
        # ones; Lookahead wraps Adam by default
        "orthogonalised": adam,
        "sophia": adam,
        "wrapper": adam,
        **by_name,
    }
