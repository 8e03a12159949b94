"""Parameters of several shapes and a loss whose gradients change sign and scale along a
run: the problem of the 200-step float64 parity tests of the newer optimizers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

__all__ = ["assert_close", "make_params", "wavy_loss"]


def make_params(shapes: Sequence[tuple[int, ...]], seed: int = 0) -> list[torch.nn.Parameter]:
    """float64 parameters of ``shapes``, drawn from a generator seeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    return [torch.nn.Parameter(torch.randn(s, generator=g, dtype=torch.float64)) for s in shapes]


def wavy_loss(params: Sequence[torch.Tensor], step: int) -> torch.Tensor:
    """sum_i |p_i - sin(0.1 step + i)|^2 + 0.3 (1 + i) sum sin(3 p_i): non-convex, with a
    target that moves with ``step``."""
    total = torch.zeros((), dtype=torch.float64)
    for i, p in enumerate(params):
        target = math.sin(0.1 * step + i)
        total = total + ((p - target) ** 2).sum() + 0.3 * torch.sin(3 * p).sum() * (1 + i)
    return total


def assert_close(actual: torch.Tensor, expected: torch.Tensor, what: str, rtol: float) -> None:
    """``actual`` within ``rtol`` of ``expected``, relative to its largest entry."""
    scale = expected.abs().max().clamp_min(1e-300)
    assert float((actual - expected).abs().max() / scale) <= rtol, what


def run_pair(ours, ref, ours_params, ref_params, steps: int, rtol: float, state=None) -> None:
    """Both optimizers ``steps`` steps on :func:`wavy_loss`, each over its own copy of the
    parameters; after every step the parameters agree to ``rtol``, and ``state(p, q)``
    (where given) checks the state of each pair."""
    for step in range(1, steps + 1):
        for params, opt in ((ours_params, ours), (ref_params, ref)):
            opt.zero_grad()
            wavy_loss(params, step).backward()
            opt.step()
        for i, (p, q) in enumerate(zip(ours_params, ref_params, strict=True)):
            assert_close(p.detach(), q.detach(), f"parameter {i} at step {step}", rtol)
            if state is not None:
                state(p, q)
