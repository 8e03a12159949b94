r"""Hutchinson's stochastic estimates of the Hessian's diagonal and trace from Rademacher
probes."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .products import HessianOperator

__all__ = ["hutchinson_diagonal", "hutchinson_trace"]


def _probes(m: int, n: int, like: Tensor, generator: torch.Generator) -> Tensor:
    """m Rademacher vectors [m, n]: entries +-1 with probability 1/2 (E[v v^T] = I)."""
    r = torch.randint(0, 2, (m, n), generator=generator, device="cpu")
    return (2 * r - 1).to(like.dtype).to(like.device)


def _hutchinson(f: Any, x: Tensor | None, probes: int, seed: int, chunk: int = 64) -> Tensor:
    """The products v * Hv summed over ``probes`` Rademacher vectors v, in chunks."""
    if not isinstance(probes, int) or probes < 1:
        raise ValueError(f"invalid probes={probes!r}; allowed: an integer >= 1")
    op = HessianOperator(f, x)
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(op.theta.detach())
    done = 0
    while done < probes:
        vs = _probes(min(chunk, probes - done), op.n, total, gen)
        total += (vs * op.batch(vs)).sum(0)
        done += len(vs)
    return total


def hutchinson_diagonal(
    f: Any, x: Tensor | None = None, *, probes: int = 100, seed: int = 0
) -> Tensor:
    r"""Hutchinson's estimate of the Hessian diagonal (Bekas et al. 2007; used by AdaHessian):
    :math:`\mathrm{diag}(H) \approx \frac1m \sum_{i=1}^m v_i \odot H v_i` with Rademacher
    :math:`v_i`. Unbiased; the variance of entry j is :math:`\frac1m \sum_{k \ne j} H_{jk}^2`."""
    return _hutchinson(f, x, probes, seed) / probes


def hutchinson_trace(f: Any, x: Tensor | None = None, *, probes: int = 100, seed: int = 0) -> float:
    r"""Hutchinson's trace estimate (Hutchinson 1989): :math:`\mathrm{tr}(H) \approx \frac1m
    \sum_i v_i^\top H v_i` with Rademacher :math:`v_i`; variance
    :math:`\frac2m \sum_{j \ne k} H_{jk}^2`."""
    return float(_hutchinson(f, x, probes, seed).sum()) / probes
