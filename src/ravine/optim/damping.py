r"""Damping policies: how a closure-driven method chooses its damping :math:`\lambda` and how
far it goes along a direction :math:`d`.

* :class:`LineSearch`: :math:`\lambda` fixed at the group's ``damping`` (0 without one); the
  step :math:`t` is ``lr``, or what the group's ``line_search_fn`` finds from it (Armijo
  backtracking or strong Wolfe, :mod:`ravine.optim.line_search`).
* :class:`TrustRegion`: :math:`\lambda` adapted by the Levenberg-Marquardt rule
  (:func:`adapt_damping`) from the reduction ratio :math:`\rho` (:func:`reduction_ratio`)
  of a trial full step, which is then accepted, rejected or shortened by backtracking.

Nocedal and Wright, *Numerical Optimization*, 2nd ed., chapters 3 (line searches) and 4
(trust regions; Levenberg-Marquardt is the trust-region method with the constraint carried
by :math:`\lambda`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from .line_search import backtracking, strong_wolfe

if TYPE_CHECKING:
    from collections.abc import Callable

    from .closure import ClosureOptimizer, Point

__all__ = ["Damping", "LineSearch", "TrustRegion", "adapt_damping", "reduction_ratio"]


# ----------------------------------------------------------------------------- the rules


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


def reduction_ratio(f0: float, f1: float, change: float) -> float:
    r"""The reduction ratio :math:`\rho = (f(x + d) - f(x)) / q(d)`: the actual change of the
    loss over the change :math:`q(d) = g^\top d + \frac12 d^\top C d` its quadratic model
    predicts; -1 when the model predicts no decrease (:math:`q(d) \ge 0`)."""
    return (f1 - f0) / change if change < 0 else -1.0


# ---------------------------------------------------------------------------- the policies


class Damping:
    """A damping policy: the damping of an iteration and the step length it takes."""

    def damping(self, group: dict[str, Any], state: dict[str, Any]) -> float:
        """The damping :math:`\\lambda` of this iteration."""
        raise NotImplementedError  # pragma: no cover - abstract

    def step_length(
        self,
        opt: ClosureOptimizer,
        closure: Callable[[], Any],
        at: Point,
        d: Tensor,
        t: Any,
        group: dict[str, Any],
        state: dict[str, Any],
        damping: float,
    ) -> Any:
        """The step ``t`` to take along ``d`` from ``at``, starting from ``t``; None to
        reject the step (the parameters stay at ``at``)."""
        raise NotImplementedError  # pragma: no cover - abstract


class LineSearch(Damping):
    """Damping fixed at the group's ``damping`` (0 without one); ``t`` stays the initial step
    unless the group's ``line_search_fn`` is ``"backtracking"`` (Armijo, on loss values) or
    ``"strong_wolfe"`` (on values and gradients, at most the group's ``max_eval``
    evaluations, 25 without one)."""

    def damping(self, group: dict[str, Any], state: dict[str, Any]) -> float:
        return float(group.get("damping", 0.0))

    def step_length(self, opt, closure, at, d, t, group, state, damping):
        at.release()
        kind = group.get("line_search_fn")
        if kind is None:
            return t
        slope = float(at.g @ d)
        if kind == "backtracking":
            return backtracking(opt.along(at.params, d, opt.value_of(closure)), t, at.f, slope)[0]
        measure = opt.value_and_grad_of(closure, at.params, group)
        phi = opt.along(at.params, d, measure)
        return strong_wolfe(phi, t, d, at.f, at.g, slope, max_evals=group.get("max_eval", 25))[2]


@dataclass(frozen=True)
class TrustRegion(Damping):
    r"""Levenberg-Marquardt damping. :math:`\lambda` starts at the group's ``damping`` and is
    kept in the state; each iteration tries the full step :math:`x + d`, measures
    :math:`\rho` against the model :math:`q(d) = g^\top d + \frac12 d^\top C d` with the
    optimizer's (undamped) ``curvature`` :math:`C`, and sets the next :math:`\lambda` by
    :func:`adapt_damping` (the group's ``decrease`` and ``increase``, 2/3 and 3/2 without
    them). The state records ``damping`` and ``rho``.

    ``backtrack=False`` (Levenberg-Marquardt): the full step is taken when :math:`\rho > 0`
    and rejected otherwise. ``backtrack=True`` (Hessian-free, Martens 2010, section 4.6
    simplified): the full step is taken when the loss did not increase and ``lr`` is 1;
    otherwise Armijo backtracking from ``lr`` (factor 0.8, at most 20 evaluations)."""

    backtrack: bool = False

    def damping(self, group: dict[str, Any], state: dict[str, Any]) -> float:
        return float(state.get("damping", group["damping"]))

    def step_length(self, opt, closure, at, d, t, group, state, damping):
        change = float(at.g @ d + 0.5 * d @ opt.curvature(at, group)(d))
        at.release()
        value = opt.along(at.params, d, opt.value_of(closure))
        f1 = value(1.0)
        rho = reduction_ratio(at.f, f1, change)
        decrease, increase = group.get("decrease", 2 / 3), group.get("increase", 3 / 2)
        state["damping"] = torch.tensor(
            adapt_damping(damping, rho, decrease=decrease, increase=increase)
        )
        state["rho"] = torch.tensor(rho)
        if not self.backtrack:
            return None if rho <= 0 else 1.0
        if f1 > at.f or t != 1.0:
            t = backtracking(value, t, at.f, float(at.g @ d), shrink=0.8, max_evals=20)[0]
        return t
