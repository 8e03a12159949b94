"""Ravines and valleys: the ill-conditioned quadratic and Rosenbrock's curved valley."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .base import Landscape, Point, least_squares
from .common import SQRT2, check_dim, learning_rates, pair, positive, xy

__all__ = ["quadratic", "rosenbrock"]


def _rotation(angle: float) -> Tensor | None:
    """The 2-D rotation by ``angle`` degrees (the quadratic's R), or None for none."""
    if not angle:
        return None
    a = math.radians(angle)
    return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])


def quadratic(
    condition: float = 10.0, curvature: float = 1.0, dim: int = 2, angle: float = 0.0
) -> Landscape:
    """f(x) = 1/2 sum_i lambda_i z_i^2 with z = R^T x: an ill-conditioned ravine.

    The eigenvalues lambda_i run geometrically from ``curvature`` (the flattest direction,
    first coordinate) to ``curvature * condition`` (the steepest, last coordinate). In 2-D
    ``angle`` (degrees) rotates the axes of the ravine by R. Gradient descent converges for
    lr < 2 / (curvature * condition) and zig-zags across the ravine as lr nears that limit.
    """
    name = "quadratic"
    dim = check_dim(name, dim)
    condition = positive(name, "condition", condition)
    curvature = positive(name, "curvature", curvature)
    if condition < 1:
        raise ValueError(f"{name}: condition must be >= 1, got {condition!r}")
    if angle and dim != 2:
        raise ValueError(f"{name}: angle needs dim=2, got dim={dim}")
    exps = torch.linspace(0, 1, dim, dtype=torch.float64) if dim > 1 else torch.zeros(1)
    lam = curvature * condition**exps
    lam_max = curvature * condition  # gradient descent is stable below 2 / lam_max
    rot = _rotation(angle)

    def rotate(x: Tensor) -> Tensor:  # z = R^T x, as rows
        return x @ rot.to(x.dtype) if rot is not None else x

    def fn(x: Tensor) -> Tensor:
        z = rotate(x)
        return 0.5 * (lam.to(x.dtype) * z * z).sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        z = rotate(x)
        lz = lam.to(x.dtype) * z
        f = 0.5 * (lz * z).sum(-1)
        return f, lz @ rot.to(x.dtype).T if rot is not None else lz

    def residuals(x: Tensor) -> Tensor:  # f = sum_i (sqrt(lambda_i) z_i)^2 / 2
        return lam.to(x.dtype).sqrt() * rotate(x)

    half = 2.0
    start = [1.8] + [0.6] * (dim - 1) if dim > 1 else [1.8]
    if rot is not None:
        start = (rot.double() @ torch.tensor(start, dtype=torch.float64)).tolist()
    return Landscape(
        name=name,
        fn=fn,
        value_and_grad=value_and_grad,
        model=least_squares(residuals),
        dim=dim,
        domain=tuple((-half, half) for _ in range(dim)),
        minima=(Point((0.0,) * dim, 0.0, "global"),),
        default_start=tuple(start),
        lrs=learning_rates(1.0 / lam_max, 0.5 / lam_max, 0.05, 0.1, adagrad=1.0, adadelta=10.0),
        description=f"A quadratic ravine with condition number {condition:g}.",
        options={"condition": condition, "curvature": curvature, "dim": dim, "angle": angle},
        log_scale=True,
    )


def rosenbrock(dim: int = 2, a: float = 1.0, b: float = 100.0) -> Landscape:
    """f(x) = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2: Rosenbrock's long curved valley.

    Global minimum 0 at (a, a^2, ...) (for a = 1: all ones). Default start (-1.5, 2) in 2-D,
    alternating -1.5, 2 in higher dimensions."""
    name = "rosenbrock"
    dim = check_dim(name, dim, 2)
    a = float(a)
    b = positive(name, "b", b)

    def fn(x: Tensor) -> Tensor:
        head, tail = x[..., :-1], x[..., 1:]
        valley = tail - head * head
        off = a - head
        terms = b * valley * valley + off * off  # products: cheaper backward than pow
        return terms[..., 0] if dim == 2 else terms.sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        if dim == 2:  # fused multiply-adds: the race's fast path does 9 tensor ops a step
            u, v = xy(x)
            valley = torch.addcmul(v, u, u, value=-1.0)
            off = a - u
            bv = b * valley
            f = torch.addcmul(off * off, bv, valley)
            return f, pair(torch.addcmul(-2 * off, u, bv, value=-4.0), 2 * bv)
        head, tail = x[..., :-1], x[..., 1:]
        valley = tail - head * head
        off = a - head
        bv = b * valley
        terms = bv * valley + off * off
        g = torch.zeros_like(x)
        g[..., :-1] = -4 * head * bv - 2 * off
        g[..., 1:] += 2 * bv
        return terms.sum(-1), g

    def residuals(x: Tensor) -> Tensor:
        head, tail = x[..., :-1], x[..., 1:]
        return torch.cat((math.sqrt(2 * b) * (tail - head * head), SQRT2 * (a - head)), dim=-1)

    loc = [a]
    for _ in range(dim - 1):
        loc.append(loc[-1] ** 2)
    minima = (Point(tuple(loc), 0.0, "global"),) if a == 1.0 or dim == 2 else ()
    domain = ((-2.0, 2.0), (-1.0, 3.0)) + ((-2.0, 2.0),) * (dim - 2)
    return Landscape(
        name=name,
        fn=fn,
        value_and_grad=value_and_grad,
        model=least_squares(residuals),
        dim=dim,
        domain=domain,
        minima=minima,
        default_start=tuple(-1.5 if i % 2 == 0 else 2.0 for i in range(dim)),
        lrs=learning_rates(0.1 / b, 0.1 / b, 0.05, 0.2, adagrad=1.0, adadelta=10.0),
        description="Rosenbrock's banana: a long, narrow, curved valley.",
        options={"dim": dim, "a": a, "b": b},
        log_scale=True,
    )
