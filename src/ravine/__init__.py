"""ravine: the optimization algorithms that train neural networks, from scratch on PyTorch.

Every subpackage is imported on first use (``ravine.optim``, ``ravine.race``,
``ravine.study``, ...), so that ``import ravine`` and the ``ravine`` command's ``--help``,
``--version`` and ``list`` do not pay for importing torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = (
    "curvature",
    "landscapes",
    "optim",
    "plot",
    "problems",
    "race",
    "report",
    "schedules",
    "study",
)
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    # `ravine.race` is the race module, and calling it runs `ravine.race.race`.
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ravine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
