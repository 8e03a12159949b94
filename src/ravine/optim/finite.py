"""Finiteness checks of gradients, cheap enough to run on every step."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .sharded import agree, is_dtensor, local

__all__ = ["all_finite", "all_finite_list", "check_gradients"]


def all_finite(t: Tensor) -> Tensor:
    """Whether every entry of ``t`` is finite, as a 0-d bool tensor.

    From the tensor's extremes (NaN propagates through both; an infinity is one of them):
    two reductions that allocate nothing the size of ``t``, where ``isfinite(t).all()``
    writes a bool tensor as large as ``t`` (40 times slower on a 10M-element gradient)."""
    if t.numel() == 0:
        return torch.tensor(True)
    return torch.isfinite(torch.stack((t.amax(), t.amin()))).all()


def all_finite_list(tensors: list[Tensor]) -> bool:
    """Whether every entry of every tensor is finite, from one sum per tensor: a sum is
    non-finite whenever a term is (NaN and infinities propagate), so a finite total proves
    the point in one read of the data. A non-finite total may also be an overflow of finite
    terms: then each tensor's extremes decide. (Sums are 4 to 40 times cheaper here than
    ``_foreach_norm(ord=inf)`` or ``isfinite(t).all()`` on a 10M-element CPU tensor.)
    Sharded tensors are checked shard by shard, and the processes agree on the verdict."""
    if not tensors:
        return True
    ok = _locally_finite([local(t) for t in tensors])
    if any(is_dtensor(t) for t in tensors):
        ok = agree(ok, local(tensors[0]).device)
    return ok


def _locally_finite(tensors: list[Tensor]) -> bool:
    sums = [t.sum(dtype=torch.float32 if t.element_size() < 4 else None) for t in tensors]
    if len({s.dtype for s in sums}) > 1:
        sums = [s.double() for s in sums]
    total = sums[0] if len(sums) == 1 else torch.stack(sums).sum()
    if math.isfinite(float(total)):
        return True
    return all(bool(all_finite(t)) for t in tensors)


def check_gradients(
    owner: str,
    probes: list[Tensor],
    groups: list[list[Tensor]],
    grads: list[list[Tensor | None]] | None = None,
    first_group: int = 0,
) -> None:
    """Raise :class:`FloatingPointError` naming the first parameter of ``groups`` with a NaN
    or infinite gradient, unless every entry of ``probes`` (tensors holding every gradient
    entry once) is finite. The gradients are the parameters' ``.grad``, or ``grads`` (laid
    out as ``groups``) for optimizers that differentiate the loss themselves; ``groups``
    are numbered from ``first_group``."""
    if all_finite_list(probes):
        return
    if grads is None:
        grads = [[p.grad for p in params] for params in groups]
    where = "on another process (a shard of a sharded parameter)"
    for gi, gs in enumerate(grads, start=first_group):
        found = [pi for pi, g in enumerate(gs) if g is not None and not bool(all_finite(local(g)))]
        if found:
            where = f"in param group {gi}, parameter {found[0]}"
            break
    raise FloatingPointError(
        f"{owner}: non-finite gradient {where}; pass check_finite=False to let non-finite "
        "values through"
    )
