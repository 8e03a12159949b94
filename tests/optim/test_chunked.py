"""Large parameters run through the rule in chunks: the result is bit-identical to applying
the rule to the whole tensor at once (the reference path, forced by a huge chunk size)."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from support import catalog


def run(variant, chunk_size: int, steps: int = 6) -> tuple[torch.Tensor, dict]:
    g = torch.Generator().manual_seed(0)
    target = torch.randn(700, 301, generator=g)  # 210,700 elements: 4 chunks of 65,536
    x = torch.nn.Parameter(torch.randn(700, 301, generator=g))
    opt = variant.make([x])
    opt.chunk_size = chunk_size

    def closure():
        opt.zero_grad()
        loss = ((x - target) ** 2).sum() + (x**4).sum() * 1e-3
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return x.detach(), opt.state[x]


@pytest.mark.parametrize("variant", catalog.variants(lambda v: v.entry.multi_tensor))
def test_chunked_equals_whole(variant) -> None:
    whole, whole_state = run(variant, chunk_size=1 << 30)
    chunked, chunked_state = run(variant, chunk_size=1 << 16)
    assert torch.equal(whole, chunked)
    assert whole_state.keys() == chunked_state.keys()
    for key in whole_state:
        assert torch.equal(whole_state[key], chunked_state[key]), key


def test_non_finite_gradient_found_in_any_chunk() -> None:
    x = torch.nn.Parameter(torch.zeros(200_000))
    x.grad = torch.zeros(200_000)
    x.grad[150_001] = float("nan")
    with pytest.raises(FloatingPointError, match="param group 0, parameter 0"):
        ro.Adam([x]).step()
    assert torch.equal(x.detach(), torch.zeros(200_000))
