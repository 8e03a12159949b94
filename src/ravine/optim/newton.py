r"""Newton's method: exact, damped, Newton-CG, and Levenberg-Marquardt / trust region.

The closure returns the loss *without* calling ``backward()``: these methods differentiate it
themselves, twice. One Newton iteration per ``step(closure)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..curvature import flatten, hessian_graph, hvp_graph, unflatten
from .base import NONNEGATIVE, POSITIVE, Choice, Range, arguments
from .closure import ClosureOptimizer
from .line_search import backtracking, conjugate_gradient, strong_wolfe

__all__ = ["LevenbergMarquardt", "Newton", "adapt_damping", "newton_direction"]

COUNT = Range(1.0)
ALTERNATIVES = (
    "Newton(solver='cg') (matrix-free Newton-CG), HessianFree, LBFGS, KFAC or DiagonalNewton"
)


# ----------------------------------------------------------------------------- the rules


def newton_direction(h: Tensor, g: Tensor, damping: float | Tensor = 0.0) -> Tensor:
    r"""The (damped) Newton direction :math:`d = -(H + \lambda I)^{-1} g` (Newton 1669;
    Levenberg 1944 and Marquardt 1963 for :math:`\lambda > 0`), by a dense solve:
    :math:`O(N^2)` memory, :math:`O(N^3)` time."""
    a = h + damping * torch.eye(h.shape[0], dtype=h.dtype, device=h.device)
    return -torch.linalg.solve(a, g)


def adapt_damping(
    damping: float, rho: float, *, decrease: float = 2 / 3, increase: float = 3 / 2
) -> float:
    r"""Levenberg-Marquardt rule for :math:`\lambda` from the reduction ratio
    :math:`\rho = (f(x) - f(x + d)) / (m(0) - m(d))`, actual over predicted decrease of the
    quadratic model: :math:`\rho > 3/4 \Rightarrow \lambda \leftarrow` ``decrease`` :math:`\lambda`;
    :math:`\rho < 1/4 \Rightarrow \lambda \leftarrow` ``increase`` :math:`\lambda`
    (Nocedal and Wright, Algorithm 4.1; Martens 2010, section 4.1, factors 2/3 and 3/2)."""
    if rho > 0.75:
        return damping * decrease
    if rho < 0.25:
        return damping * increase
    return damping


# ---------------------------------------------------------------------- shared helpers


class _Curvature(ClosureOptimizer):
    """Helpers of the methods whose closure returns the loss with its graph."""

    closure_kind = "loss"

    def _plain(self, closure: Callable[[], Any], params: list[Tensor]) -> tuple[float, Tensor]:
        """Loss and flat gradient at the current parameters (no graph kept)."""
        with torch.enable_grad():
            out = closure()
            loss = out[0] if isinstance(out, tuple | list) else out
            loss = loss.mean() if loss.dim() > 0 else loss
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        return float(loss), flatten(
            [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]
        )

    def _search(
        self,
        kind: str | None,
        closure: Callable[[], Any],
        params: list[Tensor],
        t: float,
        d: Tensor,
        f0: float,
        g: Tensor,
    ) -> float:
        """Step length along d from t: fixed, Armijo backtracking, or strong Wolfe."""
        slope = float(g @ d)
        if kind is None:
            return t
        x0 = self._flat(params)

        def at(step: float):
            self._add(params, step, d)
            try:
                return (
                    self._plain(closure, params) if kind == "strong_wolfe" else self._value(closure)
                )
            finally:
                self._set(params, x0)

        if kind == "backtracking":
            return backtracking(at, t, f0, slope)[0]
        return strong_wolfe(at, t, d, f0, g, slope)[2]


_SOLVERS = Choice(("direct", "cg"))
_SEARCHES = Choice((None, "backtracking", "strong_wolfe"))


class Newton(_Curvature):
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

    rule = staticmethod(newton_direction)
    family = "second-order"
    paper = "Newton 1669; Nocedal and Wright 2006, ch. 3 and 7"
    constraints = {
        "damping": NONNEGATIVE,
        "solver": _SOLVERS,
        "line_search_fn": _SEARCHES,
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
        for group in self.param_groups:
            n = sum(p.numel() for p in self._params(group))
            if group["solver"] == "direct" and n > group["max_params"]:
                raise ValueError(
                    f"Newton: {n} parameters exceed max_params={group['max_params']}; the exact "
                    f"Hessian needs N^2 = {n * n:.3g} entries and its solve N^3 time. Raise "
                    f"max_params if that fits, or use {ALTERNATIVES}"
                )

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Newton iteration per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            out, loss, grads = self._loss_and_grad(closure, params)
            first = loss.detach() if first is None else first
            g = flatten(grads).detach()
            self._check(g)
            with torch.enable_grad():
                if group["solver"] == "direct":
                    h = hessian_graph(grads, params)
                    d = newton_direction(h, g, group["damping"])
                else:

                    def matvec(v: Tensor, grads=grads, params=params, lam=group["damping"]):
                        with torch.enable_grad():
                            hv = hvp_graph(grads, params, unflatten(v, params))
                        return flatten(hv) + lam * v

                    gnorm = float(g.norm())
                    d, _ = conjugate_gradient(
                        matvec, -g, max_iter=int(group["cg_max_iter"]), tol=min(0.5, gnorm**0.5)
                    )
            if group["line_search_fn"] is not None and float(g @ d) >= 0:
                d = -g
            del grads, out
            self._group_state(group)["step"] += 1
            t = self._search(
                group["line_search_fn"], closure, params, float(group["lr"]), d, float(loss), g
            )
            self._add(params, t, d)
        return first


class LevenbergMarquardt(_Curvature):
    r"""Levenberg-Marquardt / trust-region Newton: :math:`d = -(H + \lambda I)^{-1} g` with
    :math:`\lambda` adapted from the reduction ratio (:func:`adapt_damping`)

    .. math:: \rho = \frac{f(x) - f(x + d)}{-(g^\top d + \tfrac12 d^\top H d)}

    The step is taken when :math:`\rho > 0` and rejected (parameters kept) otherwise;
    :math:`\lambda` shrinks by ``decrease`` when :math:`\rho > 3/4` and grows by ``increase``
    when :math:`\rho < 1/4`. A large :math:`\lambda` gives a short gradient step
    :math:`-g/\lambda`; a small one, the Newton step (Levenberg 1944; Marquardt 1963;
    Nocedal and Wright, ch. 4). Exact dense Hessian: same ``max_params`` limit as Newton.
    """

    rule = staticmethod(adapt_damping)
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
        for group in self.param_groups:
            n = sum(p.numel() for p in self._params(group))
            if n > group["max_params"]:
                raise ValueError(
                    f"LevenbergMarquardt: {n} parameters exceed max_params="
                    f"{group['max_params']} (dense N x N Hessian); use {ALTERNATIVES}"
                )

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One trust-region iteration per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            st = self._group_state(group)
            lam = float(st.get("damping", group["damping"]))
            _, loss, grads = self._loss_and_grad(closure, params)
            first = loss.detach() if first is None else first
            g = flatten(grads).detach()
            self._check(g)
            with torch.enable_grad():
                h = hessian_graph(grads, params).detach()
            del grads
            d = newton_direction(h, g, lam)
            predicted = -float(g @ d + 0.5 * d @ (h @ d))
            x0 = self._flat(params)
            self._add(params, 1.0, d)
            actual = float(loss) - self._value(closure)
            rho = actual / predicted if predicted > 0 else -1.0
            if rho <= 0:
                self._set(params, x0)
            st["damping"] = torch.tensor(
                adapt_damping(lam, rho, decrease=group["decrease"], increase=group["increase"])
            )
            st["rho"] = torch.tensor(rho)
            st["step"] += 1
        return first
