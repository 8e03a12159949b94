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

from .closure import COUNT, ClosureOptimizer, Point
from .constraints import NONNEGATIVE, Choice
from .line_search import strong_wolfe
from .rule import arguments

__all__ = ["BFGS", "LBFGS", "bfgs_update", "two_loop"]

CURVATURE_EPS = 1e-10  # pairs with y^T s below this are skipped (as torch.optim.LBFGS does)


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


# ------------------------------------------------------------------------------ the methods


class _QuasiNewton(ClosureOptimizer):
    """What BFGS and LBFGS share: one param group (the line search acts on all parameters at
    once), torch's closures, and the stop on a tiny gradient."""

    def __init__(self, params: Any, **defaults: Any) -> None:
        super().__init__(params, **defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"{type(self).__name__} supports one param group only (the line search acts on "
                f"all parameters at once), got {len(self.param_groups)}"
            )

    def converged(self, at: Point, group: dict[str, Any]) -> bool:
        """:math:`\\max_i |g_i| \\le` ``tolerance_grad``."""
        return bool(at.g.abs().max() <= group["tolerance_grad"])


class LBFGS(_QuasiNewton):
    r"""Limited-memory BFGS (Liu and Nocedal 1989; Nocedal and Wright, Algorithm 7.5).

    Each iteration: direction :math:`d = -H g` by :func:`two_loop` from the last
    ``history_size`` pairs; step ``t`` = ``lr`` (the very first iteration uses
    :math:`\min(1, 1/\|g\|_1)\,` ``lr``), or a strong Wolfe line search from that ``t`` when
    ``line_search_fn="strong_wolfe"``.

    Arguments and their meaning are those of ``torch.optim.LBFGS`` (same names, same stopping
    rules, defaults and bitwise-equal iterates in float32 and float64: tested):

    * ``max_iter`` 20: iterations per ``step(closure)``; ``max_iter=1`` makes one step one
      iteration, as ravine's other closure-driven methods take (races and studies compare
      optimizers step by step: pass it there to count iterations alike).
    * ``max_eval`` (default ``None``): closure evaluations per step; ``None`` means
      ``max_iter * 5 // 4``, as in torch.
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
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
        *,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        self.validate({"max_iter": max_iter})  # before it sets max_eval's default
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(**arguments(locals()))

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        """:math:`-g` on the first iteration; then the memory takes the last pair (when it
        passes the curvature condition) and :func:`two_loop` gives the direction."""
        g = at.g
        if int(state["step"]) == 1:
            state["s"], state["y"], state["rho"] = [], [], []
            state["h0"] = torch.tensor(1.0, dtype=g.dtype)
            return -g
        y = g - state["prev_g"]
        s = state["d"] * state["t"]
        ys = y @ s
        if ys > CURVATURE_EPS:
            if len(state["s"]) == int(group["history_size"]):
                for key in ("s", "y", "rho"):
                    state[key].pop(0)
            state["s"].append(s)
            state["y"].append(y)
            state["rho"].append(1.0 / ys)
            state["h0"] = ys / (y @ y)
        return two_loop(g, state["s"], state["y"], state["rho"], state["h0"])

    def initial_step(self, at: Point, group: dict[str, Any], state: dict[str, Any]) -> Any:
        """``lr``; the very first step scaled by :math:`1/\\|g\\|_1`, computed in the
        parameters' dtype as torch does."""
        lr = group["lr"]
        return min(1.0, 1.0 / at.g.abs().sum()) * lr if int(state["step"]) == 1 else lr

    def _iterate(self, closure: Callable[[], Any], group: dict[str, Any]) -> Any:
        """Up to ``max_iter`` iterations, with torch.optim.LBFGS's evaluation count
        (``func_evals``) and stopping rules; returns the loss at the start."""
        params = self._params(group)
        at = start = self._evaluate(closure, params, group)  # checked before any change
        st = self._group_state(group)
        max_iter, max_eval = int(group["max_iter"]), group["max_eval"]
        tol_change = group["tolerance_change"]
        st.setdefault("func_evals", 0)
        for key in ("s", "y", "rho"):
            st.setdefault(key, [])
        evals = 1
        st["func_evals"] += 1
        if self.converged(at, group):
            return start.loss
        for it in range(max_iter):
            st["step"] += 1
            d = self.direction(at, group, st, 0.0)
            st["prev_g"] = at.g.clone()
            t = st["t"] = self.initial_step(at, group, st)
            st["d"] = d
            slope = at.g @ d
            if slope > -tol_change:
                break
            if group["line_search_fn"] == "strong_wolfe":
                phi = self.along(params, d, self.value_and_grad_of(closure, params, group))
                f, g, t, used = strong_wolfe(
                    phi, t, d, at.f, at.g, slope, max_evals=max_eval - evals
                )
                self._add(params, t, d)
                st["t"] = t
                moved = Point(params, None, f, g)
            else:
                self._add(params, t, d)
                last = it == max_iter - 1
                moved, used = (at, 0) if last else (self._evaluate(closure, params, group), 1)
            evals += used
            st["func_evals"] += used
            if it == max_iter - 1 or evals >= max_eval or self.converged(moved, group):
                break
            if (d * t).abs().max() <= tol_change or abs(moved.f - at.f) < tol_change:
                break
            at = moved
        return start.loss


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

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        """:math:`-H g` after :func:`bfgs_update` with the last pair (when it passes the
        curvature condition); :math:`H` restarts from :math:`I` when it has numerically lost
        positive definiteness (:math:`g^\\top d \\ge 0`)."""
        g = at.g
        if "H" not in state:
            state["H"] = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
        else:
            s, y = state["s"], g - state["prev_g"]
            if y @ s > CURVATURE_EPS:
                state["H"] = bfgs_update(state["H"], s, y)
        d = -state["H"] @ g
        if float(g @ d) >= 0:
            state["H"] = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
            d = -g
        return d

    def initial_step(self, at: Point, group: dict[str, Any], state: dict[str, Any]) -> float:
        """``lr``; the first step scaled by :math:`\\min(1, 1/\\|g\\|_1)`."""
        if "H" not in state:
            return min(1.0, 1.0 / float(at.g.abs().sum())) * float(group["lr"])
        return float(group["lr"])

    def _accept(self, at: Point, d: Tensor, t: Any, state: dict[str, Any]) -> None:
        """The step, and the pair's ``s`` and gradient for the next update."""
        super()._accept(at, d, t, state)
        state["s"], state["prev_g"] = t * d, at.g
