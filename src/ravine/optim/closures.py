"""The closure ``step(closure)`` receives, built for the kind each optimizer asks for.

Every optimizer declares a ``closure_kind`` (see :class:`ravine.optim.base.Optimizer`):

* ``"backward"`` (torch's contract) and ``"model"`` (K-FAC, whose hooks watch the forward
  and backward passes): zero the gradients, compute the loss, call ``backward()`` (only
  where gradients are enabled: torch's L-BFGS also calls it under ``no_grad``), return the
  loss;
* ``"loss"``: zero the gradients and return the loss with its graph, no ``backward()``:
  the optimizer differentiates it itself (Newton, the diagonal and block methods);
* ``"outputs"``: zero the gradients and return ``(loss, outputs)``, the loss being the
  vector of per-example losses where the optimizer asks for them (Gauss-Newton, natural
  gradient, Hessian-free).

The closure runs in the grad mode the optimizer calls it in: optimizers that differentiate
the loss call it under ``torch.enable_grad()``, and a value wanted alone (a line search's
trial point) is computed under ``torch.no_grad()`` without a graph or a backward pass.
Callers (trials on training problems, races on landscapes) say how to compute the loss and
the outputs; this module is the one place that knows what each kind does with them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

KINDS = ("backward", "loss", "outputs", "model")


def make_closure(
    kind: str,
    *,
    zero_grad: Callable[[], None],
    loss: Callable[[], torch.Tensor],
    outputs: Callable[[], tuple[torch.Tensor, torch.Tensor]] | None = None,
) -> Callable[[], Any]:
    """The closure for ``kind``: ``loss()`` computes the (summed or averaged) loss,
    ``outputs()`` returns ``(loss or per-example losses, model outputs)`` and is needed for
    the ``"outputs"`` kind only; ``zero_grad()`` clears the gradients."""
    if kind not in KINDS:
        raise ValueError(f"invalid closure_kind={kind!r}; allowed: {', '.join(KINDS)}")
    if kind == "outputs" and outputs is None:
        raise ValueError("closure_kind='outputs' needs outputs= (losses and model outputs)")

    def closure() -> Any:
        zero_grad()
        if kind == "outputs":
            return outputs()
        value = loss()
        if kind != "loss" and torch.is_grad_enabled():
            value.backward()
        return value

    return closure
