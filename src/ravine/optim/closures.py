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
the outputs; this module is the one place that knows what each kind does with them, and
how a closure is evaluated at a look-ahead point (:func:`evaluate_offset`).
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


def evaluate_offset(
    owner: str, closure: Callable[[], Any] | None, offsets: list[tuple[torch.Tensor, torch.Tensor]]
) -> Any:
    """The closure evaluated with each parameter ``p`` of ``offsets`` moved to ``p + offset``
    (a look-ahead point, as Sutskever et al.'s Nesterov takes its gradient) and moved back
    afterwards, even when the closure raises; with no offsets, simply the closure."""
    if not offsets:
        if closure is None:
            return None
        with torch.enable_grad():
            return closure()
    if closure is None:
        raise RuntimeError(
            f"{owner} takes its gradient at a look-ahead point: "
            "call step(closure) with a closure that recomputes the loss and its gradients"
        )
    saved = [(p, p.detach().clone()) for p, _ in offsets]
    for p, offset in offsets:
        p.add_(offset)
    try:
        with torch.enable_grad():
            return closure()
    finally:
        for p, original in saved:
            p.copy_(original)
