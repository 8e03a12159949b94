"""Shared machinery of the methods that mix coordinates: second-order and quasi-Newton.

Their update is not a per-tensor elementwise rule: each param group's parameters are
flattened into one vector ``x`` and the algorithm's math (one function per algorithm, in its
own module) acts on that vector. They subclass :class:`ravine.optim.base.Optimizer` for
validation, registry metadata, error style and ``state_dict``, and override ``step``.

``elementwise = False`` tells the race engine to run one optimizer instance per trajectory.

Closures. The quasi-Newton methods follow ``torch.optim.LBFGS``: the closure zeroes the
gradients, computes the loss, calls ``backward()`` and returns the loss. The methods that use
curvature differentiate the loss themselves and need the graph: their closure returns the loss
*without* calling ``backward()`` (Newton, Levenberg-Marquardt, DiagonalNewton, block-diagonal
Newton), or the pair ``(loss, outputs)`` (GaussNewton, NaturalGradient, HessianFree).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import torch
from torch import Tensor

from ..curvature import flatten, unflatten
from .base import Optimizer, all_finite

__all__ = ["ClosureOptimizer"]


class ClosureOptimizer(Optimizer):
    """Base of the optimizers whose step needs a closure and acts on flat vectors."""

    elementwise: ClassVar[bool] = False
    needs_closure: ClassVar[bool] = True

    def __init__(self, params: Any, **defaults: Any) -> None:
        super().__init__(params, **defaults)

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

    def _require_closure(self, closure: Callable[[], Any] | None) -> Callable[[], Any]:
        if closure is None:
            raise RuntimeError(
                f"{type(self).__name__}.step needs a closure that re-evaluates the loss"
            )
        return closure

    def _check(self, g: Tensor) -> None:
        if self.check_finite and not bool(all_finite(g)):
            raise FloatingPointError(
                f"{type(self).__name__}: non-finite gradient; pass check_finite=False to let "
                "non-finite values through"
            )

    # -- losses with graphs, for the methods that use curvature ------------------------

    def _loss_and_grad(self, closure: Callable[[], Any], params: Sequence[Tensor]):
        """Evaluate the closure with the graph kept; returns (out, loss, grads with graph)."""
        with torch.enable_grad():
            out = closure()
            loss = out[0] if isinstance(out, tuple | list) else out
            if not isinstance(loss, Tensor) or loss.grad_fn is None:
                raise RuntimeError(
                    f"{type(self).__name__}: the closure must return the loss (a tensor with "
                    "its autograd graph) without calling backward()"
                )
            scalar = loss.mean() if loss.dim() > 0 else loss
            try:
                grads = torch.autograd.grad(scalar, params, create_graph=True, allow_unused=True)
            except RuntimeError as err:
                raise RuntimeError(
                    f"{type(self).__name__} differentiates the loss itself: the closure must "
                    f"return the loss without calling backward() ({err})"
                ) from err
        grads = [
            torch.zeros_like(p) if g is None else g for g, p in zip(grads, params, strict=True)
        ]
        return out, scalar, grads

    def _value(self, closure: Callable[[], Any]) -> float:
        """The loss alone (no gradient), for line searches and reduction ratios."""
        with torch.no_grad():
            out = closure()
        loss = out[0] if isinstance(out, tuple | list) else out
        return float(loss.mean() if isinstance(loss, Tensor) and loss.dim() > 0 else loss)
