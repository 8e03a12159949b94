r"""Line searches and the linear solver shared by the second-order and quasi-Newton methods.

* :func:`strong_wolfe`: bracketing then zoom with safeguarded cubic interpolation (Nocedal and
  Wright, *Numerical Optimization*, Algorithms 3.5 and 3.6), in the variant of minFunc that
  ``torch.optim.LBFGS`` also uses, so that ``ravine.optim.LBFGS`` reproduces its iterates;
* :func:`backtracking`: Armijo backtracking (Nocedal and Wright, Algorithm 3.1);
* :func:`conjugate_gradient`: CG for :math:`Ax = b` with :math:`A` symmetric positive
  (semi-)definite, given only products :math:`v \mapsto Av` (Hestenes and Stiefel 1952),
  truncated at negative curvature as in Newton-CG (Nocedal and Wright, Algorithm 7.1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["backtracking", "conjugate_gradient", "cubic_minimizer", "strong_wolfe"]

# phi(t) -> (f(x + t d), grad f(x + t d)) as (float, flat tensor)
Directional = Callable[[float], tuple[float, Tensor]]


def cubic_minimizer(
    t1: float, f1: float, d1: float, t2: float, f2: float, d2: float, bounds=None
) -> float:
    r"""Minimizer of the cubic through :math:`(t_1, f_1)`, :math:`(t_2, f_2)` with slopes
    :math:`d_1, d_2` (Nocedal and Wright eq. 3.59), clipped to ``bounds`` (default: the
    interval between the points); the midpoint of the bounds when the cubic has no minimizer."""
    lo, hi = bounds if bounds is not None else (min(t1, t2), max(t1, t2))
    a = d1 + d2 - 3 * (f1 - f2) / (t1 - t2)
    disc = a**2 - d1 * d2
    if disc < 0:
        return (lo + hi) / 2.0
    b = disc.sqrt() if isinstance(disc, Tensor) else math.sqrt(disc)
    if t1 <= t2:
        t = t2 - (t2 - t1) * ((d2 + b - a) / (d2 - d1 + 2 * b))
    else:
        t = t1 - (t1 - t2) * ((d1 + b - a) / (d1 - d2 + 2 * b))
    return min(max(t, lo), hi)


def strong_wolfe(
    phi: Directional,
    t: float | Tensor,
    d: Tensor,
    f0: float,
    g0: Tensor,
    slope0: float | Tensor,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    tolerance_change: float = 1e-9,
    max_evals: int = 25,
) -> tuple[float, Tensor, float | Tensor, int]:
    r"""A step ``t`` along ``d`` satisfying the strong Wolfe conditions

    .. math:: f(x + t d) \le f(x) + c_1 t\, g^\top d, \qquad |g(x+td)^\top d| \le c_2 |g^\top d|

    or the best point found within ``max_evals`` evaluations of ``phi``. Returns
    ``(f, g, t, evaluations)`` at the accepted step.

    Slopes stay tensors in the parameters' dtype and ``t`` may become one, exactly as in
    ``torch.optim.LBFGS``, so that float32 runs round the same way.

    A zero initial step (``lr`` 0, as at the start of a warm-up schedule) is returned as it is,
    with no evaluation: there is nothing to search along, and interpolating between two
    points at the same ``t`` would divide by zero."""
    if t == 0:
        return f0, g0, t, 0
    wolfe = _Wolfe(phi, d, f0, slope0, c1, c2, max_evals)
    points, done, it = wolfe.bracket(t, g0)
    low = wolfe.zoom(points, it, tolerance_change, done)
    return points.f[low], points.g[low], points.t[low], wolfe.evals


@dataclass
class _Points:
    r"""The points a strong Wolfe search keeps: steps ``t``, values ``f``, gradients ``g``
    and slopes ``s`` (:math:`g^\top d`)."""

    t: list
    f: list
    g: list
    s: list


@dataclass
class _Wolfe:
    """The two phases of :func:`strong_wolfe` along ``d``, counting the evaluations."""

    phi: Directional
    d: Tensor
    f0: float
    slope0: float | Tensor
    c1: float
    c2: float
    max_evals: int
    evals: int = 0

    def at(self, t: float | Tensor) -> tuple[float, Tensor, float | Tensor]:
        f, g = self.phi(t)
        self.evals += 1
        return f, g, g @ self.d

    def armijo_fails(self, t: float | Tensor, f: float) -> bool:
        return f > self.f0 + self.c1 * t * self.slope0

    def curvature_holds(self, slope: float | Tensor) -> bool:
        return abs(slope) <= -self.c2 * self.slope0

    def bracket(self, t: float | Tensor, g0: Tensor) -> tuple[_Points, bool, int]:
        """Phase 1: grow the step until an interval is known to contain an acceptable point
        (or one is found: then ``done``). Returns the points, ``done`` and the iterations."""
        f_new, g_new, slope_new = self.at(t)
        t_prev, f_prev, g_prev, slope_prev = 0, self.f0, g0, self.slope0
        it = 0
        while it < self.max_evals:
            between = _Points(
                [t_prev, t], [f_prev, f_new], [g_prev, g_new], [slope_prev, slope_new]
            )
            if self.armijo_fails(t, f_new) or (it > 1 and f_new >= f_prev):
                return between, False, it
            if self.curvature_holds(slope_new):
                return _Points([t], [f_new], [g_new], []), True, it
            if slope_new >= 0:
                return between, False, it
            # extrapolate: cubic step, kept in [t + 0.01 (t - t_prev), 10 t]
            bounds = (t + 0.01 * (t - t_prev), 10 * t)
            t_next = cubic_minimizer(t_prev, f_prev, slope_prev, t, f_new, slope_new, bounds)
            t_prev, f_prev, g_prev, slope_prev = t, f_new, g_new, slope_new
            t = t_next
            f_new, g_new, slope_new = self.at(t)
            it += 1
        return _Points([0, t], [self.f0, f_new], [g0, g_new], []), False, it

    def zoom(self, points: _Points, it: int, tolerance_change: float, done: bool) -> int:
        """Phase 2 (unless phase 1 is ``done``): shrink the bracket by safeguarded cubic
        interpolation, in place, until a point satisfies the strong Wolfe conditions, the
        bracket is too small, or the evaluations run out. Returns the index of the point with
        the lowest value (kept through the iterations, as torch does, even where a NaN
        breaks the comparisons)."""
        bracket, bf, bg, bs = points.t, points.f, points.g, points.s
        d_scale = self.d.abs().max()
        low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
        stalled = False
        while not done and it < self.max_evals:
            if abs(bracket[1] - bracket[0]) * d_scale < tolerance_change:
                break
            t = cubic_minimizer(bracket[0], bf[0], bs[0], bracket[1], bf[1], bs[1])
            lo, hi = min(bracket), max(bracket)
            margin = 0.1 * (hi - lo)
            if min(hi - t, t - lo) < margin:
                # too close to an end: move inside, unless the last step already made progress
                if stalled or t >= hi or t <= lo:
                    t = hi - margin if abs(t - hi) < abs(t - lo) else lo + margin
                    stalled = False
                else:
                    stalled = True
            else:
                stalled = False
            f_new, g_new, slope_new = self.at(t)
            it += 1
            if self.armijo_fails(t, f_new) or f_new >= bf[low]:
                bracket[high], bf[high], bg[high], bs[high] = t, f_new, g_new, slope_new
                low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
                continue
            if self.curvature_holds(slope_new):
                bracket[low], bf[low], bg[low], bs[low] = t, f_new, g_new, slope_new
                break
            if slope_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bf[high], bg[high], bs[high] = (
                    bracket[low],
                    bf[low],
                    bg[low],
                    bs[low],
                )
            bracket[low], bf[low], bg[low], bs[low] = t, f_new, g_new, slope_new
        return low


def backtracking(
    value: Callable[[float], float],
    t: float,
    f0: float,
    slope0: float,
    *,
    c1: float = 1e-4,
    shrink: float = 0.5,
    max_evals: int = 30,
) -> tuple[float, float, int]:
    r"""Armijo backtracking: the first :math:`t \rho^k` with
    :math:`f(x + t d) \le f(x) + c_1 t\, g^\top d`. Returns ``(t, f, evaluations)``; after
    ``max_evals`` failures returns the last (smallest) step tried."""
    for k in range(1, max_evals + 1):
        f = value(t)
        if f <= f0 + c1 * t * slope0:
            return t, f, k
        if k < max_evals:
            t *= shrink
    return t, f, max_evals


def conjugate_gradient(
    matvec: Callable[[Tensor], Tensor],
    b: Tensor,
    *,
    x0: Tensor | None = None,
    max_iter: int = 50,
    tol: float = 1e-5,
    stop_at_negative_curvature: bool = True,
) -> tuple[Tensor, int]:
    r"""Conjugate gradients for :math:`Ax = b` with ``matvec`` computing :math:`Av`.

    .. math::
        r_0 = b - A x_0,\ p_0 = r_0;\quad
        \alpha_k = \frac{r_k^\top r_k}{p_k^\top A p_k},\ x_{k+1} = x_k + \alpha_k p_k,\
        r_{k+1} = r_k - \alpha_k A p_k,\ p_{k+1} = r_{k+1} + \frac{r_{k+1}^\top r_{k+1}}
        {r_k^\top r_k} p_k

    Stops when :math:`\|r\| \le` ``tol`` :math:`\|b\|`, after ``max_iter`` products, or (when
    ``stop_at_negative_curvature``) at a direction with :math:`p^\top A p \le 0`, returning the
    iterate so far (or ``b`` itself if that happens at the first step, as in Newton-CG).
    Returns ``(x, products used)``."""
    x = torch.zeros_like(b) if x0 is None else x0.clone()
    r = b - matvec(x) if x0 is not None else b.clone()
    used = 1 if x0 is not None else 0
    p = r.clone()
    rr = r @ r
    target = tol * b.norm()
    for k in range(max_iter):
        if rr.sqrt() <= target:
            break
        ap = matvec(p)
        used += 1
        curvature = p @ ap
        if stop_at_negative_curvature and curvature <= 0:
            if k == 0 and x0 is None:
                x = b.clone()
            break
        alpha = rr / curvature
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = r @ r
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x, used
