r"""Matrix-free curvature methods solved with conjugate gradients: Gauss-Newton, natural
gradient, and Hessian-free optimization.

Each step solves :math:`(C + \lambda I) d = -g` for a curvature matrix :math:`C` known only
through products :math:`v \mapsto Cv` (:func:`ravine.curvature.ggn_graph`,
:func:`ravine.curvature.fisher_graph`), with :func:`ravine.optim.line_search.conjugate_gradient`.

The closure returns the pair ``(loss, outputs)`` without calling ``backward()``: ``outputs``
are the network outputs :math:`z` (logits for a categorical likelihood) on which the loss
depends, so that :math:`L = \ell(z(\theta))`. For the empirical Fisher ``loss`` is the vector of
per-example losses (``reduction="none"``); otherwise a scalar mean loss or such a vector
(averaged) both work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..curvature import LIKELIHOODS, fisher_graph, flatten, ggn_graph, unflatten
from .base import NONNEGATIVE, POSITIVE, Choice, Range, arguments
from .line_search import backtracking, conjugate_gradient
from .newton import _Curvature, adapt_damping

__all__ = ["GaussNewton", "HessianFree", "NaturalGradient", "solve_damped"]

COUNT = Range(1.0)


def solve_damped(
    matvec: Callable[[Tensor], Tensor],
    g: Tensor,
    damping: float,
    *,
    x0: Tensor | None = None,
    max_iter: int = 50,
    tol: float = 1e-5,
) -> Tensor:
    r"""The preconditioned direction :math:`d = -(C + \lambda I)^{-1} g` by conjugate gradients
    on :math:`v \mapsto Cv + \lambda v` (warm-started at ``x0``)."""
    d, _ = conjugate_gradient(
        lambda v: matvec(v) + damping * v, -g, x0=x0, max_iter=max_iter, tol=tol
    )
    return d


class _MatrixFree(_Curvature):
    """Evaluates the closure's (loss, outputs) graph and builds the curvature product."""

    closure_kind = "outputs"

    @property
    def per_example_losses(self) -> bool:
        """Whether the closure's loss must be the vector [N] of per-example losses (the
        empirical Fisher needs them); otherwise a scalar mean loss will do."""
        return any(group.get("fisher") == "empirical" for group in self.param_groups)

    def _graph(self, closure: Callable[[], Any], params: list[Tensor]):
        out, loss, grads = self._loss_and_grad(closure, params)
        if not (isinstance(out, tuple | list) and len(out) == 2):
            raise RuntimeError(
                f"{type(self).__name__}: the closure must return the pair (loss, outputs), the "
                "network outputs the loss is computed from, without calling backward()"
            )
        raw_loss, outputs = out
        g = flatten(grads).detach()
        self._check(g)
        return raw_loss, loss, outputs, g

    def _product(self, kind: str, raw_loss, outputs, params, group) -> Callable[[Tensor], Tensor]:
        def matvec(v: Tensor) -> Tensor:
            vs = unflatten(v, params)
            with torch.enable_grad():
                if kind == "ggn":
                    scalar = raw_loss.mean() if raw_loss.dim() > 0 else raw_loss
                    cv = ggn_graph(scalar, outputs, params, vs)
                else:
                    cv = fisher_graph(
                        raw_loss,
                        outputs,
                        params,
                        vs,
                        kind=group["fisher"],
                        likelihood=group["likelihood"],
                    )
            return flatten(cv).detach()

        return matvec


class GaussNewton(_MatrixFree):
    r"""Gauss-Newton with the generalized Gauss-Newton matrix :math:`G = J^\top (\nabla^2_z L) J`
    (Schraudolph 2002): :math:`x \leftarrow x + \eta d`, :math:`(G + \lambda I) d = -g` by CG.

    :math:`G` is positive semi-definite for a convex loss of the outputs, so the direction is a
    descent direction even where the Hessian is indefinite. For least squares it is the classic
    Gauss-Newton :math:`J^\top J`. Defaults: ``lr`` 1, ``damping`` 1e-3, ``cg_max_iter`` 50,
    ``cg_tol`` 1e-5 (relative residual). Closure: returns ``(loss, outputs)``.
    """

    rule = staticmethod(solve_damped)
    family = "second-order"
    paper = "Schraudolph 2002"
    constraints = {"damping": NONNEGATIVE, "cg_max_iter": COUNT, "cg_tol": POSITIVE}

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 1e-3,
        cg_max_iter: int = 50,
        cg_tol: float = 1e-5,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    _kind = "ggn"

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One preconditioned step per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            raw, loss, outputs, g = self._graph(closure, params)
            first = loss.detach() if first is None else first
            matvec = self._product(self._kind, raw, outputs, params, group)
            d = solve_damped(
                matvec,
                g,
                float(group["damping"]),
                max_iter=int(group["cg_max_iter"]),
                tol=float(group["cg_tol"]),
            )
            self._group_state(group)["step"] += 1
            self._add(params, float(group["lr"]), d)
        return first


class NaturalGradient(GaussNewton):
    r"""Natural gradient descent (Amari 1998): :math:`x \leftarrow x - \eta (F + \lambda I)^{-1} g`
    with the Fisher information :math:`F`, solved by CG on Fisher-vector products.

    ``fisher="true"``: :math:`F = \frac1N \sum_n J_n^\top F_z(z_n) J_n` with the likelihood's
    output-space Fisher (``likelihood`` = ``"categorical"`` for softmax logits, ``"bernoulli"``
    for one logit per output, ``"gaussian"`` for unit-variance regression); equal to the GGN of
    the matching negative log-likelihood (Martens 2014). ``fisher="empirical"``:
    :math:`\hat F = \frac1N \sum_n \nabla\ell_n \nabla\ell_n^\top` from the per-example losses
    (the closure returns ``(losses, outputs)`` with ``losses`` of shape [N]); cheaper to explain,
    but not the Fisher, and a poor curvature model far from the optimum (Kunstner et al. 2019).
    Defaults: ``lr`` 1, ``damping`` 1e-3, ``fisher`` ``"true"``, ``likelihood`` ``"categorical"``.
    """

    paper = "Amari 1998"
    constraints = {
        **GaussNewton.constraints,
        "fisher": Choice(("true", "empirical")),
        "likelihood": Choice(LIKELIHOODS),
    }
    _kind = "fisher"

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 1e-3,
        fisher: str = "true",
        likelihood: str = "categorical",
        cg_max_iter: int = 50,
        cg_tol: float = 1e-5,
        check_finite: bool = True,
    ) -> None:
        _MatrixFree.__init__(
            self,
            params,
            lr=lr,
            damping=damping,
            fisher=fisher,
            likelihood=likelihood,
            cg_max_iter=cg_max_iter,
            cg_tol=cg_tol,
            check_finite=check_finite,
        )


class HessianFree(_MatrixFree):
    r"""Hessian-free optimization (Martens 2010): truncated CG on the damped Gauss-Newton system
    :math:`(G + \lambda I) d = -g`, with

    * CG warm-started from ``cg_decay`` times the previous solution (section 4.5),
    * Levenberg-Marquardt damping from the reduction ratio
      :math:`\rho = (f(x+d) - f(x)) / (g^\top d + \frac12 d^\top G d)` (:func:`adapt_damping`:
      x 2/3 when :math:`\rho > 3/4`, x 3/2 when :math:`\rho < 1/4`),
    * Armijo backtracking on the step when the loss did not decrease (section 4.6, simplified).

    Not implemented from the paper: CG-iterate backtracking, the structural damping and the
    mini-batch schedule. Defaults: ``damping`` 1 (initial lambda), ``cg_max_iter`` 50,
    ``cg_tol`` 5e-4, ``cg_decay`` 0.95. Closure: returns ``(loss, outputs)``.
    """

    rule = staticmethod(adapt_damping)
    family = "second-order"
    paper = "Martens 2010"
    constraints = {
        "damping": POSITIVE,
        "cg_max_iter": COUNT,
        "cg_tol": POSITIVE,
        "cg_decay": Range(0.0, 1.0),
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 1.0,
        cg_max_iter: int = 50,
        cg_tol: float = 5e-4,
        cg_decay: float = 0.95,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Hessian-free iteration per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            st = self._group_state(group)
            lam = float(st.get("damping", group["damping"]))
            raw, loss, outputs, g = self._graph(closure, params)
            first = loss.detach() if first is None else first
            matvec = self._product("ggn", raw, outputs, params, group)
            x0 = st["d"] * group["cg_decay"] if "d" in st else None
            d = solve_damped(
                matvec,
                g,
                lam,
                x0=x0,
                max_iter=int(group["cg_max_iter"]),
                tol=float(group["cg_tol"]),
            )
            if float(g @ d) >= 0:  # a warm start can leave an ascent direction: restart CG
                d = solve_damped(
                    matvec, g, lam, max_iter=int(group["cg_max_iter"]), tol=float(group["cg_tol"])
                )
            predicted = float(g @ d + 0.5 * d @ matvec(d))
            del raw, outputs
            f0 = float(loss)
            x = self._flat(params)
            self._add(params, 1.0, d)
            f1 = self._value(closure)
            rho = (f1 - f0) / predicted if predicted < 0 else -1.0
            t = float(group["lr"])
            if f1 > f0 or t != 1.0:
                self._set(params, x)

                def value(step: float, params=params, x=x, d=d) -> float:
                    self._add(params, step, d)
                    try:
                        return self._value(closure)
                    finally:
                        self._set(params, x)

                t = backtracking(value, t, f0, float(g @ d), shrink=0.8, max_evals=20)[0]
                self._add(params, t, d)
            st["d"] = d
            st["damping"] = torch.tensor(adapt_damping(lam, rho))
            st["rho"] = torch.tensor(rho)
            st["step"] += 1
        return first
