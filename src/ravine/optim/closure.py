"""The loop shared by the methods that mix coordinates: second-order and quasi-Newton.

Their update is not a per-tensor elementwise rule: each param group's parameters are
flattened into one vector ``x`` and the algorithm acts on that vector. One iteration is the
same for all of them, and is written here once (:meth:`ClosureOptimizer.step`):

1. **evaluate** the closure at ``x``: the loss, its flat gradient ``g`` (checked finite) and,
   for the methods that use curvature, the graph to take curvature products on (a
   :class:`Point`);
2. **direction**: ``d`` from the algorithm's one pure function (a Newton solve, conjugate
   gradients, the two-loop recursion, ...), called by its :meth:`~ClosureOptimizer.direction`;
3. **step length** and **accept**: the class's damping policy (:mod:`ravine.optim.damping`)
   chooses the damping ``lambda`` and ``t``: a fixed step or a line search, or a trust-region
   test that may reject the step; then ``x <- x + t d``;
4. **count**: the group's ``step``.

Every look at a trial point ``x + t d`` goes through :meth:`ClosureOptimizer.along`, which
puts the parameters back afterwards.

``elementwise = False`` tells the race engine to run one optimizer instance per trajectory.

Closures. The quasi-Newton methods follow ``torch.optim.LBFGS``: the closure zeroes the
gradients, computes the loss, calls ``backward()`` and returns the loss. The methods that use
curvature differentiate the loss themselves and need the graph: their closure returns the loss
*without* calling ``backward()`` (Newton, Levenberg-Marquardt, DiagonalNewton, block-diagonal
Newton), or the pair ``(loss, outputs)`` (GaussNewton, NaturalGradient, HessianFree). They also
take the closure AdaHessian users write, which calls ``loss.backward(create_graph=True)`` and
returns the loss: the gradients it leaves (with their graph) are used, with the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..curvature import flatten, hessian_graph, hvp_graph, unflatten
from .base import Optimizer
from .constraints import COUNT, ScalarHyperparameters
from .damping import Damping, LineSearch
from .finite import check_gradients

__all__ = ["COUNT", "ClosureOptimizer", "Point"]


@dataclass
class Point:
    """The closure evaluated at the current parameters of one param group.

    ``loss`` is what ``step`` returns, ``f`` the loss as a number and ``g`` the flat gradient
    (both of the negated loss under ``maximize``). For the closures that return the loss with
    its graph, ``grads`` is the gradient with its own graph and ``out`` the closure's return
    value: curvature products are taken on them until :meth:`release`."""

    params: list[Tensor]
    loss: Any
    f: float
    g: Tensor
    grads: list[Tensor] | None = None
    out: Any = None
    _hessians: dict[tuple[int, ...] | None, Tensor] = field(default_factory=dict, repr=False)

    def hessian(self, block: Sequence[int] | None = None) -> Tensor:
        """The dense Hessian (of the parameters numbered ``block`` only), computed once."""
        key = None if block is None else tuple(block)
        if key not in self._hessians:
            grads, params = self.grads, self.params
            if key is not None:
                grads, params = [grads[i] for i in key], [params[i] for i in key]
            with torch.enable_grad():
                self._hessians[key] = hessian_graph(grads, params).detach()
        return self._hessians[key]

    def hvp(self, v: Tensor) -> Tensor:
        """The Hessian-vector product ``H v`` of flat vectors, on the graph."""
        with torch.enable_grad():
            return flatten(hvp_graph(self.grads, self.params, unflatten(v, self.params)))

    def release(self) -> None:
        """Drop the graph: the step length's evaluations do not need it."""
        self.grads = self.out = None


class ClosureOptimizer(ScalarHyperparameters, Optimizer):
    """Base of the optimizers whose step needs a closure and acts on flat vectors.

    A subclass writes :meth:`direction` (its math, one pure function) and picks a
    ``damping_policy`` (default: :class:`~ravine.optim.damping.LineSearch`, the damping fixed
    at the group's ``damping`` and ``t`` from ``lr`` or a line search). Its hyperparameters
    are numbers, never tensors of several values (:class:`~ravine.optim.constraints.Scalar`)."""

    elementwise: ClassVar[bool] = False
    needs_closure: ClassVar[bool] = True
    damping_policy: ClassVar[Damping] = LineSearch()
    # Whether the last closure called loss.backward(create_graph=True) itself (then its
    # evaluations for a loss value alone need gradients enabled too).
    _closure_backward: bool = False

    # -- what an algorithm supplies ----------------------------------------------------

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        """The search direction ``d`` at ``at`` (may read and update the group's state)."""
        raise NotImplementedError  # pragma: no cover - abstract

    def curvature(self, at: Point, group: dict[str, Any]) -> Callable[[Tensor], Tensor]:
        """``v -> C v`` for the curvature ``C`` of the algorithm's quadratic model (read by
        the trust-region policy); the Hessian by default."""
        return at.hvp

    def initial_step(self, at: Point, group: dict[str, Any], state: dict[str, Any]) -> Any:
        """The step length a line search starts from: ``lr`` (1 for methods without one)."""
        return float(group.get("lr", 1.0))

    def policy(self, group: dict[str, Any]) -> Damping:
        """The damping policy of ``group``: the class's ``damping_policy`` by default."""
        return self.damping_policy

    def converged(self, at: Point, group: dict[str, Any]) -> bool:
        """Whether to stop before moving (quasi-Newton methods: a tiny gradient)."""
        return False

    # -- the loop ----------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One iteration per param group; returns the loss before it (of the first group)."""
        closure = self._require_closure(closure)
        if self.check_finite and len(self.param_groups) > 1:
            self._check_every_group(closure)
        losses = [self._iterate(closure, group) for group in self.param_groups]
        return losses[0]

    def _check_every_group(self, closure: Callable[[], Any]) -> None:
        """With several groups, each iteration evaluates its own group's gradient after the
        groups before it have moved: check every group's gradient at the start, before any
        group moves (one extra evaluation; nothing is kept from it)."""
        groups = [self._params(g) for g in self.param_groups]
        flat = [p for ps in groups for p in ps]
        if self.closure_kind == "backward":
            with torch.enable_grad():
                closure()
            grads = [p.grad for p in flat]
        else:
            grads = self._loss_and_grad(closure, flat)[2]
            grads = [g.detach() for g in grads]
            _detach_grads(self.param_groups)
        probes = [g for g in grads if g is not None]
        laid_out, k = [], 0
        for ps in groups:
            laid_out.append(grads[k : k + len(ps)])
            k += len(ps)
        check_gradients(type(self).__name__, probes, groups, laid_out)

    def _iterate(self, closure: Callable[[], Any], group: dict[str, Any]) -> Any:
        """Evaluate, direction, step length, accept, count; returns the loss before."""
        params = self._params(group)
        at = self._evaluate(closure, params, group)  # checked: nothing changed before it
        state = self._group_state(group)
        if self.converged(at, group):
            return at.loss
        policy = self.policy(group)
        damping = policy.damping(group, state)
        t = self.initial_step(at, group, state)
        d = self.direction(at, group, state, damping)
        state["step"] += 1
        t = policy.step_length(self, closure, at, d, t, group, state, damping)
        self._accept(at, d, t, state)
        return at.loss

    def _accept(self, at: Point, d: Tensor, t: Any, state: dict[str, Any]) -> None:
        """``x <- x + t d``, unless the policy rejected the step (``t`` None)."""
        if t is not None:
            self._add(at.params, t, d)

    def along(
        self, params: Sequence[Tensor], d: Tensor, measure: Callable[[], Any]
    ) -> Callable[[Any], Any]:
        """``phi(t)``: ``measure()`` evaluated at ``x + t d``, the parameters put back to ``x``
        afterwards (even when ``measure`` raises). Every trial point is visited through it."""
        x = self._flat(params)

        def phi(t: Any) -> Any:
            self._add(params, t, d)
            try:
                return measure()
            finally:
                self._set(params, x)

        return phi

    # -- evaluating the closure ---------------------------------------------------------

    def _evaluate(
        self, closure: Callable[[], Any], params: list[Tensor], group: dict[str, Any]
    ) -> Point:
        """The closure at the current parameters, as its ``closure_kind`` asks."""
        if self.closure_kind == "backward":
            with torch.enable_grad():
                loss = closure()
            g = self._flat_grad(params)
            self._check(group, g, {id(p): p.grad for p in params})
            maximize = bool(group.get("maximize", False))
            if maximize:
                g = -g
            value = float(loss)
            return Point(params, loss, -value if maximize else value, g)
        out, loss, grads = self._loss_and_grad(closure, params)
        self._closure_backward = _detach_grads(self.param_groups)
        if self.closure_kind == "outputs" and not (isinstance(out, tuple | list) and len(out) == 2):
            raise RuntimeError(
                f"{type(self).__name__}: the closure must return the pair (loss, outputs), the "
                "network outputs the loss is computed from, without calling backward()"
            )
        g = flatten(grads).detach()
        self._check(group, g, {id(p): gi for p, gi in zip(params, grads, strict=True)})
        return Point(params, loss.detach(), float(loss), g, grads, out)

    def _loss_and_grad(self, closure: Callable[[], Any], params: Sequence[Tensor]):
        """Evaluate the closure with the graph kept; returns (out, loss, grads with graph).

        Two closures give the same numbers: the documented one returns the loss with its
        graph, and the gradient is taken here; the one AdaHessian users write calls
        ``loss.backward(create_graph=True)`` itself, and the gradients it leaves in ``.grad``
        (with their graph) are used. Those are detached afterwards: a gradient that holds
        its own graph keeps it alive (torch warns of a reference cycle)."""
        with torch.enable_grad():
            out = closure()
            loss = out[0] if isinstance(out, tuple | list) else out
            if not isinstance(loss, Tensor) or loss.grad_fn is None:
                raise RuntimeError(
                    f"{type(self).__name__}: the closure must return the loss (a tensor with "
                    "its autograd graph), without calling backward() or after calling "
                    "loss.backward(create_graph=True)"
                )
            scalar = loss.mean() if loss.dim() > 0 else loss
            graphed = _graphed_grads(params)
            if graphed is not None:
                return out, scalar, graphed
            try:
                grads = torch.autograd.grad(scalar, params, create_graph=True, allow_unused=True)
            except RuntimeError as err:
                raise RuntimeError(
                    f"{type(self).__name__} differentiates the loss itself: the closure must "
                    "return the loss without calling backward(), or call "
                    f"loss.backward(create_graph=True) ({err})"
                ) from err
        return out, scalar, _zeros_for_none(grads, params)

    def value_of(self, closure: Callable[[], Any]) -> Callable[[], float]:
        """The loss alone, for line searches and reduction ratios: without a graph, except
        for a closure that calls ``backward()`` itself (it needs one)."""

        def value() -> float:
            with torch.set_grad_enabled(self._closure_backward):
                out = closure()
            _detach_grads(self.param_groups)
            loss = out[0] if isinstance(out, tuple | list) else out
            return float(loss.mean() if isinstance(loss, Tensor) and loss.dim() > 0 else loss)

        return value

    def value_and_grad_of(
        self, closure: Callable[[], Any], params: list[Tensor], group: dict[str, Any]
    ) -> Callable[[], tuple[float, Tensor]]:
        """The loss and flat gradient, for the strong Wolfe search: as at the start of the
        step for ``backward()`` closures; without a graph (and unchecked) for the others."""
        if self.closure_kind == "backward":

            def evaluated() -> tuple[float, Tensor]:
                at = self._evaluate(closure, params, group)
                return at.f, at.g

            return evaluated

        def plain() -> tuple[float, Tensor]:
            with torch.enable_grad():
                out = closure()
                loss = out[0] if isinstance(out, tuple | list) else out
                loss = loss.mean() if loss.dim() > 0 else loss
                grads = _graphed_grads(params)
                if grads is None:
                    grads = torch.autograd.grad(loss, params, allow_unused=True)
            _detach_grads(self.param_groups)
            return float(loss), flatten(_zeros_for_none(grads, params)).detach()

        return plain

    def _require_closure(self, closure: Callable[[], Any] | None) -> Callable[[], Any]:
        if closure is None:
            raise RuntimeError(
                f"{type(self).__name__}.step needs a closure that re-evaluates the loss"
            )
        return closure

    def _check(self, group: dict[str, Any], g: Tensor, grads: dict[int, Tensor | None]) -> None:
        """Raise :class:`FloatingPointError` naming the first parameter of ``group`` whose
        gradient (in ``grads``, by parameter id; ``g`` all of them flat) is not finite."""
        if self.check_finite:
            gi = next(i for i, gr in enumerate(self.param_groups) if gr is group)
            by_position = [[grads.get(id(p)) for p in group["params"]]]
            check_gradients(type(self).__name__, [g], [group["params"]], by_position, gi)

    # -- flat views of a param group -------------------------------------------------

    @staticmethod
    def _params(group: dict[str, Any]) -> list[Tensor]:
        return [p for p in group["params"] if p.requires_grad]

    @staticmethod
    def _flat(params: Sequence[Tensor]) -> Tensor:
        return flatten([p.detach() for p in params])

    @staticmethod
    def _flat_grad(params: Sequence[Tensor]) -> Tensor:
        return flatten([torch.zeros_like(p) if p.grad is None else p.grad for p in params])

    @staticmethod
    def _add(params: Sequence[Tensor], t: float | Tensor, d: Tensor) -> None:
        """x <- x + t d, in place on the parameters."""
        for p, di in zip(params, unflatten(d, params), strict=True):
            p.add_(di, alpha=t)

    @staticmethod
    def _set(params: Sequence[Tensor], x: Tensor) -> None:
        for p, xi in zip(params, unflatten(x, params), strict=True):
            p.copy_(xi)

    def _group_state(self, group: dict[str, Any]) -> dict[str, Any]:
        """The state of a param group, kept on its first parameter (as torch's LBFGS does)."""
        state = self.state[group["params"][0]]
        if "step" not in state:
            state["step"] = torch.tensor(0.0)
        return state


def _graphed_grads(params: Sequence[Tensor]) -> list[Tensor] | None:
    """The gradients a closure's ``loss.backward(create_graph=True)`` left in ``.grad``
    (those that carry a graph), or None when it did not call it."""
    grads = [p.grad for p in params]
    if not any(g is not None and g.requires_grad for g in grads):
        return None
    return _zeros_for_none(grads, params)


def _detach_grads(groups: Sequence[dict[str, Any]]) -> bool:
    """Drop the graph of every ``.grad`` that holds one; whether any did."""
    found = False
    for group in groups:
        for p in group["params"]:
            if p.grad is not None and p.grad.requires_grad:
                p.grad = p.grad.detach()
                found = True
    return found


def _zeros_for_none(grads: Sequence[Tensor | None], params: Sequence[Tensor]) -> list[Tensor]:
    """Gradients with zeros for the parameters the loss does not use."""
    return [torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)]
