"""Steps in place: the eager multi-tensor path holds only chunk-sized temporaries at once,
whatever the model's size, and the compiled path allocates nothing the size of a parameter
(measured from the profiler's allocation events, as benchmarks/step_throughput.py --memory
does)."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from ravine.bench.steps import step_memory
from support import catalog

ELEMENTS = 1 << 22  # 16 MiB of float32 parameters


def parameters() -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    shapes = [(2048, 1024), (2048,), (1024, 2048), (1024,), (10, 1024)]
    params = [torch.nn.Parameter(torch.randn(s, generator=g, dtype=torch.float32)) for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=g, dtype=torch.float32) * 1e-3
    assert sum(p.numel() for p in params) > ELEMENTS * 0.7
    return params


@pytest.mark.parametrize("variant", catalog.variants(lambda v: v.entry.multi_tensor, first=True))
def test_eager_path_holds_chunk_sized_temporaries(variant) -> None:
    params = parameters()
    opt = variant.make(params, foreach=True)
    opt.step()
    _, peak = step_memory(opt.step, torch.device("cpu"))
    chunk_bytes = opt.chunk_size * 4
    model_bytes = sum(p.numel() * 4 for p in params)
    assert peak <= 8 * chunk_bytes < model_bytes / 4, (peak, chunk_bytes, model_bytes)
    # The per-tensor reference holds whole-parameter temporaries: the measure sees them.
    ref = variant.make(params, foreach=False)
    ref.step()
    _, ref_peak = step_memory(ref.step, torch.device("cpu"))
    assert ref_peak >= 2048 * 1024 * 4


def test_compiled_path_allocates_nothing_parameter_sized() -> None:
    params = parameters()
    opt = ro.Adam(params, compile=True)
    opt.step()
    total, peak = step_memory(opt.step, torch.device("cpu"))
    assert not opt._compile_broken
    assert total < 1 << 20 and peak < 1 << 20, (total, peak)
