"""Parameters of four shapes (a matrix, a vector, a 3-D tensor and a 0-d one) in float64,
a non-quadratic loss coupling them, and their split into two param groups: the problem of
the long parity runs against reference packages."""

from __future__ import annotations

import math

import torch

SHAPES = ((5, 3), (3,), (2, 3, 4), ())


def make_params() -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(s, generator=g, dtype=torch.float64)) for s in SHAPES]


def loss(params: list[torch.Tensor]) -> torch.Tensor:
    # a non-quadratic loss with coordinates coupled within and across tensors
    total = sum(((p - 0.3) ** 2).sum() + 0.1 * (p**4).sum() for p in params)
    return total + 0.5 * math.prod(torch.tanh(p.sum()) for p in params)


def groups(params, first: dict, second: dict) -> list[dict]:
    """The first two parameters with ``first``'s hyperparameters, the others with
    ``second``'s."""
    return [{"params": params[:2], **first}, {"params": params[2:], **second}]
