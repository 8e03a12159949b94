"""Which path a step takes when the optimizer leaves it open (``compile=None``).

Compiled kernels pay where the step moves much memory: on CUDA always (where Triton is
installed), on the CPU for param groups of at least :data:`AUTO_COMPILE_CPU` elements with a
C++ compiler at hand. There an elementwise rule written as a dozen torch ops costs a dozen
passes over the data even in cache-sized chunks, and Adam's eager step on ResNet-18's
parameters takes 1.7 times torch's foreach step; compiled, 0.5 times, after a warm-up of
0.5 to 5 seconds paid once per rule and dtype. Smaller groups stay eager: their step is
dominated by per-call overhead, where a compiled call is no cheaper.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil

from torch import Tensor

__all__ = ["AUTO_COMPILE_CPU", "auto_compile"]

AUTO_COMPILE_CPU = 1 << 20


def auto_compile(params: list[Tensor]) -> bool:
    """Whether ``compile=None`` compiles the step of a param group over ``params``."""
    device = params[0].device
    if device.type == "cuda":
        return _triton_available()
    if device.type != "cpu":
        return False
    return sum(p.numel() for p in params) >= AUTO_COMPILE_CPU and _compiler_available()


@functools.cache
def _triton_available() -> bool:
    """Whether Triton, Inductor's GPU code generator, is installed."""
    return importlib.util.find_spec("triton") is not None


@functools.cache
def _compiler_available() -> bool:
    """Whether a C++ compiler for Inductor's CPU kernels is on the PATH."""
    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))
