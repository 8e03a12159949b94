r"""The Hessian's spectrum, matrix-free: Lanczos, the top eigenpairs (Lanczos or power
iteration with deflation) and the eigenvalue density (stochastic Lanczos quadrature)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .products import HessianOperator

__all__ = ["eigenvalue_density", "lanczos", "top_eigenpairs"]


def lanczos(
    matvec: Callable[[Tensor], Tensor], v0: Tensor, steps: int
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Lanczos tridiagonalization with full reorthogonalization (Golub and Van Loan, Alg. 10.1):
    builds an orthonormal basis :math:`Q` of the Krylov space of ``v0`` and the tridiagonal
    :math:`T = Q^\top A Q` (diagonal ``alpha``, off-diagonal ``beta``). Returns
    ``(alpha, beta, Q)``; stops early when the Krylov space is exhausted."""
    n = v0.numel()
    steps = min(steps, n)
    q = v0 / v0.norm()
    basis = [q]
    alpha, beta = [], []
    for j in range(steps):
        w = matvec(basis[j])
        a = w @ basis[j]
        alpha.append(a)
        Q = torch.stack(basis)
        w = w - Q.T @ (Q @ w)  # full reorthogonalization (twice is enough)
        w = w - Q.T @ (Q @ w)
        b = w.norm()
        if j == steps - 1 or b <= 1e-10 * max(1.0, float(a.abs())):
            break
        beta.append(b)
        basis.append(w / b)
    alpha_t = torch.stack(alpha)
    beta_t = torch.stack(beta) if beta else alpha_t.new_zeros(0)
    return alpha_t, beta_t, torch.stack(basis[: len(alpha)])


def _tridiagonal(alpha: Tensor, beta: Tensor) -> Tensor:
    return torch.diag(alpha) + torch.diag(beta, 1) + torch.diag(beta, -1)


def top_eigenpairs(
    f: Any,
    k: int = 1,
    x: Tensor | None = None,
    *,
    method: str = "lanczos",
    iters: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""The ``k`` largest (algebraic) Hessian eigenvalues, descending, and their eigenvectors
    (columns), matrix-free.

    ``method="lanczos"``: Ritz pairs of ``iters`` Lanczos steps with full reorthogonalization;
    ``method="power"``: power iteration on :math:`H - \sum_{j<i} \lambda_j u_j u_j^\top`
    (deflation), up to ``iters`` products per eigenpair or until the Rayleigh quotient moves by
    less than ``tol`` relatively. Power iteration finds the eigenvalues of largest *magnitude*;
    near a minimum they are the largest ones (as in PyHessian, Yao et al. 2020)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"invalid k={k!r}; allowed: an integer >= 1")
    op = HessianOperator(f, x)
    if k > op.n:
        raise ValueError(f"invalid k={k}; the Hessian is {op.n} x {op.n}")
    gen = torch.Generator().manual_seed(seed)
    like = op.theta.detach()
    v0 = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
    if method == "lanczos":
        alpha, beta, Q = lanczos(op, v0, max(iters, 2 * k))
        evals, evecs = torch.linalg.eigh(_tridiagonal(alpha, beta))
        order = torch.argsort(evals, descending=True)[:k]
        return evals[order], Q.T @ evecs[:, order]
    if method == "power":
        vals: list[Tensor] = []
        vecs: list[Tensor] = []
        for _ in range(k):

            def deflated(v: Tensor) -> Tensor:
                hv = op(v)
                for lam, u in zip(vals, vecs, strict=True):
                    hv = hv - lam * (u @ v) * u
                return hv

            v = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
            v = v / v.norm()
            lam = v @ deflated(v)
            for _ in range(iters):
                w = deflated(v)
                v = w / w.norm()
                new = v @ deflated(v)
                done = (new - lam).abs() <= tol * (new.abs() + 1e-12)
                lam = new
                if done:
                    break
            vals.append(lam)
            vecs.append(v)
        return torch.stack(vals), torch.stack(vecs, dim=1)
    raise ValueError(f"invalid method={method!r}; allowed: one of 'lanczos', 'power'")


def eigenvalue_density(
    f: Any,
    x: Tensor | None = None,
    *,
    iters: int = 80,
    runs: int = 4,
    grid: int = 400,
    sigma: float | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""Hessian eigenvalue density by stochastic Lanczos quadrature (Ghorbani, Krishnan and Xiao
    2019; Lin, Saad and Yang 2016): for each of ``runs`` random unit vectors, ``iters`` Lanczos
    steps give nodes :math:`\theta_i` (Ritz values) and weights :math:`\tau_i` (squared first
    components of the Ritz vectors); the density is
    :math:`\phi(t) = \frac1{runs}\sum \tau_i\, \mathcal N(t; \theta_i, \sigma^2)`.

    Returns ``(t, phi)`` on ``grid`` points spanning the spectrum; ``phi`` integrates to 1.
    ``sigma`` defaults to 1% of the spectral range."""
    op = HessianOperator(f, x)
    gen = torch.Generator().manual_seed(seed)
    like = op.theta.detach()
    nodes, weights = [], []
    for _ in range(runs):
        v0 = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
        alpha, beta, _ = lanczos(op, v0, iters)
        evals, evecs = torch.linalg.eigh(_tridiagonal(alpha, beta))
        nodes.append(evals)
        weights.append(evecs[0] ** 2 / runs)
    node, weight = torch.cat(nodes), torch.cat(weights)
    lo, hi = float(node.min()), float(node.max())
    span = max(hi - lo, 1e-12)
    s = sigma if sigma is not None else 0.01 * span
    t = torch.linspace(lo - 5 * s, hi + 5 * s, grid, dtype=like.dtype)
    gauss = torch.exp(-((t[:, None] - node.cpu()[None]) ** 2) / (2 * s * s)) / (
        s * math.sqrt(2 * math.pi)
    )
    return t, gauss @ weight.cpu()
