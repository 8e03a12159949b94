"""Sharded parameters (DTensors, as FSDP2 and tensor parallelism make them).

Elementwise rules run on each process's shard as it is: nothing is gathered. What the
shards' processes must agree on (whether every gradient is finite) costs one all-reduce of
one number.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["agree", "is_dtensor", "like", "local"]


def is_dtensor(t: Tensor) -> bool:
    """Whether ``t`` is a DTensor (a parameter sharded by FSDP2 or tensor parallelism)."""
    return type(t).__name__ == "DTensor" and hasattr(t, "to_local")


def local(t: Tensor) -> Tensor:
    """What this process holds of ``t``: a DTensor's local shard (writes to it reach the
    DTensor), any other tensor itself. Elementwise rules run on shards as they are."""
    return t.to_local() if is_dtensor(t) else t


def like(p: Tensor, shard: Tensor) -> Tensor:
    """``shard`` as state of ``p``: itself, or for a DTensor ``p`` a DTensor sharded like
    ``p`` around it (no copy)."""
    if not is_dtensor(p):
        return shard
    from torch.distributed.tensor import DTensor

    return DTensor.from_local(
        shard, p.device_mesh, p.placements, run_check=False, shape=p.shape, stride=p.stride()
    )


def agree(ok: bool, device: torch.device) -> bool:
    """Whether ``ok`` holds on every process: one all-reduce (minimum) of one number."""
    import torch.distributed as dist

    flag = torch.tensor(1.0 if ok else 0.0, device=device)
    dist.all_reduce(flag, op=dist.ReduceOp.MIN)
    return bool(flag)
