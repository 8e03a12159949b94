r"""Sharpness: the largest Hessian eigenvalue of a model's loss, from a model and a ravine
problem, a loss function and data, or an objective."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .objective import objective
from .spectrum import top_eigenpairs

__all__ = ["sharpness"]


def sharpness(
    model: Any,
    loss_fn: Any = None,
    data: tuple[Tensor, Tensor] | None = None,
    *,
    x: Tensor | None = None,
    iters: int = 100,
    seed: int = 0,
) -> float:
    r"""Sharpness: the largest Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 L)` at the
    current parameters (Keskar et al. 2017 use a related box measure; Cohen et al. 2021 track
    this one, "edge of stability": gradient descent at step size eta keeps it near 2/eta),
    by ``iters`` Lanczos steps from a random start drawn with ``seed``.

    Forms:

    * ``sharpness(model, problem)``: a ``torch.nn.Module`` and a ravine problem
      (:class:`ravine.problems.Problem`: anything with ``loss``, ``x_train`` and ``y_train``):
      :math:`L` is the problem's loss on its whole training set, or on ``data=(inputs,
      targets)`` (a subset, say) when given;
    * ``sharpness(model, loss_fn, (inputs, targets))``: :math:`L` = ``loss_fn(model(inputs),
      targets)``;
    * ``sharpness(objective)`` (:func:`objective`), or ``sharpness(f, x=x)`` for a callable
      or landscape ``f`` of a flat vector.

    With a model, floating-point data is moved to the device and cast to the dtype of the
    model's parameters (so ``model.double()`` measures in double precision); the model is
    used in the mode it is in (``model.eval()`` first for dropout or batch norm)."""
    if isinstance(model, torch.nn.Module):
        if _is_problem(loss_fn):
            problem = loss_fn
            loss_fn = problem.loss
            data = (problem.x_train, problem.y_train) if data is None else data
        if loss_fn is None or data is None:
            raise ValueError(
                "sharpness of a torch.nn.Module needs its loss: sharpness(model, problem), "
                "sharpness(model, problem, data=(inputs, targets)) or "
                "sharpness(model, loss_fn, (inputs, targets)); loss_fn and data are required"
            )
        if not callable(loss_fn):
            raise TypeError(
                "sharpness(model, ...): the second argument must be a ravine problem (with "
                f"loss, x_train, y_train) or a loss function, got {type(loss_fn).__name__}"
            )
        model = objective(model, loss_fn, _like_model(model, data))
    vals, _ = top_eigenpairs(model, 1, x, method="lanczos", iters=iters, seed=seed)
    return float(vals[0])


def _is_problem(value: Any) -> bool:
    """A ravine problem, or any object offering its ``loss``, ``x_train`` and ``y_train``."""
    return all(hasattr(value, name) for name in ("loss", "x_train", "y_train"))


def _like_model(model: torch.nn.Module, data: Any) -> Any:
    """``data`` on the model's device, floating tensors in the dtype of its parameters."""
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"data must be a pair (inputs, targets), got {type(data).__name__}")
    p = next((q for q in model.parameters() if q.requires_grad), None)
    if p is None:
        return tuple(data)

    def move(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        return t.to(device=p.device, dtype=p.dtype if t.is_floating_point() else t.dtype)

    return move(data[0]), move(data[1])
