r"""Curvature products and dense matrices of an objective: Hessian-vector products (reverse
or forward over reverse), generalized Gauss-Newton and Fisher products, and the dense
``hessian``/``ggn``/``fisher`` for small models and tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .graph import fisher_graph, ggn_graph, hvp_graph
from .objective import Objective, as_callable, gradient_graph, point_of

__all__ = ["HessianOperator", "fisher", "fisher_vp", "ggn", "ggn_vp", "hessian", "hvp"]


def hvp(f: Any, v: Tensor, x: Tensor | None = None, *, mode: str = "reverse") -> Tensor:
    r"""Hessian-vector product :math:`\nabla^2 f(x)\, v` without forming the Hessian.

    ``mode="reverse"``: double backward, :math:`\nabla_x(\nabla f \cdot v)` (Pearlmutter 1994);
    ``mode="forward"``: forward-over-reverse, the directional derivative of :math:`\nabla f`
    along ``v`` by forward-mode AD (``torch.func.jvp`` of ``torch.func.grad``)."""
    if mode == "reverse":
        theta, _, g = gradient_graph(f, x)
        with torch.enable_grad():
            return hvp_graph([g], [theta], [v])[0]
    if mode == "forward":
        fn = as_callable(f)
        x = point_of(f, x)
        return torch.func.jvp(torch.func.grad(lambda t: fn(t).reshape(())), (x,), (v,))[1]
    raise ValueError(f"invalid mode={mode!r}; allowed: one of 'reverse', 'forward'")


class HessianOperator:
    """A Hessian-vector product operator at a fixed point (the graph built once)."""

    def __init__(self, f: Any, x: Tensor | None) -> None:
        self.theta, self.loss, self.g = gradient_graph(f, x)
        self.n = self.theta.numel()

    def __call__(self, v: Tensor) -> Tensor:
        with torch.enable_grad():
            return hvp_graph([self.g], [self.theta], [v])[0]

    def batch(self, vs: Tensor) -> Tensor:
        """Products with the rows of ``vs`` [m, n], vectorized (``is_grads_batched``)."""
        with torch.enable_grad():
            try:
                (out,) = torch.autograd.grad(
                    self.g, self.theta, grad_outputs=vs, retain_graph=True, is_grads_batched=True
                )
                return out
            except RuntimeError:  # an op without a batching rule
                return torch.stack([self(v) for v in vs])


def _dense(matvec: Callable[[Tensor], Tensor], n: int, like: Tensor) -> Tensor:
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    return torch.stack([matvec(eye[i]) for i in range(n)], dim=1)


def hessian(f: Any, x: Tensor | None = None) -> Tensor:
    """The dense Hessian (n Hessian-vector products; for small models only)."""
    op = HessianOperator(f, x)
    h = _dense(op, op.n, op.theta)
    return (h + h.T) / 2


def _model_graph(f: Any, x: Tensor | None):
    if not isinstance(f, Objective) or f.outputs is None:
        raise TypeError(
            "Gauss-Newton and Fisher products need the split loss = output_loss(outputs(theta)):"
            " pass objective(model, loss_fn, (inputs, targets))"
        )
    theta = point_of(f, x).clone().requires_grad_(True)
    with torch.enable_grad():
        z = f.outputs(theta)
        loss = f.output_loss(z)
    return theta, z, loss


def ggn_vp(f: Objective, v: Tensor, x: Tensor | None = None) -> Tensor:
    r"""Generalized Gauss-Newton product :math:`J^\top (\nabla_z^2 L) J v`."""
    theta, z, loss = _model_graph(f, x)
    with torch.enable_grad():
        return ggn_graph(loss, z, [theta], [v])[0]


def ggn(f: Objective, x: Tensor | None = None) -> Tensor:
    """The dense generalized Gauss-Newton matrix (small models only)."""
    theta, z, loss = _model_graph(f, x)
    with torch.enable_grad():
        return _dense(lambda v: ggn_graph(loss, z, [theta], [v])[0], theta.numel(), theta)


def _fisher_op(f: Objective, x: Tensor | None, kind: str, likelihood: str):
    if kind == "empirical":
        if f.per_example is None:
            raise TypeError("the empirical Fisher needs an objective with per-example losses")
        theta = point_of(f, x).clone().requires_grad_(True)
        with torch.enable_grad():
            losses = f.per_example(theta)
        z = losses
    else:
        theta, z, losses = _model_graph(f, x)

    def matvec(v: Tensor) -> Tensor:
        with torch.enable_grad():
            return fisher_graph(losses, z, [theta], [v], kind=kind, likelihood=likelihood)[0]

    return theta, matvec


def fisher_vp(
    f: Objective,
    v: Tensor,
    x: Tensor | None = None,
    *,
    kind: str = "true",
    likelihood: str = "categorical",
) -> Tensor:
    r"""Fisher-vector product: true Fisher :math:`\frac1N\sum_n J_n^\top F_z J_n v` or empirical
    Fisher :math:`\frac1N \sum_n \nabla\ell_n (\nabla\ell_n \cdot v)` (``kind="empirical"``)."""
    return _fisher_op(f, x, kind, likelihood)[1](v)


def fisher(
    f: Objective, x: Tensor | None = None, *, kind: str = "true", likelihood: str = "categorical"
) -> Tensor:
    """The dense Fisher matrix, true or empirical (small models only)."""
    theta, matvec = _fisher_op(f, x, kind, likelihood)
    return _dense(matvec, theta.numel(), theta)
