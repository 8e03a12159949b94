r"""Quasi-Newton methods: BFGS and limited-memory BFGS.

Both build a model of the inverse Hessian from differences of gradients,
:math:`s_k = x_{k+1} - x_k`, :math:`y_k = g_{k+1} - g_k`, with :math:`\rho_k = 1/(y_k^\top s_k)`
(Nocedal and Wright, *Numerical Optimization*, 2nd ed., chapters 6 and 7). A pair is used only
when the curvature condition :math:`y^\top s > 10^{-10}` holds (the strong Wolfe line search
guarantees it on smooth problems).

Closures follow ``torch.optim.LBFGS``: zero the gradients, compute the loss, call
``backward()``, return the loss. One param group only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

from .base import NONNEGATIVE, Choice, Range, arguments
from .closure import ClosureOptimizer
from .line_search import strong_wolfe

__all__ = ["BFGS", "LBFGS", "bfgs_update", "two_loop"]

CURVATURE_EPS = 1e-10  # pairs with y^T s below this are skipped (as torch.optim.LBFGS does)
COUNT = Range(1.0)


# ----------------------------------------------------------------------------- the rules


def two_loop(
    g: Tensor, s: Sequence[Tensor], y: Sequence[Tensor], rho: Sequence[Tensor], h0: Tensor | float
) -> Tensor:
    r"""L-BFGS direction :math:`d = -H_k g` by the two-loop recursion (Nocedal and Wright,
    Algorithm 7.4; Liu and Nocedal 1989), with :math:`H_k^0 = \gamma I`,
    :math:`\gamma = s^\top y / y^\top y` of the newest pair::

        q = g;  for i = k-1 .. k-m:  a_i = rho_i s_i^T q;  q -= a_i y_i
        r = gamma q;  for i = k-m .. k-1:  b = rho_i y_i^T r;  r += (a_i - b) s_i
        d = -r
    """
    q = g.neg()  # the recursion on -g, with torch's operation order: bitwise-equal results
    alphas = []
    for si, yi, ri in zip(reversed(s), reversed(y), reversed(rho), strict=True):
        a = (si @ q) * ri
        q.add_(yi, alpha=-a)
        alphas.append(a)
    r = q * h0
    for si, yi, ri, a in zip(s, y, rho, reversed(alphas), strict=True):
        b = (yi @ r) * ri
        r.add_(si, alpha=a - b)
    return r


def bfgs_update(h: Tensor, s: Tensor, y: Tensor) -> Tensor:
    r"""BFGS update of the inverse Hessian approximation (Nocedal and Wright, eq. 6.17;
    Broyden, Fletcher, Goldfarb and Shanno 1970):

    .. math:: H_{k+1} = (I - \rho s y^\top) H_k (I - \rho y s^\top) + \rho s s^\top,
              \quad \rho = 1 / y^\top s
    """
    rho = 1.0 / (y @ s)
    hy = h @ y
    return (
        h
        - rho * (torch.outer(s, hy) + torch.outer(hy, s))
        + (rho * rho * (y @ hy) + rho) * torch.outer(s, s)
    )


# ------------------------------------------------------------------------ shared driver


class _QuasiNewton(ClosureOptimizer):
    """Shared closure evaluation and line search of BFGS and LBFGS (one param group)."""

    def __init__(self, params: Any, **defaults: Any) -> None:
        super().__init__(params, **defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"{type(self).__name__} supports one param group only (the line search acts on "
                f"all parameters at once), got {len(self.param_groups)}"
            )

    def _evaluate_closure(self, closure: Callable[[], Any], params: list[Tensor]):
        with torch.enable_grad():
            loss = closure()
        g = self._flat_grad(params)
        if group_maximize(self):
            g = -g
        self._check(g)
        value = float(loss)
        return loss, (-value if group_maximize(self) else value), g

    def _line_search(self, closure, params, t, d, f, g, slope, max_evals):
        x0 = self._flat(params)

        def phi(step: float) -> tuple[float, Tensor]:
            self._add(params, step, d)
            _, value, grad = self._evaluate_closure(closure, params)
            self._set(params, x0)
            return value, grad

        return strong_wolfe(phi, t, d, f, g, slope, max_evals=max_evals)


def group_maximize(opt: ClosureOptimizer) -> bool:
    return bool(opt.param_groups[0].get("maximize", False))


class LBFGS(_QuasiNewton):
    r"""Limited-memory BFGS (Liu and Nocedal 1989; Nocedal and Wright, Algorithm 7.5).

    Each iteration: direction :math:`d = -H g` by :func:`two_loop` from the last
    ``history_size`` pairs; step ``t`` = ``lr`` (the very first iteration uses
    :math:`\min(1, 1/\|g\|_1)\,` ``lr``), or a strong Wolfe line search from that ``t`` when
    ``line_search_fn="strong_wolfe"``.

    Arguments and their meaning are those of ``torch.optim.LBFGS`` (same names, same stopping
    rules, bitwise-equal iterates in float32 and float64: tested), with one default changed:

    * ``max_iter`` (default **1**, torch: 20): iterations per ``step(closure)``. ravine's
      closure-driven methods take one iteration per step unless told otherwise; pass
      ``max_iter=20`` for torch's behaviour.
    * ``max_eval`` (default ``None``): closure evaluations per step; ``None`` means
      ``max(max_iter * 5 // 4, 25)``, which equals torch's ``max_iter * 5 // 4`` for every
      ``max_iter >= 20`` (torch's default included) and leaves the line search room for
      smaller ``max_iter``.
    * ``tolerance_grad`` 1e-7 (stop when :math:`\max|g| \le` it), ``tolerance_change`` 1e-9
      (stop on tiny steps or loss changes), ``history_size`` 100, ``lr`` 1,
      ``line_search_fn`` ``None`` or ``"strong_wolfe"``.

    Memory: ``2 * history_size`` vectors of the parameter count.
    """

    rule = staticmethod(two_loop)
    family = "quasi-Newton"
    paper = "Liu and Nocedal 1989"
    constraints = {
        "max_iter": COUNT,
        "max_eval": COUNT,
        "tolerance_grad": NONNEGATIVE,
        "tolerance_change": NONNEGATIVE,
        "history_size": COUNT,
        "line_search_fn": Choice((None, "strong_wolfe")),
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        max_iter: int = 1,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
        *,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        if max_eval is None:
            max_eval = max(int(max_iter) * 5 // 4, 25)
        super().__init__(
            params,
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
            maximize=maximize,
            check_finite=check_finite,
        )

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """Up to ``max_iter`` L-BFGS iterations; returns the loss at the start of the step."""
        closure = self._require_closure(closure)
        group = self.param_groups[0]
        params = self._params(group)
        lr, max_iter, max_eval = group["lr"], int(group["max_iter"]), group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        st = self._group_state(group)
        st.setdefault("func_evals", 0)
        for key in ("s", "y", "rho"):
            st.setdefault(key, [])

        orig_loss, loss, g = self._evaluate_closure(closure, params)
        evals = 1
        st["func_evals"] += 1
        if g.abs().max() <= tol_grad:
            return orig_loss

        for it in range(max_iter):
            st["step"] += 1
            if int(st["step"]) == 1:
                d = -g
                st["s"], st["y"], st["rho"] = [], [], []
                st["h0"] = torch.tensor(1.0, dtype=g.dtype)
            else:
                y = g - st["prev_g"]
                s = st["d"] * st["t"]
                ys = y @ s
                if ys > CURVATURE_EPS:
                    if len(st["s"]) == int(group["history_size"]):
                        for key in ("s", "y", "rho"):
                            st[key].pop(0)
                    st["s"].append(s)
                    st["y"].append(y)
                    st["rho"].append(1.0 / ys)
                    st["h0"] = ys / (y @ y)
                d = two_loop(g, st["s"], st["y"], st["rho"], st["h0"])
            st["prev_g"] = g.clone()
            prev_loss = loss
            # the first step is scaled by 1/|g|_1, computed in the parameters' dtype as torch does
            t = min(1.0, 1.0 / g.abs().sum()) * lr if int(st["step"]) == 1 else lr
            st["d"], st["t"] = d, t
            slope = g @ d
            if slope > -tol_change:
                break
            if group["line_search_fn"] == "strong_wolfe":
                loss, g, t, used = self._line_search(
                    closure, params, t, d, loss, g, slope, max_eval - evals
                )
                self._add(params, t, d)
                st["t"] = t
            else:
                self._add(params, t, d)
                used = 0
                if it != max_iter - 1:
                    _, loss, g = self._evaluate_closure(closure, params)
                    used = 1
            evals += used
            st["func_evals"] += used
            if it == max_iter - 1 or evals >= max_eval:
                break
            if g.abs().max() <= tol_grad:
                break
            if (d * t).abs().max() <= tol_change or abs(loss - prev_loss) < tol_change:
                break
        return orig_loss


class BFGS(_QuasiNewton):
    r"""BFGS with a dense inverse-Hessian approximation (Broyden, Fletcher, Goldfarb, Shanno
    1970; Nocedal and Wright, Algorithm 6.1).

    One iteration per ``step(closure)``: :math:`d = -H_k g_k`, a strong Wolfe line search from
    ``t = lr`` (the first iteration starts from :math:`\min(1, 1/\|g\|_1)`), then
    :func:`bfgs_update` with the pair it produced. :math:`H_0 = I`, as in
    ``scipy.optimize.minimize(method="BFGS")``. ``line_search_fn=None`` takes the fixed step
    ``lr`` instead. Memory :math:`N^2`: for small problems (use :class:`LBFGS` beyond).

    The update is skipped when the curvature condition :math:`y^\top s > 10^{-10}` fails
    (Nocedal and Wright, section 6.1), as ``torch.optim.LBFGS`` skips its history update:
    a step with ``lr`` 0 (the start of a warm-up) moves nothing and leaves :math:`H` as it is.
    """

    rule = staticmethod(bfgs_update)
    family = "quasi-Newton"
    paper = "Broyden 1970; Fletcher 1970; Goldfarb 1970; Shanno 1970"
    constraints = {
        "tolerance_grad": NONNEGATIVE,
        "max_eval": COUNT,
        "line_search_fn": Choice((None, "strong_wolfe")),
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        tolerance_grad: float = 1e-7,
        max_eval: int = 25,
        line_search_fn: str | None = "strong_wolfe",
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One BFGS iteration; returns the loss before it."""
        closure = self._require_closure(closure)
        group = self.param_groups[0]
        params = self._params(group)
        st = self._group_state(group)
        orig_loss, loss, g = self._evaluate_closure(closure, params)
        if g.abs().max() <= group["tolerance_grad"]:
            return orig_loss
        if "H" not in st:
            st["H"] = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
            t = min(1.0, 1.0 / float(g.abs().sum())) * float(group["lr"])
        else:
            s, y = st["s"], g - st["prev_g"]
            if y @ s > CURVATURE_EPS:
                st["H"] = bfgs_update(st["H"], s, y)
            t = float(group["lr"])
        st["step"] += 1
        d = -st["H"] @ g
        slope = float(g @ d)
        if slope >= 0:  # H lost positive definiteness numerically: restart from I
            st["H"] = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
            d, slope = -g, -float(g @ g)
        if group["line_search_fn"] == "strong_wolfe":
            _, _, t, _ = self._line_search(closure, params, t, d, loss, g, slope, group["max_eval"])
        self._add(params, t, d)
        st["s"], st["prev_g"] = t * d, g
        return orig_loss
