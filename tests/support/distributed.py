"""Data-parallel training of a small float64 MLP, for ``tests/optim/test_distributed.py``.

The test spawns :func:`worker` in two processes: they join one gloo process group and train
every requested (wrapper, optimizer, path) case in turn, each rank on its half of one global
batch; the single-process run on the whole batch is :func:`train` with no wrapper. Results
go back through a file per rank: a case's final parameters, gathered to full tensors, or the
error it raised. A case that fails does not stop the others.
"""

from __future__ import annotations

import os
import socket
import traceback
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
from torch import nn

import ravine.optim as ro

STEPS = 5
BATCH = 32  # the global batch; each of the two ranks trains on 16 of its rows
# The keywords that choose each path of an elementwise optimizer.
PATHS: dict[str, dict[str, Any]] = {
    "reference": {"foreach": False},
    "multi_tensor": {},
    "compiled": {"compile": True},
}


def free_port() -> int:
    """A TCP port nobody listens on now (bound to port 0, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_mlp() -> nn.Module:
    """8-15-1 in float64, the same initial weights in every process. Under FSDP2 on two
    processes the 15 rows shard unevenly (8 and 7) and the last layer's single row leaves
    the second process an empty shard: the fast paths must take both."""
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 15), nn.Tanh(), nn.Linear(15, 1)).double()


def global_batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(BATCH, 8, generator=g, dtype=torch.float64)
    y = torch.randn(BATCH, 1, generator=g, dtype=torch.float64)
    return x, y


def train(
    name: str,
    path: str,
    x: torch.Tensor,
    y: torch.Tensor,
    wrap: Callable[[nn.Module], nn.Module] | None = None,
) -> dict[str, Any]:
    """:data:`STEPS` steps of optimizer ``name`` on ``path``, the loss being the mean squared
    error over the rows of ``x`` given. Returns the final parameters (full, plain tensors),
    the collectives in the optimizer's steps (name and input shapes: the gloo backend records
    each one with the shape of the data it moves), the number of calls of Inductor-compiled
    graphs in them, and whether every state tensor shaped like its parameter is laid out like
    it (for a sharded parameter: sharded alike)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # scalar state follows the default dtype
    try:
        model = make_mlp()
        if wrap is not None:
            model = wrap(model)
        opt = ro.REGISTRY[name](model.parameters(), **PATHS[path])
        collectives: list[tuple[str, list]] = []
        compiled_calls = 0
        cpu = [torch.profiler.ProfilerActivity.CPU]
        for _ in range(STEPS):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            with torch.profiler.profile(activities=cpu, record_shapes=True) as prof:
                opt.step()
            collectives += [(e.name, e.input_shapes) for e in prof.events() if _is_collective(e)]
            compiled_calls += sum(
                e.name.startswith("## Call CompiledFxGraph") for e in prof.events()
            )
        return {
            "params": [_full(p) for p in model.parameters()],
            "collectives": collectives,
            "compiled_calls": compiled_calls,
            "state_like_params": all(
                _laid_out_like(s, p) for p in model.parameters() for s in opt.state[p].values()
            ),
        }
    finally:
        torch.set_default_dtype(previous)


def _is_collective(event: Any) -> bool:
    """Whether a profiler event is a collective: a c10d op (DTensor's redistributions are
    functional collectives) or the gloo backend's own record of one. (The profiler, unlike a
    dispatch mode such as DTensor's CommDebugMode, leaves torch.compile alone.)"""
    return "c10d" in event.name or event.name.startswith("gloo:")


def _laid_out_like(s: torch.Tensor, p: torch.Tensor) -> bool:
    """True unless ``s`` has ``p``'s global shape but not its placements and local shape."""
    if s.shape != p.shape:
        return True  # step counters and other scalars
    if not _is_dtensor(p):
        return not _is_dtensor(s)
    return (
        _is_dtensor(s) and s.placements == p.placements and s.to_local().shape == p.to_local().shape
    )


def _full(p: torch.Tensor) -> torch.Tensor:
    """``p`` as one plain tensor: a sharded DTensor is gathered (for the comparison only)."""
    p = p.detach()
    if _is_dtensor(p):
        p = p.full_tensor()
    return p.clone()


def _is_dtensor(t: torch.Tensor) -> bool:
    from torch.distributed.tensor import DTensor  # only where torch.distributed is built

    return isinstance(t, DTensor)


def _ddp(model: nn.Module) -> nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(model)


def _fsdp(model: nn.Module) -> nn.Module:
    from torch.distributed.fsdp import fully_shard

    for layer in model:
        if isinstance(layer, nn.Linear):
            fully_shard(layer)
    return fully_shard(model)


WRAPPERS: dict[str, Callable[[nn.Module], nn.Module]] = {"ddp": _ddp, "fsdp": _fsdp}


def worker(rank: int, world: int, port: int, out: str, cases: list[tuple[str, str, str]]) -> None:
    """Train each (wrapper, optimizer, path) case on this rank's share of the global batch;
    write ``{case: what train() returns, or {"error": text}; with the "warnings" raised}``
    to ``out/rank{rank}.pt``."""
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)  # two ranks share the test machine's cores
    torch.distributed.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=timedelta(seconds=120)
    )
    x, y = global_batch()
    rows = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    results: dict[tuple[str, str, str], dict[str, Any]] = {}
    try:
        for case in cases:
            wrapper, name, path = case
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    results[case] = train(name, path, x[rows], y[rows], WRAPPERS[wrapper])
                except Exception as err:
                    results[case] = {"error": _describe(err)}
            results[case]["warnings"] = [str(w.message) for w in caught]
            torch.distributed.barrier()  # both ranks finish a case before the next starts
    finally:
        torch.save(results, Path(out) / f"rank{rank}.pt")
        torch.distributed.destroy_process_group()


def _describe(err: Exception) -> str:
    """The error and the last frames of its traceback, for the test's failure message."""
    frames = traceback.extract_tb(err.__traceback__)[-4:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.line}" for f in reversed(frames))
    return f"{type(err).__name__}: {err} [at {where}]"
