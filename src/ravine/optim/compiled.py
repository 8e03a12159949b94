"""Compiled application of an elementwise rule: one fused kernel per chunk (torch.compile).

The kernel is generated from the same rule the reference path runs: the shared gradient
preprocessing, the rule, and the writes of the new parameter and state into the chunk's
views, traced once by TorchDynamo and fused by Inductor into one loop that reads the
parameter, gradient and state once and writes them once (C++ on the CPU, Triton on CUDA).

The graph is compiled with dynamic shapes, and hyperparameters and the step number enter
it as symbolic scalars, so each rule compiles once per dtype and option set (``amsgrad``,
``centered``, ...): not once per parameter shape, learning rate or step.

Inductor inlines a rule's scalar arithmetic (bias corrections such as ``1 - beta2**t``)
into the elementwise loop, where on the CPU it is recomputed for every vector of 16 floats:
three ``pow`` calls per vector made Adam five times slower than its memory traffic. A
post-grad pass (:class:`HoistScalars`) puts a barrier after each 0-d value that feeds the
loop, so the scalar part runs once per call as its own tiny kernel and the loop only loads
its results. Where Inductor's
arithmetic differs from eager torch (it may fuse a multiply and an add, or compute a scalar
in double precision on the host), results agree with the reference to a few ulps
(``tests/optim/test_compiled.py`` states the tolerance).

``compile=None`` (the default) compiles on CUDA when Triton is importable and runs the
eager multi-tensor path elsewhere. If compiling fails, the optimizer warns once and runs
the eager multi-tensor path from then on: a compiler problem never costs a step.
"""

from __future__ import annotations

import functools
import types
import warnings
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import torch
from torch import Tensor
from torch._inductor.custom_graph_pass import CustomGraphPass, get_hash_for_files
from torch._inductor.lowering import register_lowering

__all__ = ["MIN_COMPILED", "HoistScalars", "compiled_kernel", "fused_kernel", "variant_of"]

MIN_COMPILED = 2


@torch.library.custom_op("ravine::scalar_barrier", mutates_args=())
def scalar_barrier(x: Tensor) -> Tensor:
    """The identity, opaque to Inductor: its input is computed on its own, not fused."""
    return x.clone()


@scalar_barrier.register_fake
def _(x: Tensor) -> Tensor:
    return torch.empty_like(x)


@register_lowering(torch.ops.ravine.scalar_barrier.default)
def _lower_barrier(x: Any) -> Any:
    # Inside Inductor the barrier is no call at all: it realizes its input into a buffer
    # of its own, which the loop then reads.
    x.realize()
    return x


class HoistScalars(CustomGraphPass):
    """Inductor post-grad pass: a :func:`scalar_barrier` between every 0-d value and the
    tensors of higher rank that use it, so scalar arithmetic is not inlined into loops."""

    def __call__(self, graph: torch.fx.Graph) -> None:
        for node in list(graph.nodes):
            if node.op != "call_function" or _rank(node) != 0:
                continue
            users = [u for u in node.users if (_rank(u) or 0) > 0]
            if not users:
                continue
            with graph.inserting_after(node):
                barrier = graph.call_function(torch.ops.ravine.scalar_barrier.default, (node,))
            barrier.meta["val"] = node.meta["val"]
            for user in users:
                user.replace_input_with(node, barrier)

    def uuid(self) -> bytes:
        # Inductor's cache key for this pass: this file, so an edit recompiles.
        return get_hash_for_files((__file__,))


def _rank(node: torch.fx.Node) -> int | None:
    val = node.meta.get("val")
    return val.dim() if isinstance(val, Tensor) else None


@functools.cache
def fused_kernel(
    rule: Callable[..., Any], device_type: str, variant: Hashable = None
) -> Callable[..., dict[str, Tensor]]:
    """The compiled in-place chunk update for ``rule`` on ``device_type`` and one
    ``variant`` of its inputs (dtypes, ranks, option values: :func:`variant_of`), cached.

    Called as ``kernel(p, g, state, scalars, t, hyper, prep)``: it overwrites ``p`` and the
    tensors of ``state`` with their new values and returns the new values of ``scalars``
    (per-bucket 0-d state such as Nadam's momentum product). Chunks of fewer than
    :data:`MIN_COMPILED` elements take the eager kernel: a graph for them alone (TorchDynamo
    specializes sizes 0 and 1) would cost a compile for no gain."""
    from .rule import apply_rule

    def kernel(
        p: Tensor,
        g: Tensor,
        state: dict[str, Tensor],
        scalars: dict[str, Tensor],
        t: int,
        hyper: Mapping[str, Any],
        prep: Mapping[str, Any],
    ) -> dict[str, Tensor]:
        new_p, new_state = apply_rule(rule, p, g, state | scalars, t, hyper, **prep)
        p.copy_(new_p)
        for k, v in state.items():
            v.copy_(new_state[k])
        return {k: new_state[k] for k in scalars}

    # TorchDynamo caches graphs per code object, up to a limit of 8: give each rule, device
    # and variant a code object of its own, so that none shares (and exhausts) a cache.
    name = f"{getattr(rule, '__name__', 'rule')}_{device_type}_kernel"
    kernel = types.FunctionType(
        kernel.__code__.replace(co_name=name, co_qualname=name),
        kernel.__globals__,
        name,
        kernel.__defaults__,
        kernel.__closure__,
    )
    # On a GPU the loop's scalar arithmetic is hidden under memory traffic, and separate
    # scalar kernels would cost launches: the pass is for the CPU.
    options: dict[str, Any] = {"post_grad_custom_post_pass": HoistScalars()}
    if device_type != "cpu":
        options = {}
    # Eager torch rounds each intermediate of a bf16 or fp16 op to that dtype; Inductor
    # keeps them in fp32 unless told to emulate the casts: stay with the reference.
    options["emulate_precision_casts"] = True
    return torch.compile(kernel, dynamic=True, fullgraph=True, options=options)


def variant_of(p: Tensor, state: Mapping[str, Tensor], hyper: Mapping, prep: Mapping) -> tuple:
    """What selects a graph besides sizes: the dtypes and ranks of the tensors, the values
    of the options (``amsgrad``, ``maximize``, whether there is weight decay) and which
    hyperparameters are tensors."""

    def sig(v: Any) -> Any:
        if v is None or isinstance(v, bool):
            return v
        if isinstance(v, Tensor):
            return ("tensor", v.dtype, v.dim())
        if isinstance(v, tuple | list):
            return tuple(sig(x) for x in v)
        return type(v).__name__

    tensors = tuple((k, v.dtype, v.dim()) for k, v in state.items())
    options = tuple((k, sig(v)) for k, v in (*hyper.items(), *prep.items()))
    return (p.dtype, p.dim(), tensors, options)


def compiled_kernel(
    rule: Callable[..., Any],
    hyper: Mapping[str, Any],
    prep: Mapping[str, Any],
    device_type: str,
    eager: Callable[..., dict[str, Tensor]],
    broken: Callable[[], bool],
    fail: Callable[[], None],
) -> Callable[..., dict[str, Tensor]]:
    """The chunk update through :func:`fused_kernel`, falling back to ``eager`` for tiny
    chunks, once ``broken()``, and (warning once and calling ``fail``) when compiling fails:
    a compiler failure never costs a step."""

    def compiled(chunk: Any, g: Tensor, scalars: dict[str, Tensor], t: int) -> dict[str, Tensor]:
        if broken() or chunk.size < MIN_COMPILED:
            return eager(chunk, g, scalars, t)
        p = chunk.gather_param()
        try:
            fused = fused_kernel(
                rule, device_type, variant_of(p, chunk.state | scalars, hyper, prep)
            )
            new_scalars = fused(p, g, chunk.state, scalars, t, hyper, prep)
        except Exception as err:
            fail()
            warnings.warn(
                f"{getattr(rule, '__name__', 'rule')}: compiling the step failed "
                f"({type(err).__name__}: {err}); running the eager multi-tensor path instead",
                RuntimeWarning,
                stacklevel=5,
            )
            return eager(chunk, g, scalars, t)
        if not chunk.single:
            chunk.scatter(p)
        return new_scalars

    return compiled
