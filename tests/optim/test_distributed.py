"""Data-parallel training gives what one process gives on the global batch.

Two processes (gloo, spawned once for the whole module) each train an 8-15-1 float64 MLP for
five steps on their half of a fixed batch of 32 rows, wrapped in DistributedDataParallel
(replicated parameters, gradients averaged by an allreduce) or in FSDP2's ``fully_shard``
(DTensor parameters sharded on dim 0 across the two ranks, unevenly for the 15-row layer and
leaving one rank an empty shard of the 1-row layer; gradients reduce-scattered), for
every elementwise optimizer on each of its three paths: the per-tensor reference
(``foreach=False``), the multi-tensor default and the compiled one (``compile=True``). Every
case is compared with one process of the reference path on all 32 rows (the independent
reference: the same initial weights, the loss the mean over the same global batch, so the
gradient is the same number).

Tolerance: the data-parallel gradient is the mean of each rank's mean over its 16 rows, the
single-process one the mean over 32 rows, so the two are the same sums taken in a different
order, equal to a few float64 ulps; the compiled kernel may fuse a multiply-add and differ
from the reference by a few more. Five steps of these rules do not amplify that beyond
about 1e-15 relative (the largest seen: 2e-15). ``rtol=1e-10`` leaves five orders of margin
and still catches any real fault: each parameter moves by 1e-3 to 3e-2 in five steps, and
even where the rule is scale invariant (Adam's first steps), a gradient summed instead of
averaged or a rank's half lost shows through ``eps`` at 1e-6 relative or more.

Each case also checks that the optimizer's steps move no tensor between the processes (each
rank updates its own replica or shard: no gather; a collective of one element, such as the
ranks agreeing that every gradient is finite, is allowed) and that every state tensor is laid
out like its parameter (under FSDP2: a DTensor sharded like it).

FSDP2 runs on the CPU with gloo, and every path takes its DTensor parameters: the fast paths
run the rule on each process's local shard, with state sharded like its parameter.

The compiled path runs for every optimizer, and each compiled case checks that its steps ran
Inductor-compiled graphs (not the eager fallback). Measured on two shared cores, the module
takes 30 to 50 seconds from a cold Inductor cache (the two ranks compiling the eleven rules
side by side are about 20 of them) and 15 to 25 seconds when the cache is warm.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import ravine.optim as ro
from support.distributed import (
    PATHS,
    STEPS,
    WRAPPERS,
    free_port,
    global_batch,
    make_mlp,
    train,
    worker,
)

pytestmark = pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason="this torch has no torch.distributed or no gloo backend",
)


def _fsdp2_available() -> bool:
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        return False
    return True


WORLD = 2
NAMES = [name for name, cls in ro.REGISTRY.items() if cls.elementwise]
CASES = [(wrapper, name, path) for wrapper in WRAPPERS for name in NAMES for path in PATHS]


def _moves_data(op: str, shapes: list) -> bool:
    """Whether a collective gathers or carries more than one element per input."""
    return "gather" in op or any(math.prod(shape) > 1 for shape in shapes if _is_shape(shape))


def _is_shape(shape: object) -> bool:
    return isinstance(shape, list) and all(isinstance(n, int) for n in shape)


class WorkerError(RuntimeError):
    """A case raised in the spawned processes (message: the error and where)."""


NO_FSDP2 = pytest.mark.skip(reason="this torch has no FSDP2 (torch.distributed.fsdp.fully_shard)")


def marks(wrapper: str) -> list:
    fsdp2 = dist.is_available() and _fsdp2_available()
    return [NO_FSDP2] if wrapper == "fsdp" and not fsdp2 else []


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory) -> list[dict]:
    """Every selected case in one spawned pair of processes: each rank's results."""
    selected = {
        tuple(item.callspec.params[k] for k in ("wrapper", "name", "path"))
        for item in request.session.items
        if item.module is request.module
        and hasattr(item, "callspec")
        and item.get_closest_marker("skip") is None
    }
    out = tmp_path_factory.mktemp("distributed")
    mp.start_processes(
        worker,
        args=(WORLD, free_port(), str(out), [case for case in CASES if case in selected]),
        nprocs=WORLD,
        join=True,
        start_method="spawn",
    )
    return [torch.load(out / f"rank{rank}.pt") for rank in range(WORLD)]


@pytest.fixture(scope="module")
def one_process() -> dict[str, list[torch.Tensor]]:
    """Each optimizer's final parameters from one process on the whole global batch."""
    x, y = global_batch()
    return {name: train(name, "reference", x, y)["params"] for name in NAMES}


@pytest.mark.parametrize(
    ("wrapper", "name", "path"),
    [pytest.param(*case, marks=marks(case[0]), id="-".join(case)) for case in CASES],
)
def test_data_parallel_equals_one_process(runs, one_process, wrapper, name, path) -> None:
    ranks = [r[(wrapper, name, path)] for r in runs]
    for rank, result in enumerate(ranks):
        if "error" in result:
            raise WorkerError(f"rank {rank}: {result['error']}")
    if path == "compiled":  # a compiler failure falls back to eager: that is not this path
        fallbacks = [w for r in ranks for w in r["warnings"] if "compiling the step failed" in w]
        assert not fallbacks, fallbacks[0]
    for result in ranks:  # every compiled step runs a compiled graph; the other paths none
        calls = result["compiled_calls"]
        assert calls >= STEPS if path == "compiled" else calls == 0
    reference = one_process[name]
    initial = [p.detach() for p in make_mlp().parameters()]
    for rank, result in enumerate(ranks):
        params = result["params"]
        assert len(params) == len(reference)
        for p, q, p0 in zip(params, reference, initial, strict=True):
            assert (q - p0).abs().max() > 1e-4  # the optimizer moved: the test can see a fault
            torch.testing.assert_close(p, q, rtol=1e-10, atol=1e-12, msg=f"rank {rank}")
        # Each rank updates its replica or shard alone: no tensor crosses processes (the
        # processes may agree on a scalar, such as whether every gradient is finite).
        moved = [(op, shapes) for op, shapes in result["collectives"] if _moves_data(op, shapes)]
        assert not moved, f"rank {rank}: the optimizer's steps moved tensors: {moved[:4]}"
        # State sits with its parameter: replicated under DDP, sharded like it under FSDP2.
        assert result["state_like_params"]
    # The ranks agree bitwise (DDP's replicas: the same averaged gradient, the same update).
    for p, q in zip(ranks[0]["params"], ranks[1]["params"], strict=True):
        assert torch.equal(p, q)
