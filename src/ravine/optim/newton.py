r"""Newton's method: exact, damped, Newton-CG, and Levenberg-Marquardt / trust region.

The closure returns the loss *without* calling ``backward()``: these methods differentiate it
themselves, twice. One Newton iteration per ``step(closure)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor

from .closure import COUNT, ClosureOptimizer, Point
from .constraints import NONNEGATIVE, POSITIVE, Choice, Range
from .damping import TrustRegion, adapt_damping
from .directions import newton_direction, solve_damped
from .rule import arguments

__all__ = ["LevenbergMarquardt", "Newton", "adapt_damping", "newton_direction"]

ALTERNATIVES = (
    "Newton(solver='cg') (matrix-free Newton-CG), HessianFree, LBFGS, KFAC or DiagonalNewton"
)


def check_dense(opt: ClosureOptimizer, groups: list[dict[str, Any]]) -> None:
    """Refuse param groups of more than ``max_params`` parameters for an exact dense Hessian,
    naming the cost and the matrix-free alternatives."""
    for group in groups:
        n = sum(p.numel() for p in opt._params(group))
        if n > group["max_params"]:
            raise ValueError(
                f"{type(opt).__name__}: {n} parameters exceed max_params={group['max_params']}; "
                f"the exact Hessian needs N^2 = {n * n:.3g} entries and its solve N^3 time. "
                f"Raise max_params if that fits, or use {ALTERNATIVES}"
            )


class Newton(ClosureOptimizer):
    r"""Newton's method: :math:`x \leftarrow x + t\, d`, :math:`d = -(H + \lambda I)^{-1} g`.

    ================  =====================  =========================================
    argument          default                meaning
    ================  =====================  =========================================
    ``lr``            1.0                    step t (initial step of a line search)
    ``damping``       0.0                    lambda added to the Hessian's diagonal
    ``solver``        ``"direct"``           ``"direct"``: exact dense Hessian and solve;
                                             ``"cg"``: matrix-free truncated CG on
                                             Hessian-vector products (Newton-CG)
    ``line_search_fn``  None                 None (pure Newton), ``"backtracking"``
                                             (damped Newton, Armijo) or ``"strong_wolfe"``
    ``max_params``    4096                   largest N the direct solver accepts
    ``cg_max_iter``   200                    CG products per step (solver="cg")
    ================  =====================  =========================================

    Pure Newton minimizes a convex quadratic in one step. Damped Newton (a line search)
    converges globally on convex problems. With ``solver="cg"`` this is the truncated Newton
    method of ``scipy.optimize.minimize(method="Newton-CG")``: CG stops at residual
    :math:`\min(0.5, \sqrt{\|g\|})\|g\|` or at negative curvature (Nocedal and Wright, Alg. 7.1).

    When the direction is not a descent direction (indefinite H) and a line search is on, the
    step falls back to :math:`-g`. The direct solver refuses more than ``max_params``
    parameters: the Hessian needs :math:`N^2` memory and the solve :math:`N^3` time.
    """

    closure_kind = "loss"
    rule = staticmethod(newton_direction)
    family = "second-order"
    paper = "Newton 1669; Nocedal and Wright 2006, ch. 3 and 7"
    constraints = {
        "damping": NONNEGATIVE,
        "solver": Choice(("direct", "cg")),
        "line_search_fn": Choice((None, "backtracking", "strong_wolfe")),
        "max_params": COUNT,
        "cg_max_iter": COUNT,
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 0.0,
        solver: str = "direct",
        line_search_fn: str | None = None,
        max_params: int = 4096,
        cg_max_iter: int = 200,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))
        check_dense(self, [g for g in self.param_groups if g["solver"] == "direct"])

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        if group["solver"] == "direct":
            d = newton_direction(at.hessian(), at.g, damping)
        else:
            tol = min(0.5, float(at.g.norm()) ** 0.5)  # forcing term of Newton-CG
            d = solve_damped(at.hvp, at.g, damping, max_iter=int(group["cg_max_iter"]), tol=tol)
        if group["line_search_fn"] is not None and float(at.g @ d) >= 0:
            return -at.g
        return d


class LevenbergMarquardt(ClosureOptimizer):
    r"""Levenberg-Marquardt / trust-region Newton: :math:`d = -(H + \lambda I)^{-1} g` with
    :math:`\lambda` adapted from the reduction ratio (:func:`adapt_damping`)

    .. math:: \rho = \frac{f(x) - f(x + d)}{-(g^\top d + \tfrac12 d^\top H d)}

    The step is taken when :math:`\rho > 0` and rejected (parameters kept) otherwise;
    :math:`\lambda` shrinks by ``decrease`` when :math:`\rho > 3/4` and grows by ``increase``
    when :math:`\rho < 1/4`. A large :math:`\lambda` gives a short gradient step
    :math:`-g/\lambda`; a small one, the Newton step (Levenberg 1944; Marquardt 1963;
    Nocedal and Wright, ch. 4). Exact dense Hessian: same ``max_params`` limit as Newton.
    """

    closure_kind = "loss"
    damping_policy = TrustRegion(backtrack=False)
    rule = staticmethod(newton_direction)
    family = "second-order"
    paper = "Levenberg 1944; Marquardt 1963"
    constraints = {
        "damping": POSITIVE,
        "decrease": Range(0.0, 1.0, low_open=True, high_open=True),
        "increase": Range(1.0, low_open=True),
        "max_params": COUNT,
    }

    def __init__(
        self,
        params: Any,
        damping: float = 1.0,
        *,
        decrease: float = 2 / 3,
        increase: float = 3 / 2,
        max_params: int = 4096,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))
        check_dense(self, self.param_groups)

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        return newton_direction(at.hessian(), at.g, damping)

    def curvature(self, at: Point, group: dict[str, Any]) -> Callable[[Tensor], Tensor]:
        """Products with the dense Hessian the direction used."""
        return lambda v: at.hessian() @ v
