"""Analytic test functions: saddles, ravines, valleys and the classic benchmark surfaces.

Every function takes positions of shape ``[..., dim]`` and returns ``[...]``. Minima and
saddles that are known only to a few digits in the literature are refined here by Newton's
method in float64, so the stored locations have zero gradient to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from .base import Landscape, LossFn, Point, least_squares

__all__ = ["BUILDERS"]


def _xy(x: Tensor) -> tuple[Tensor, Tensor]:
    return x[..., 0], x[..., 1]


def _pair(gu: Tensor, gv: Tensor) -> Tensor:
    """The gradient ``[..., 2]`` from its two components, stored component-major: the race
    engine's ``[2, n]`` parameter then receives it as a contiguous tensor."""
    return torch.stack((gu, gv)).movedim(0, -1)


_SQRT2 = math.sqrt(2.0)


def _residuals(*parts: Tensor) -> Tensor:
    """Residuals ``[..., m]`` of a sum of squares ``sum_j part_j^2 = sum_j r_j^2 / 2``."""
    return _SQRT2 * torch.stack(parts, dim=-1)


# Hand-written gradients (``value_and_grad``) of the polynomial landscapes: the race's fast
# path. tests/landscapes check each against autograd on ``fn``.


def _saddle_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    return u * u - v * v, _pair(2 * u, -2 * v)


def _monkey_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    u2, v2 = u * u, v * v
    return u * (u2 - 3 * v2), _pair(3 * (u2 - v2), -6 * u * v)


def _beale_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    v2 = v * v
    v3 = v2 * v
    t1, t2, t3 = 1.5 - u + u * v, 2.25 - u + u * v2, 2.625 - u + u * v3
    f = t1 * t1 + t2 * t2 + t3 * t3
    gu = 2 * (t1 * (v - 1) + t2 * (v2 - 1) + t3 * (v3 - 1))
    gv = 2 * u * (t1 + 2 * v * t2 + 3 * v2 * t3)
    return f, _pair(gu, gv)


def _booth_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    a, b = u + 2 * v - 7, 2 * u + v - 5
    return a * a + b * b, _pair(2 * a + 4 * b, 4 * a + 2 * b)


def _himmelblau_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    a, b = u * u + v - 11, u + v * v - 7
    return a * a + b * b, _pair(4 * u * a + 2 * b, 2 * a + 4 * v * b)


def _three_hump_vg(x: Tensor) -> tuple[Tensor, Tensor]:
    u, v = _xy(x)
    u2 = u * u
    f = u2 * (2 - 1.05 * u2 + u2 * u2 / 6) + u * v + v * v
    return f, _pair(u * (4 - 4.2 * u2 + u2 * u2) + v, u + 2 * v)


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


def _point(fn: LossFn, approx: Sequence[float], label: str = "", exact: bool = False) -> Point:
    loc = tuple(float(c) for c in approx) if exact else refine(fn, approx)
    value = float(fn(torch.tensor(loc, dtype=torch.float64)))
    return Point(loc, value, label)


def _check_dim(name: str, dim: int, minimum: int = 1) -> int:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < minimum:
        raise ValueError(f"{name}: dim must be an integer >= {minimum}, got {dim!r}")
    return dim


def _positive(name: str, key: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise ValueError(f"{name}: {key} must be a finite number > 0, got {value!r}")
    return float(value)


# ------------------------------------------------------------------------------ saddles


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
        description="x^3 - 3xy^2: a monkey saddle with three descending valleys.",
    )


# ---------------------------------------------------------------------- ravines, valleys


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
    dim = _check_dim(name, dim)
    condition = _positive(name, "condition", condition)
    curvature = _positive(name, "curvature", curvature)
    if condition < 1:
        raise ValueError(f"{name}: condition must be >= 1, got {condition!r}")
    if angle and dim != 2:
        raise ValueError(f"{name}: angle needs dim=2, got dim={dim}")
    exps = torch.linspace(0, 1, dim, dtype=torch.float64) if dim > 1 else torch.zeros(1)
    lam = curvature * condition**exps
    a = math.radians(angle)
    rot = (
        torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        if dim == 2
        else None
    )

    def fn(x: Tensor) -> Tensor:
        z = x @ rot.to(x.dtype) if rot is not None and angle else x
        return 0.5 * (lam.to(x.dtype) * z * z).sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        rotated = rot is not None and angle
        z = x @ rot.to(x.dtype) if rotated else x
        lz = lam.to(x.dtype) * z
        f = 0.5 * (lz * z).sum(-1)
        return f, lz @ rot.to(x.dtype).T if rotated else lz

    def residuals(x: Tensor) -> Tensor:  # f = sum_i (sqrt(lambda_i) z_i)^2 / 2
        z = x @ rot.to(x.dtype) if rot is not None and angle else x
        return lam.to(x.dtype).sqrt() * z

    half = 2.0
    start = [1.8] + [0.6] * (dim - 1) if dim > 1 else [1.8]
    if rot is not None and angle:
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
        description=f"A quadratic ravine with condition number {condition:g}.",
        options={"condition": condition, "curvature": curvature, "dim": dim, "angle": angle},
        log_scale=True,
    )


def rosenbrock(dim: int = 2, a: float = 1.0, b: float = 100.0) -> Landscape:
    """f(x) = sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2: Rosenbrock's long curved valley.

    Global minimum 0 at (a, a^2, ...) (for a = 1: all ones). Default start (-1.5, 2) in 2-D,
    alternating -1.5, 2 in higher dimensions."""
    name = "rosenbrock"
    dim = _check_dim(name, dim, 2)
    a = float(a)
    b = _positive(name, "b", b)

    def fn(x: Tensor) -> Tensor:
        head, tail = x[..., :-1], x[..., 1:]
        valley = tail - head * head
        off = a - head
        terms = b * valley * valley + off * off  # products: cheaper backward than pow
        return terms[..., 0] if dim == 2 else terms.sum(-1)

    def value_and_grad(x: Tensor) -> tuple[Tensor, Tensor]:
        if dim == 2:  # fused multiply-adds: the race's fast path does 9 tensor ops a step
            u, v = _xy(x)
            valley = torch.addcmul(v, u, u, value=-1.0)
            off = a - u
            bv = b * valley
            f = torch.addcmul(off * off, bv, valley)
            return f, _pair(torch.addcmul(-2 * off, u, bv, value=-4.0), 2 * bv)
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
        return torch.cat((math.sqrt(2 * b) * (tail - head * head), _SQRT2 * (a - head)), dim=-1)

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
        description="Rosenbrock's banana: a long, narrow, curved valley.",
        options={"dim": dim, "a": a, "b": b},
        log_scale=True,
    )


# ------------------------------------------------------------------------------ classics


def _beale(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return (1.5 - u + u * v) ** 2 + (2.25 - u + u * v**2) ** 2 + (2.625 - u + u * v**3) ** 2


def _beale_residuals(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return _residuals(1.5 - u + u * v, 2.25 - u + u * v**2, 2.625 - u + u * v**3)


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
        saddles=(_point(_beale, (0.0, 1.0), "saddle", exact=True),),
        default_start=(1.0, 1.4),
        description="Beale's function: sharp corners, flat plateaus, minimum 0 at (3, 0.5).",
        log_scale=True,
    )


def _booth(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return (u + 2 * v - 7) ** 2 + (2 * u + v - 5) ** 2


def _booth_residuals(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return _residuals(u + 2 * v - 7, 2 * u + v - 5)


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
        description="Booth's function: a tilted convex quadratic, minimum 0 at (1, 3).",
        log_scale=True,
    )


def _himmelblau(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return (u**2 + v - 11) ** 2 + (u + v**2 - 7) ** 2


def _himmelblau_residuals(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return _residuals(u**2 + v - 11, u + v**2 - 7)


def himmelblau() -> Landscape:
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima of value 0, four saddles, one maximum."""
    minima = (
        Point((3.0, 2.0), 0.0, "A"),
        _point(_himmelblau, (-2.805118, 3.131313), "B"),
        _point(_himmelblau, (-3.779310, -3.283186), "C"),
        _point(_himmelblau, (3.584428, -1.848127), "D"),
    )
    saddles = tuple(
        _point(_himmelblau, p, "saddle")
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
        description="Himmelblau's function: four global minima of value 0.",
        log_scale=True,
    )


def rastrigin(dim: int = 2, amplitude: float = 10.0) -> Landscape:
    """A d + sum_i (x_i^2 - A cos(2 pi x_i)): a bowl covered in local minima; 0 at the origin."""
    name = "rastrigin"
    dim = _check_dim(name, dim)
    amp = _positive(name, "amplitude", amplitude)

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
    dim = _check_dim(name, dim)

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
        description="Ackley's function: a nearly flat outer region with many local minima.",
        options={"dim": dim},
    )


def styblinski_tang(dim: int = 2) -> Landscape:
    """1/2 sum_i (x_i^4 - 16 x_i^2 + 5 x_i): global minimum -39.16616570377142 per dimension
    at x_i = -2.903534 (the smaller root of 4 x^3 - 32 x + 5 = 0); every mix of that root
    and the other local one (2.746803) is a local minimum (listed up to dim 8)."""
    name = "styblinski_tang"
    dim = _check_dim(name, dim)

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
        import itertools

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
        description="Styblinski-Tang: 2^d minima, the global one near (-2.9035, ...).",
        options={"dim": dim},
    )


def _goldstein_price(x: Tensor) -> Tensor:
    u, v = _xy(x)
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
            *tuple(_point(_goldstein_price, p) for p in locals_),
        ),
        default_start=(-1.2, 1.4),
        description="Goldstein-Price: values over six decades, minimum 3 at (0, -1).",
        log_scale=True,
    )


def _three_hump(x: Tensor) -> Tensor:
    u, v = _xy(x)
    return 2 * u**2 - 1.05 * u**4 + u**6 / 6 + u * v + v**2


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
            _point(_three_hump, (1.7476, -0.8738)),
            _point(_three_hump, (-1.7476, 0.8738)),
        ),
        saddles=(
            _point(_three_hump, (1.0705, -0.5352), "saddle"),
            _point(_three_hump, (-1.0705, 0.5352), "saddle"),
        ),
        default_start=(-2.2, -1.5),
        description="Three-hump camel: global minimum 0 at the origin, two local minima.",
        log_scale=True,
    )


def _six_hump(x: Tensor) -> Tensor:
    u, v = _xy(x)
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
        minima=tuple(_point(_six_hump, p, "global" if i < 2 else "") for i, p in enumerate(approx)),
        default_start=(-1.8, -0.9),
        description="Six-hump camel: two global minima of -1.0316 and four local ones.",
    )


# ------------------------------------------------------------------------------ plateau


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
        _positive(name, f"depth of well {k}", d)
        _positive(name, f"width of well {k}", s)
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

    pts = [_point(fn, (w[0], w[1])) for w in ws]
    pts.sort(key=lambda p: p.value)
    pts = [Point(p.location, p.value, "global" if i == 0 else "local") for i, p in enumerate(pts)]
    return Landscape(
        name=name,
        fn=fn,
        dim=2,
        domain=((-3.0, 3.0), (-3.0, 3.0)),
        minima=tuple(pts),
        default_start=(-2.4, 2.0),
        description="A plateau with a shallow local well and a deeper global well.",
        options={"wells": len(ws)},
    )


BUILDERS: dict[str, Callable[..., Landscape]] = {
    "saddle": saddle,
    "monkey_saddle": monkey_saddle,
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "booth": booth,
    "himmelblau": himmelblau,
    "rastrigin": rastrigin,
    "ackley": ackley,
    "styblinski_tang": styblinski_tang,
    "goldstein_price": goldstein_price,
    "three_hump_camel": three_hump_camel,
    "six_hump_camel": six_hump_camel,
    "plateau": plateau,
}
