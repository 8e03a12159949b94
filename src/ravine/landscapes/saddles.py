"""Saddles: the plain saddle x^2 - y^2 and the degenerate monkey saddle."""

from __future__ import annotations

from torch import Tensor

from .base import Landscape, Point
from .common import learning_rates, pair, xy

__all__ = ["monkey_saddle", "saddle"]


def _saddle_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    return u * u - v * v, pair(2 * u, -2 * v)


def _monkey_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    u2, v2 = u * u, v * v
    return u * (u2 - 3 * v2), pair(3 * (u2 - v2), -6 * u * v)


def saddle() -> Landscape:
    """f(x, y) = x^2 - y^2: a saddle at the origin; from y0 = 0 gradient descent stays on
    the line y = 0 and converges to the saddle, from any y0 != 0 it escapes."""
    return Landscape(
        name="saddle",
        fn=lambda x: x[..., 0] ** 2 - x[..., 1] ** 2,
        value_and_grad=_saddle_vg,
        dim=2,
        domain=((-1.5, 1.5), (-1.5, 1.5)),
        saddles=(Point((0.0, 0.0), 0.0, "saddle"),),
        default_start=(1.0, 1e-3),
        lrs=learning_rates(0.05, 0.01, 0.3, 0.1, adagrad=1.0, adadelta=0.3),
        description="x^2 - y^2: a saddle point at the origin, unbounded below along y.",
    )


def monkey_saddle() -> Landscape:
    """f(x, y) = x^3 - 3 x y^2: a degenerate saddle (zero Hessian) at the origin."""
    return Landscape(
        name="monkey_saddle",
        fn=lambda x: x[..., 0] ** 3 - 3 * x[..., 0] * x[..., 1] ** 2,
        value_and_grad=_monkey_vg,
        dim=2,
        domain=((-1.5, 1.5), (-1.5, 1.5)),
        saddles=(Point((0.0, 0.0), 0.0, "monkey saddle"),),
        default_start=(0.8, 0.05),
        lrs=learning_rates(0.02, 0.002, 0.1, 0.05, adagrad=0.5, adadelta=1.0),
        description="x^3 - 3xy^2: a monkey saddle with three descending valleys.",
    )
