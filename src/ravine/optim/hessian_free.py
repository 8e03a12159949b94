r"""Matrix-free curvature methods solved with conjugate gradients: Gauss-Newton, natural
gradient, and Hessian-free optimization.

Each step solves :math:`(C + \lambda I) d = -g` for a curvature matrix :math:`C` known only
through products :math:`v \mapsto Cv` (:func:`ravine.curvature.ggn_graph`,
:func:`ravine.curvature.fisher_graph`), with :func:`ravine.optim.directions.solve_damped`.

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
from .closure import COUNT, ClosureOptimizer, Point
from .constraints import BOOL, NONNEGATIVE, POSITIVE, Choice, Range
from .damping import Damping, LineSearch, TrustRegion
from .directions import solve_damped
from .rule import arguments

__all__ = ["GaussNewton", "HessianFree", "NaturalGradient", "solve_damped"]


class GaussNewton(ClosureOptimizer):
    r"""Gauss-Newton with the generalized Gauss-Newton matrix :math:`G = J^\top (\nabla^2_z L) J`
    (Schraudolph 2002): :math:`x \leftarrow x + \eta d`, :math:`(G + \lambda I) d = -g` by CG.

    :math:`G` is positive semi-definite for a convex loss of the outputs, so the direction is a
    descent direction even where the Hessian is indefinite. For least squares it is the classic
    Gauss-Newton :math:`J^\top J`. Defaults: ``lr`` 1, ``damping`` 1e-3, ``cg_max_iter`` 50,
    ``cg_tol`` 1e-5 (relative residual), ``adaptive_damping`` True. Closure: returns
    ``(loss, outputs)``.

    ``adaptive_damping=True`` (default): ``damping`` is the initial :math:`\lambda`, adapted
    each step by Martens's Levenberg-Marquardt rule from the reduction ratio :math:`\rho`
    (x 2/3 when :math:`\rho > 3/4`, x 3/2 when :math:`\rho < 1/4`), the step shortened by
    Armijo backtracking from ``lr`` when the loss would rise
    (:class:`~ravine.optim.damping.TrustRegion`, as :class:`HessianFree`; Martens 2010,
    section 4.1). ``adaptive_damping=False``: :math:`\lambda` fixed at ``damping`` and the
    step ``lr`` always taken (the behaviour before; with a small ``damping`` it diverges on
    a small MLP with cross-entropy, where the Gauss-Newton model is trusted too far).
    """

    closure_kind = "outputs"
    damping_policy: Damping = TrustRegion(backtrack=True)
    rule = staticmethod(solve_damped)
    family = "second-order"
    paper = "Schraudolph 2002"
    constraints = {
        "damping": NONNEGATIVE,
        "cg_max_iter": COUNT,
        "cg_tol": POSITIVE,
        "adaptive_damping": BOOL,
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 1e-3,
        cg_max_iter: int = 50,
        cg_tol: float = 1e-5,
        adaptive_damping: bool = True,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    def policy(self, group: dict[str, Any]) -> Damping:
        """Levenberg-Marquardt (the class's policy) unless the group fixes the damping."""
        return self.damping_policy if group.get("adaptive_damping", True) else FIXED

    @property
    def per_example_losses(self) -> bool:
        """Whether the closure's loss must be the vector [N] of per-example losses (the
        empirical Fisher needs them); otherwise a scalar mean loss will do."""
        return any(group.get("fisher") == "empirical" for group in self.param_groups)

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        return self._solve(at, group, damping)

    def _solve(
        self, at: Point, group: dict[str, Any], damping: float, x0: Tensor | None = None
    ) -> Tensor:
        matvec = self.curvature(at, group)
        max_iter, tol = int(group["cg_max_iter"]), float(group["cg_tol"])
        return solve_damped(matvec, at.g, damping, x0=x0, max_iter=max_iter, tol=tol)

    def curvature(self, at: Point, group: dict[str, Any]) -> Callable[[Tensor], Tensor]:
        """``v -> G v``, the generalized Gauss-Newton product on the closure's graph."""
        loss, outputs = at.out
        return _product(lambda vs: ggn_graph(_mean(loss), outputs, at.params, vs), at.params)


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
    Defaults: ``lr`` 1, ``damping`` 1e-3 (the initial :math:`\lambda`, adapted as in
    :class:`GaussNewton` unless ``adaptive_damping=False``), ``fisher`` ``"true"``,
    ``likelihood`` ``"categorical"``.
    """

    paper = "Amari 1998"
    constraints = {
        **GaussNewton.constraints,
        "fisher": Choice(("true", "empirical")),
        "likelihood": Choice(LIKELIHOODS),
    }

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
        adaptive_damping: bool = True,
        check_finite: bool = True,
    ) -> None:
        ClosureOptimizer.__init__(self, **arguments(locals()))

    def curvature(self, at: Point, group: dict[str, Any]) -> Callable[[Tensor], Tensor]:
        """``v -> F v``, the true or empirical Fisher product on the closure's graph."""
        loss, outputs = at.out
        kind, likelihood = group["fisher"], group["likelihood"]
        return _product(
            lambda vs: fisher_graph(loss, outputs, at.params, vs, kind=kind, likelihood=likelihood),
            at.params,
        )


class HessianFree(GaussNewton):
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
        ClosureOptimizer.__init__(self, **arguments(locals()))

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        """CG warm-started from the last direction; restarted cold when that start leaves an
        ascent direction."""
        x0 = state["d"] * group["cg_decay"] if "d" in state else None
        d = self._solve(at, group, damping, x0)
        if float(at.g @ d) >= 0:
            d = self._solve(at, group, damping)
        state["d"] = d
        return d


FIXED = LineSearch()  # adaptive_damping=False: lambda fixed, the step lr


def _mean(loss: Tensor) -> Tensor:
    """The mean loss, from a scalar or a vector of per-example losses."""
    return loss.mean() if loss.dim() > 0 else loss


def _product(
    product: Callable[[list[Tensor]], list[Tensor]], params: list[Tensor]
) -> Callable[[Tensor], Tensor]:
    """A curvature product on a graph, ``product(vs)`` over per-parameter tensors (run with
    gradients enabled), as a map of flat vectors."""

    def matvec(v: Tensor) -> Tensor:
        with torch.enable_grad():
            cv = product(unflatten(v, params))
        return flatten(cv).detach()

    return matvec
