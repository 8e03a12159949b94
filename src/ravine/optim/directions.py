r"""Damped Newton-type directions :math:`d = -(C + \lambda I)^{-1} g` for a curvature matrix
:math:`C` (the Hessian, a block of it, the Gauss-Newton matrix or the Fisher), three ways: a
dense solve, a saddle-free eigendecomposition, and conjugate gradients on products
:math:`v \mapsto Cv`."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .line_search import conjugate_gradient

__all__ = ["newton_direction", "saddle_free_direction", "solve_damped"]


def newton_direction(h: Tensor, g: Tensor, damping: float | Tensor = 0.0) -> Tensor:
    r"""The (damped) Newton direction :math:`d = -(H + \lambda I)^{-1} g` (Newton 1669;
    Levenberg 1944 and Marquardt 1963 for :math:`\lambda > 0`), by a dense solve:
    :math:`O(N^2)` memory, :math:`O(N^3)` time."""
    a = h + damping * torch.eye(h.shape[0], dtype=h.dtype, device=h.device)
    return -torch.linalg.solve(a, g)


def saddle_free_direction(h: Tensor, g: Tensor, damping: float) -> Tensor:
    r"""Saddle-free Newton direction :math:`d = -(|H| + \lambda I)^{-1} g` with
    :math:`|H| = V |\Lambda| V^\top` (Dauphin et al. 2014): Newton's rescaling by curvature,
    but moving downhill along negative-curvature directions instead of towards the saddle."""
    evals, evecs = torch.linalg.eigh(h)
    return -evecs @ ((evecs.T @ g) / (evals.abs() + damping))


def solve_damped(
    matvec: Callable[[Tensor], Tensor],
    g: Tensor,
    damping: float,
    *,
    x0: Tensor | None = None,
    max_iter: int = 50,
    tol: float = 1e-5,
) -> Tensor:
    r"""The preconditioned direction :math:`d = -(C + \lambda I)^{-1} g` by conjugate gradients
    on :math:`v \mapsto Cv + \lambda v` (warm-started at ``x0``), stopped at relative residual
    ``tol``, after ``max_iter`` products, or at negative curvature (Nocedal and Wright,
    Algorithm 7.1)."""
    d, _ = conjugate_gradient(
        lambda v: matvec(v) + damping * v, -g, x0=x0, max_iter=max_iter, tol=tol
    )
    return d
