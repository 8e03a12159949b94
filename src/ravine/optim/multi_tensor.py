"""Multi-tensor application of an elementwise rule: all parameters of a param group at once.

The parameters of a param group that have gradients, taken per (device, dtype), form a
*bucket*. The bucket keeps each state key of the rule in one flat buffer; each parameter's
``state[p][key]`` is a view into it, so ``state_dict()`` keeps torch's per-parameter layout
and a checkpoint moves freely between this path and the per-tensor reference path.

The flat range is cut into *chunks* of at most ``chunk_size`` elements: a large parameter is
cut into slices (views: nothing is gathered), small parameters are packed whole into one
chunk (their gradients copied into a staging buffer with one ``_foreach_copy_``, their
values gathered with one ``cat`` and the new values scattered back with one more). The rule
runs once per chunk, unchanged: the same function, the same ops, on a longer or shorter
vector. Elementwise ops give every element the same result whatever the length of the
vector it sits in, so this path is bitwise equal to the reference
(``tests/optim/test_multi_tensor.py``). The rule's temporaries are
chunk-sized whatever the model's size: they stay in cache and in the allocator's free lists
instead of costing fresh pages every step. The compiled path (:mod:`ravine.optim.compiled`)
has no temporaries and cuts no parameter: each large one is a chunk of its own.

A :class:`Bucket` is built on the first step and reused while it stays valid: the same
parameters with gradients in the same memory, the same state tensors (a
``load_state_dict``, a state entry replaced by hand or a parameter moved by ``p.data = ...``
rebuilds it, copying the state in). Configurations it cannot serve (tensor
hyperparameters of more than one element, rules that mix coordinates, parameters at
different step counts) go to the reference path, never to wrong numbers.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from .rule import apply_rule
from .sharded import is_dtensor, like, local

__all__ = ["Bucket", "Chunk", "Kernel", "build_bucket", "by_kind", "chunk_layout", "eager_kernel"]

# A chunk update: (chunk, its gradient as a vector, the bucket's scalar state, the step
# number) -> the new scalar state. It writes the chunk's parameter and state in place.
Kernel = Callable[["Chunk", Tensor, dict[str, Tensor], int], dict[str, Tensor]]


@dataclass
class Chunk:
    """One run of the rule: a slice of one parameter, or several whole small parameters.

    ``members`` are (parameter index in the bucket, first element, end element);
    ``targets`` are the flat views of the parameters those pieces write to; ``state`` the
    views of the bucket's flat state buffers over this chunk's range."""

    members: list[tuple[int, int, int]]
    targets: list[Tensor]
    state: dict[str, Tensor]
    size: int
    shapes: list[torch.Size]  # of the members' (local) parameters

    def __post_init__(self) -> None:
        self.sizes = [b - a for _, a, b in self.members]
        self.indices = [i for i, _, _ in self.members]
        # A pack's gradients are copied into one buffer kept from step to step.
        self.staging = self.staging_views = None
        if not self.single:
            self.staging = torch.empty_like(torch.cat(self.targets))
            pieces = torch.split_with_sizes(self.staging, self.sizes)
            self.staging_views = [v.view(s) for v, s in zip(pieces, self.shapes, strict=True)]

    @property
    def single(self) -> bool:
        return len(self.members) == 1

    def gather_grad(self, grads: list[Tensor]) -> Tensor:
        """The chunk's gradient as a vector, from each parameter's (local) gradient: a view
        for a slice of one parameter, the staging buffer for a pack (one multi-tensor copy
        into it)."""
        if self.single:
            i, a, b = self.members[0]
            return grads[i].reshape(-1)[a:b]
        torch._foreach_copy_(self.staging_views, [grads[i] for i in self.indices])
        return self.staging

    def gather_param(self) -> Tensor:
        """The chunk's parameter values as a vector (a view of the parameter for a slice)."""
        return self.targets[0] if self.single else torch.cat(self.targets)

    def scatter(self, new_p: Tensor) -> None:
        """Write the chunk's new parameter values back into the parameters."""
        if self.single:
            self.targets[0].copy_(new_p)
            return
        torch._foreach_copy_(self.targets, torch.split_with_sizes(new_p, self.sizes))


@dataclass
class Bucket:
    """Parameters of one param group, device and dtype, stepped together (see module doc).

    Its parameters share one step counter tensor: they step together by construction."""

    params: list[Tensor]
    flat: dict[str, Tensor]
    scalars: dict[str, Tensor]
    states: list[dict[str, Any]]
    t: int
    state_owner: Any
    # Each parameter's state entries as this bucket installed them (to notice replacements).
    views: list[dict[str, Tensor]] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._installed = [v for mine in self.views for v in mine.values()]
        self._storage = [_where(p) for p in self.params]

    def valid(self, params: list[Tensor], state_owner: Any) -> bool:
        """Whether this bucket still describes ``params`` (the same tensors, still in the
        memory it writes to: ``p.data = ...`` moves a parameter) and their state."""
        if state_owner is not self.state_owner or len(params) != len(self.params):
            return False
        if any(p is not q for p, q in zip(params, self.params, strict=True)):
            return False
        if [_where(p) for p in params] != self._storage:
            return False
        current = [
            state.get(k) for state, mine in zip(self.states, self.views, strict=True) for k in mine
        ]
        return all(map(operator.is_, current, self._installed))

    def stage(self) -> list[Tensor]:
        """Each chunk's gradient, gathered before anything is written (see :meth:`probes`)."""
        grads = [local(p.grad) for p in self.params]
        return [chunk.gather_grad(grads) for chunk in self.chunks]

    def probes(self, staged: list[Tensor]) -> list[Tensor]:
        """Tensors holding every gradient entry once, for the finiteness check: the staged
        gradient of each pack and whole parameter, the gradient of each sliced one. Sharded
        parameters give their whole (DTensor) gradients, so that every process reaches the
        same verdict."""
        if any(is_dtensor(p) for p in self.params):
            return [p.grad for p in self.params]
        out, sliced = [], set()
        for chunk, g in zip(self.chunks, staged, strict=True):
            i = chunk.members[0][0]
            if chunk.single and chunk.size < local(self.params[i]).numel():
                if i not in sliced:
                    sliced.add(i)
                    out.append(self.params[i].grad)
            else:
                out.append(g)
        return out

    def apply(self, kernel: Kernel, staged: list[Tensor]) -> None:
        """Advance every parameter of the bucket one step: ``kernel`` over each chunk."""
        self.t += 1
        self.views[0]["step"].add_(1)
        new_scalars: dict[str, Tensor] = {}
        for chunk, g in zip(self.chunks, staged, strict=True):
            new_scalars = kernel(chunk, g, self.scalars, self.t)
        for k, v in new_scalars.items():
            self.scalars[k] = v
            for state, view in zip(self.states, self.views, strict=True):
                state[k] = view[k] = v
        if new_scalars:
            self.__post_init__()


def by_kind(active: list[tuple[int, Tensor]]) -> tuple[dict, list[tuple[int, Tensor]]]:
    """The (index, parameter) pairs of ``active`` that can share buckets, per (device,
    dtype), and the rest, which the reference path serves: non-contiguous parameters, and
    parameters on the meta device (they hold no values to pack)."""
    kinds: dict[tuple[torch.device, torch.dtype], list[tuple[int, Tensor]]] = {}
    rest = []
    for pi, p in active:
        if local(p).is_contiguous() and p.device.type != "meta":
            kinds.setdefault((p.device, p.dtype), []).append((pi, p))
        else:
            rest.append((pi, p))
    return kinds, rest


def eager_kernel(
    rule: Callable[..., Any], hyper: Mapping[str, Any], prep: Mapping[str, Any], owner: str
) -> Kernel:
    """The chunk update in eager torch ops: the rule (with the shared preprocessing of
    :func:`ravine.optim.rule.apply_rule`) on the chunk's vectors, written back in place."""

    def eager(chunk: Chunk, g: Tensor, scalars: dict[str, Tensor], t: int) -> dict[str, Tensor]:
        p = chunk.gather_param()
        new_p, new_state = apply_rule(rule, p, g, chunk.state | scalars, t, hyper, **prep)
        if len(new_state) != len(chunk.state) + len(scalars):
            raise RuntimeError(
                f"{owner}: the rule returned state {sorted(new_state)} but init_state "
                f"created {sorted((*chunk.state, *scalars))}; declare it in init_state"
            )
        chunk.scatter(new_p)
        for k, v in chunk.state.items():
            v.copy_(new_state[k])
        return {k: new_state[k] for k in scalars}

    return eager


def chunk_layout(
    sizes: list[int], chunk_size: int, slice_large: bool = True
) -> list[list[tuple[int, int, int]]]:
    """Cut parameters of ``sizes`` elements into chunks of at most ``chunk_size`` elements:
    a parameter larger than that alone, in equal slices (whole if not ``slice_large``); runs
    of smaller ones packed whole, in order, so that every chunk is one contiguous range of
    the concatenated parameters. Returns each chunk's (parameter index, first element, end
    element) members."""
    chunks: list[list[tuple[int, int, int]]] = []
    pack: list[tuple[int, int, int]] = []
    filled = 0
    for i, n in enumerate(sizes):
        if n > chunk_size:
            if pack:  # a chunk covers one contiguous range of the flat layout
                chunks.append(pack)
                pack, filled = [], 0
            pieces = -(-n // chunk_size) if slice_large else 1
            step = -(-n // pieces)
            chunks += [[(i, a, min(a + step, n))] for a in range(0, n, step)]
            continue
        if filled + n > chunk_size and pack:
            chunks.append(pack)
            pack, filled = [], 0
        pack.append((i, 0, n))
        filled += n
    if pack:
        chunks.append(pack)
    return chunks


def build_bucket(
    params: list[Tensor],
    states: list[dict[str, Any]],
    state_owner: Any,
    chunk_size: int,
    slice_large: bool = True,
) -> Bucket | None:
    """A bucket over ``params`` whose state dicts ``states`` are already initialised, with
    the state moved into flat buffers; None when the state does not allow it (different
    step counts, per-parameter scalars that differ, state of an unexpected shape)."""
    steps = {float(s["step"]) for s in states}
    if len(steps) != 1:
        return None
    keys = [k for k in states[0] if k != "step"]
    if any(sorted(k for k in s if k != "step") != sorted(keys) for s in states):
        return None
    full = [
        k for k in keys if all(s[k].shape == p.shape for s, p in zip(states, params, strict=True))
    ]
    scalars: dict[str, Tensor] = {}
    for k in keys:
        if k in full:
            continue
        values = [s[k] for s in states]
        if any(v.numel() != 1 or not torch.equal(v, values[0]) for v in values):
            return None
        scalars[k] = values[0]
    flat = _pack_state(params, states, full)
    step = states[0]["step"].clone()
    for state in states:
        state["step"] = step
    views = [{k: s[k] for k in ("step", *full, *scalars)} for s in states]
    layout = chunk_layout([local(p).numel() for p in params], chunk_size, slice_large)
    chunks = _chunks(params, flat, layout)
    return Bucket(list(params), flat, scalars, states, int(steps.pop()), state_owner, views, chunks)


def _pack_state(params: list[Tensor], states: list[dict[str, Any]], keys: list[str]):
    """One flat buffer per state key holding every parameter's values, in parameter order;
    each ``state[key]`` becomes a view of it shaped like its parameter (for a sharded
    parameter: a DTensor sharded like it whose local shard is the view)."""
    total = sum(local(p).numel() for p in params)
    flat: dict[str, Tensor] = {}
    for k in keys:
        first = local(states[0][k])
        buffer = torch.empty(total, dtype=first.dtype, device=first.device)
        offset = 0
        for p, s in zip(params, states, strict=True):
            shard = local(p)
            view = buffer[offset : offset + shard.numel()].view(shard.shape)
            view.copy_(local(s[k]))
            s[k] = like(p, view)
            offset += shard.numel()
        flat[k] = buffer
    return flat


def _chunks(
    params: list[Tensor], flat: dict[str, Tensor], layout: list[list[tuple[int, int, int]]]
) -> list[Chunk]:
    starts = [0]
    for p in params:
        starts.append(starts[-1] + local(p).numel())
    out = []
    for members in layout:
        lo = starts[members[0][0]] + members[0][1]
        hi = starts[members[-1][0]] + members[-1][2]
        if hi == lo:
            continue  # zero-size parameters: nothing to compute, their step count still moves
        targets = [_flat_view(local(params[i]))[a:b] for i, a, b in members]
        state = {k: v[lo:hi] for k, v in flat.items()}
        shapes = [local(params[i]).shape for i, _, _ in members]
        out.append(Chunk(members, targets, state, hi - lo, shapes))
    return out


def _where(p: Tensor) -> tuple[int, torch.Size]:
    """Where a parameter's (local) values live, and their shape."""
    shard = local(p)
    return shard.data_ptr(), shard.shape


def _flat_view(p: Tensor) -> Tensor:
    """``p`` as a vector that writes through to it."""
    return p.detach().view(-1)
