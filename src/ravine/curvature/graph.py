r"""Curvature products on an autograd graph: Hessian, Jacobian, generalized Gauss-Newton and
Fisher products from gradients or outputs built with their graph. These are what the
second-order optimizers in :mod:`ravine.optim` use; :mod:`ravine.curvature.products` builds
the graph from an objective.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .flat import flatten

__all__ = [
    "LIKELIHOODS",
    "fisher_graph",
    "ggn_graph",
    "hessian_graph",
    "hvp_graph",
    "jvp_graph",
    "output_fisher_vp",
    "rademacher",
    "vjp_graph",
]

LIKELIHOODS = ("categorical", "bernoulli", "gaussian")


def hvp_graph(
    grads: Sequence[Tensor], params: Sequence[Tensor], v: Sequence[Tensor]
) -> list[Tensor]:
    r"""Hessian-vector product by double backward (Pearlmutter 1994):
    :math:`Hv = \nabla_\theta (\nabla_\theta L \cdot v)`, from gradients built with
    ``create_graph=True``. The graph is kept for further products. A gradient that is None
    or has no graph (a parameter the loss is constant or linear in) gives :math:`Hv = 0`."""
    live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
    out: list[Tensor | None] = [None] * len(params)
    if live:
        found = torch.autograd.grad(
            [grads[i] for i in live], [params[i] for i in live], [v[i] for i in live],
            retain_graph=True, allow_unused=True,
        )  # fmt: skip
        for i, o in zip(live, found, strict=True):
            out[i] = o
    return [torch.zeros_like(p) if o is None else o for o, p in zip(out, params, strict=True)]


def rademacher(like: Sequence[Tensor], generator: torch.Generator) -> list[Tensor]:
    """One Rademacher probe per tensor of ``like`` (entries +-1 with probability 1/2, so
    E[u u^T] = I), drawn in order from ``generator`` on the CPU, in each tensor's dtype and
    device: the probes of Hutchinson's diagonal estimate."""
    return [(2 * torch.randint(0, 2, p.shape, generator=generator) - 1).to(p) for p in like]


def hessian_graph(grads: Sequence[Tensor], params: Sequence[Tensor]) -> Tensor:
    """The dense Hessian [N, N] from gradients built with ``create_graph=True`` (N products,
    batched with ``is_grads_batched``); rows and columns in flattened ``params`` order."""
    g = flatten(grads)
    eye = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
    try:
        rows = torch.autograd.grad(
            g, params, grad_outputs=eye, retain_graph=True, is_grads_batched=True, allow_unused=True
        )
        rows = [
            torch.zeros(g.numel(), *p.shape, dtype=g.dtype, device=g.device) if r is None else r
            for r, p in zip(rows, params, strict=True)
        ]
        h = torch.cat([r.reshape(g.numel(), -1) for r in rows], dim=1)
    except RuntimeError:  # an op without a batching rule: one product at a time
        h = torch.stack([flatten(hvp_graph([g], params, [e])) for e in eye])
    return (h + h.T) / 2


def jvp_graph(outputs: Tensor, params: Sequence[Tensor], v: Sequence[Tensor]) -> Tensor:
    r"""Jacobian-vector product :math:`Jv` of ``outputs`` w.r.t. ``params`` by the double-vjp
    trick: with :math:`g(u) = J^\top u` linear in a dummy ``u``, :math:`Jv = \nabla_u (g(u)
    \cdot v)`. Needs only reverse mode, so it works on any graph."""
    u = torch.zeros_like(outputs, requires_grad=True)
    g = torch.autograd.grad(
        outputs, params, grad_outputs=u, create_graph=True, retain_graph=True, allow_unused=True
    )
    pairs = [(gi, vi) for gi, vi in zip(g, v, strict=True) if gi is not None]
    (jv,) = torch.autograd.grad([gi for gi, _ in pairs], u, grad_outputs=[vi for _, vi in pairs])
    return jv


def vjp_graph(outputs: Tensor, params: Sequence[Tensor], u: Tensor) -> list[Tensor]:
    r""":math:`J^\top u` for the Jacobian of ``outputs`` w.r.t. ``params`` (graph kept)."""
    out = torch.autograd.grad(outputs, params, grad_outputs=u, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if o is None else o for o, p in zip(out, params, strict=True)]


def output_fisher_vp(outputs: Tensor, u: Tensor, likelihood: str) -> Tensor:
    r"""The likelihood's Fisher in output space times ``u``, per example (rows of ``outputs``):

    categorical (logits, softmax over the last axis): :math:`(\mathrm{diag}(p) - pp^\top) u`;
    bernoulli (one logit per output): :math:`\sigma(1-\sigma) u`; gaussian (unit variance):
    :math:`u`. Not divided by N."""
    z = outputs.detach()
    if likelihood == "categorical":
        p = torch.softmax(z, dim=-1)
        return p * u - p * (p * u).sum(-1, keepdim=True)
    if likelihood == "bernoulli":
        s = torch.sigmoid(z)
        return s * (1 - s) * u
    if likelihood == "gaussian":
        return u
    raise ValueError(f"invalid likelihood={likelihood!r}; allowed: one of {LIKELIHOODS}")


def ggn_graph(
    loss: Tensor, outputs: Tensor, params: Sequence[Tensor], v: Sequence[Tensor]
) -> list[Tensor]:
    r"""Generalized Gauss-Newton product :math:`Gv = J^\top (\nabla_z^2 L)(J v)`
    (Schraudolph 2002), on the graph ``loss <- outputs <- params``."""
    dz = torch.autograd.grad(loss, outputs, create_graph=True, retain_graph=True)[0]
    jv = jvp_graph(outputs, params, v)
    (hjv,) = torch.autograd.grad(dz, outputs, grad_outputs=jv, retain_graph=True)
    return vjp_graph(outputs, params, hjv)


def fisher_graph(
    loss: Tensor,
    outputs: Tensor,
    params: Sequence[Tensor],
    v: Sequence[Tensor],
    *,
    kind: str = "true",
    likelihood: str = "categorical",
) -> list[Tensor]:
    r"""Fisher-vector product on a graph.

    ``kind="true"``: :math:`Fv = \frac1N J^\top F_z (J v)` with ``outputs`` of shape [N, ...];
    ``kind="empirical"``: :math:`\hat F v = \frac1N J_\ell^\top (J_\ell v)` where ``loss`` is the
    vector [N] of per-example losses and :math:`J_\ell` its Jacobian."""
    if kind == "true":
        n = outputs.shape[0] if outputs.dim() > 0 else 1
        fjv = output_fisher_vp(outputs, jvp_graph(outputs, params, v), likelihood) / n
        return vjp_graph(outputs, params, fjv)
    if kind == "empirical":
        if loss.dim() != 1:
            raise ValueError(
                "the empirical Fisher needs the per-example losses: a loss vector of shape [N] "
                f"(reduction='none'), got shape {tuple(loss.shape)}"
            )
        return vjp_graph(loss, params, jvp_graph(loss, params, v) / loss.shape[0])
    raise ValueError(f"invalid kind={kind!r}; allowed: one of 'true', 'empirical'")
