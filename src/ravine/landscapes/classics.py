"""The classic 2-D benchmark surfaces: Beale, Booth, Himmelblau, Goldstein-Price and the
three- and six-hump camels (fixed dimension, known minima and saddles).
"""

from __future__ import annotations

from torch import Tensor

from .base import Landscape, Point, least_squares
from .common import as_residuals, learning_rates, pair, stationary_point, xy

__all__ = [
    "beale",
    "booth",
    "goldstein_price",
    "himmelblau",
    "six_hump_camel",
    "three_hump_camel",
]


def _beale(x: Tensor) -> Tensor:
    u, v = xy(x)
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def _beale_residuals(x: Tensor) -> Tensor:
    u, v = xy(x)
    return as_residuals(1.5 - u + u * v, 2.25 - u + u * v**2, 2.625 - u + u * v**3)


def _beale_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    v2 = v * v
    v3 = v2 * v
    t1, t2, t3 = 1.5 - u + u * v, 2.25 - u + u * v2, 2.625 - u + u * v3
    f = t1 * t1 + t2 * t2 + t3 * t3
    gu = 2 * (t1 * (v - 1) + t2 * (v2 - 1) + t3 * (v3 - 1))
    gv = 2 * u * (t1 + 2 * v * t2 + 3 * v2 * t3)
    return f, pair(gu, gv)


def beale() -> Landscape:
    """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; minimum 0 at (3, 0.5),
    a saddle at (0, 1); flat ridges and steep walls."""
    return Landscape(
        name="beale",
        fn=_beale,
        value_and_grad=_beale_vg,
        model=least_squares(_beale_residuals),
        dim=2,
        domain=((-4.5, 4.5), (-4.5, 4.5)),
        minima=(Point((3.0, 0.5), 0.0, "global"),),
        saddles=(stationary_point(_beale, (0.0, 1.0), "saddle", exact=True),),
        default_start=(1.0, 1.4),
        lrs=learning_rates(0.01, 0.003, 0.05, 0.1, adagrad=0.5, adadelta=10.0),
        description="Beale's function: sharp corners, flat plateaus, minimum 0 at (3, 0.5).",
        log_scale=True,
    )


def _booth(x: Tensor) -> Tensor:
    u, v = xy(x)
    return (u + 2 * v - 7) ** 2 + (2 * u + v - 5) ** 2


def _booth_residuals(x: Tensor) -> Tensor:
    u, v = xy(x)
    return as_residuals(u + 2 * v - 7, 2 * u + v - 5)


def _booth_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    a, b = u + 2 * v - 7, 2 * u + v - 5
    return a * a + b * b, pair(2 * a + 4 * b, 4 * a + 2 * b)


def booth() -> Landscape:
    """(x + 2y - 7)^2 + (2x + y - 5)^2: a convex quadratic, minimum 0 at (1, 3)."""
    return Landscape(
        name="booth",
        fn=_booth,
        value_and_grad=_booth_vg,
        model=least_squares(_booth_residuals),
        dim=2,
        domain=((-10.0, 10.0), (-10.0, 10.0)),
        minima=(Point((1.0, 3.0), 0.0, "global"),),
        default_start=(-8.0, -6.0),
        lrs=learning_rates(0.03, 0.03, 0.3, 0.5, adagrad=3.0, adadelta=30.0),
        description="Booth's function: a tilted convex quadratic, minimum 0 at (1, 3).",
        log_scale=True,
    )


def _himmelblau(x: Tensor) -> Tensor:
    u, v = xy(x)
    return (u**2 + v - 11) ** 2 + (u + v**2 - 7) ** 2


def _himmelblau_residuals(x: Tensor) -> Tensor:
    u, v = xy(x)
    return as_residuals(u**2 + v - 11, u + v**2 - 7)


def _himmelblau_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    a, b = u * u + v - 11, u + v * v - 7
    return a * a + b * b, pair(4 * u * a + 2 * b, 2 * a + 4 * v * b)


def himmelblau() -> Landscape:
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima of value 0, four saddles, one maximum."""
    minima = (
        Point((3.0, 2.0), 0.0, "A"),
        stationary_point(_himmelblau, (-2.805118, 3.131313), "B"),
        stationary_point(_himmelblau, (-3.779310, -3.283186), "C"),
        stationary_point(_himmelblau, (3.584428, -1.848127), "D"),
    )
    saddles = tuple(
        stationary_point(_himmelblau, p, "saddle")
        for p in (
            (0.086677, 2.884255),
            (-3.073026, -0.081353),
            (3.385154, 0.073852),
            (-0.127961, -1.953715),
        )
    )
    return Landscape(
        name="himmelblau",
        fn=_himmelblau,
        value_and_grad=_himmelblau_vg,
        model=least_squares(_himmelblau_residuals),
        dim=2,
        domain=((-5.0, 5.0), (-5.0, 5.0)),
        minima=minima,
        saddles=saddles,
        default_start=(-0.27, -0.92),
        lrs=learning_rates(0.005, 0.002, 0.05, 0.1, adagrad=0.5, adadelta=3.0),
        description="Himmelblau's function: four global minima of value 0.",
        log_scale=True,
    )


def _goldstein_price(x: Tensor) -> Tensor:
    u, v = xy(x)
    a = 1 + (u + v + 1) ** 2 * (19 - 14 * u + 3 * u**2 - 14 * v + 6 * u * v + 3 * v**2)
    b = 30 + (2 * u - 3 * v) ** 2 * (18 - 32 * u + 12 * u**2 + 48 * v - 36 * u * v + 27 * v**2)
    return a * b


def goldstein_price() -> Landscape:
    """Goldstein-Price: global minimum 3 at (0, -1), local minima 30, 84 and 840."""
    locals_ = [(-0.6, -0.4), (1.8, 0.2), (1.2, 0.8)]
    return Landscape(
        name="goldstein_price",
        fn=_goldstein_price,
        dim=2,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=(
            Point((0.0, -1.0), 3.0, "global"),
            *tuple(stationary_point(_goldstein_price, p) for p in locals_),
        ),
        default_start=(-1.0, 0.0),
        lrs=learning_rates(2e-4, 3e-5, 0.01, 0.05, adagrad=0.1, adadelta=3.0),
        description="Goldstein-Price: values over six decades, minimum 3 at (0, -1).",
        log_scale=True,
    )


def _three_hump(x: Tensor) -> Tensor:
    u, v = xy(x)
    return 2 * u**2 - 1.05 * u**4 + u**6 / 6 + u * v + v**2


def _three_hump_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = xy(x)
    u2 = u * u
    f = u2 * (2 - 1.05 * u2 + u2 * u2 / 6) + u * v + v * v
    return f, pair(u * (4 - 4.2 * u2 + u2 * u2) + v, u + 2 * v)


def three_hump_camel() -> Landscape:
    """2x^2 - 1.05x^4 + x^6/6 + xy + y^2: minimum 0 at the origin, two local minima."""
    return Landscape(
        name="three_hump_camel",
        fn=_three_hump,
        value_and_grad=_three_hump_vg,
        dim=2,
        domain=((-2.5, 2.5), (-2.5, 2.5)),
        minima=(
            Point((0.0, 0.0), 0.0, "global"),
            stationary_point(_three_hump, (1.7476, -0.8738)),
            stationary_point(_three_hump, (-1.7476, 0.8738)),
        ),
        saddles=(
            stationary_point(_three_hump, (1.0705, -0.5352), "saddle"),
            stationary_point(_three_hump, (-1.0705, 0.5352), "saddle"),
        ),
        default_start=(-2.2, -1.5),
        lrs=learning_rates(0.05, 0.01, 0.05, 0.1, adagrad=0.5, adadelta=10.0),
        description="Three-hump camel: global minimum 0 at the origin, two local minima.",
        log_scale=True,
    )


def _six_hump(x: Tensor) -> Tensor:
    u, v = xy(x)
    return (4 - 2.1 * u**2 + u**4 / 3) * u**2 + u * v + (-4 + 4 * v**2) * v**2


def six_hump_camel() -> Landscape:
    """(4 - 2.1x^2 + x^4/3) x^2 + xy + (-4 + 4y^2) y^2: two global minima -1.0316284535 at
    +-(0.0898420, -0.7126564) and four local minima."""
    approx = [
        (0.0898420, -0.7126564),
        (-0.0898420, 0.7126564),
        (-1.7036, 0.7961),
        (1.7036, -0.7961),
        (1.6071, 0.5687),
        (-1.6071, -0.5687),
    ]
    return Landscape(
        name="six_hump_camel",
        fn=_six_hump,
        dim=2,
        domain=((-2.0, 2.0), (-1.1, 1.1)),
        minima=tuple(
            stationary_point(_six_hump, p, "global" if i < 2 else "") for i, p in enumerate(approx)
        ),
        default_start=(-1.8, -0.9),
        lrs=learning_rates(0.05, 0.01, 0.01, 0.05, adagrad=0.1, adadelta=3.0),
        description="Six-hump camel: two global minima of -1.0316 and four local ones.",
    )
