"""Long float64 parity runs of an optimizer against a reference, on parameters of several
shapes: :func:`run_both` (the problem of support.shapes: a matrix, a vector, a 3-D tensor
and a 0-d tensor in two param groups, on a fixed coupled loss) and :func:`run_pair`
(parameters of the caller's shapes, on a loss whose target moves with the step, so
gradients change sign and scale along a run)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch

from support.shapes import groups, loss
from support.shapes import make_params as shaped_params

__all__ = ["assert_close", "make_params", "run_both", "run_pair", "wavy_loss"]


def run_both(
    ours: Callable[[list[dict]], torch.optim.Optimizer],
    ref: Callable[[list[dict]], torch.optim.Optimizer],
    first: dict,
    second: dict,
    *,
    steps: int = 200,
    rtol: float = 1e-12,
) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
    """Both optimizers over twin parameters (the first two shapes in a group with ``first``,
    the others with ``second``) for ``steps`` steps; every parameter must agree to ``rtol``
    relative at every step. Returns the two optimizers, for their state."""
    ours_params, ref_params = shaped_params(), shaped_params()
    opts = [ours(groups(ours_params, first, second)), ref(groups(ref_params, first, second))]
    for step in range(1, steps + 1):
        for params, opt in zip((ours_params, ref_params), opts, strict=True):
            opt.zero_grad()
            loss(params).backward()
            opt.step()
        for i, (p, q) in enumerate(zip(ours_params, ref_params, strict=True)):
            scale = q.detach().abs().max().clamp_min(1e-300)
            err = float((p.detach() - q.detach()).abs().max() / scale)
            assert err <= rtol, f"parameter {i} (shape {tuple(p.shape)}) at step {step}: {err}"
    moved = zip(ours_params, shaped_params(), strict=True)
    assert any(not torch.equal(p, q) for p, q in moved), "nothing moved"
    return opts[0], opts[1]


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
