"""ravine: the optimization algorithms that train neural networks, from scratch on PyTorch."""

from __future__ import annotations

import importlib
from typing import Any

from . import optim

__version__ = "0.1.0"
__all__ = ["__version__", "landscapes", "optim", "plot", "race"]

_LAZY = {"landscapes", "plot", "race"}


def __getattr__(name: str) -> Any:
    # Imported on first use, so that `import ravine` stays light. `ravine.race` is the race
    # module, and calling it runs `ravine.race.race`.
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ravine' has no attribute {name!r}")
