"""Objectives: a loss as a function of one flat parameter vector, and the point and gradient
graph every curvature measurement starts from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .flat import flatten, unflatten

__all__ = ["Objective", "as_callable", "gradient_graph", "objective", "point_of"]


@dataclass
class Objective:
    """A loss as a function of one flat parameter vector.

    ``f(theta)`` is the scalar loss; ``outputs(theta)`` the network outputs and
    ``output_loss(z)`` the loss of outputs (so that ``f = output_loss o outputs``);
    ``per_example(theta)`` the per-example losses [N]. ``x0`` is the point the objective was
    built at (the model's parameters)."""

    f: Callable[[Tensor], Tensor]
    x0: Tensor | None = None
    outputs: Callable[[Tensor], Tensor] | None = None
    output_loss: Callable[[Tensor], Tensor] | None = None
    per_example: Callable[[Tensor], Tensor] | None = None

    def __call__(self, theta: Tensor) -> Tensor:
        return self.f(theta)


def objective(
    model: torch.nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    data: tuple[Tensor, Tensor],
) -> Objective:
    """The loss ``loss_fn(model(inputs), targets)`` as a function of the model's parameters,
    flattened in ``model.parameters()`` order (parameters with ``requires_grad`` only).

    ``loss_fn`` must average over examples (as torch's losses do by default); the per-example
    losses call it on one example at a time."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError("data must be a pair (inputs, targets)")
    inputs, targets = data
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    names = [k for k, _ in named]
    like = [p.detach() for _, p in named]
    x0 = flatten(like).clone()

    def outputs(theta: Tensor) -> Tensor:
        params = dict(zip(names, unflatten(theta, like), strict=True))
        return torch.func.functional_call(model, params, (inputs,))

    def output_loss(z: Tensor) -> Tensor:
        return loss_fn(z, targets)

    def per_example(theta: Tensor) -> Tensor:
        z = outputs(theta)
        return torch.stack([loss_fn(z[i : i + 1], targets[i : i + 1]) for i in range(len(z))])

    return Objective(lambda t: output_loss(outputs(t)), x0, outputs, output_loss, per_example)


def as_callable(f: Any) -> Callable[[Tensor], Tensor]:
    """``f`` as a callable of a flat vector: itself, or a landscape's ``loss``."""
    if isinstance(f, torch.nn.Module):
        raise TypeError(
            "pass a callable of a flat vector, or objective(model, loss_fn, (inputs, targets)) "
            "for a torch.nn.Module"
        )
    if callable(f):
        return f
    if callable(getattr(f, "loss", None)):
        return f.loss  # a landscape
    raise TypeError(f"f must be a callable f(x) -> scalar or a landscape, got {type(f).__name__}")


def point_of(f: Any, x: Tensor | None) -> Tensor:
    """The flat point ``x`` (detached), or the objective's own ``x0`` when ``x`` is None."""
    if x is None:
        x = getattr(f, "x0", None)
        if x is None:
            raise ValueError("x is required: the point at which to measure curvature")
    if not isinstance(x, Tensor) or x.dim() != 1:
        raise ValueError(f"x must be a flat 1-D tensor, got {type(x).__name__}")
    return x.detach()


def gradient_graph(f: Any, x: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """(theta, loss, gradient with graph) at x."""
    fn = as_callable(f)
    theta = point_of(f, x).clone().requires_grad_(True)
    with torch.enable_grad():
        loss = fn(theta)
        if loss.numel() != 1:
            raise ValueError(f"f must return a scalar, got shape {tuple(loss.shape)}")
        (g,) = torch.autograd.grad(loss.reshape(()), theta, create_graph=True)
    return theta, loss, g
