"""The optimizer catalog: one record per ravine optimizer class, which the generic tests
iterate (as torch's ``optim_db`` in torch/testing/_internal/common_optimizers.py).

Each :class:`~support.catalog.records.OptimizerEntry` holds, for one class of
``ravine.optim.REGISTRY``: its **variants**, the constructor keywords of each convention it
supports (momentum form, where epsilon goes, Nesterov form, bias correction, ...), each with
the independent **reference** that follows the same convention where one exists; the **bad
inputs** it refuses, with the error expected; its **capabilities**; and the settings it
**converges** with on the test problems.

A new optimizer or variant is added here, once: the validation, batched, multi-tensor,
chunked, compiled, memory, state_dict, parity and convergence tests pick it up, and
``tests/optim/test_catalog.py`` fails while a registered class has no entry.

Modules: :mod:`.records` (the record types and the closure each kind of optimizer asks
for), :mod:`.first_order`, :mod:`.torch_named` and :mod:`.second_order` (the entries),
:mod:`.references` (the updates written out where no library follows a convention).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import ravine.optim as ro

from .first_order import FIRST_ORDER
from .layerwise import LAYERWISE
from .matrix import MATRIX
from .modern1 import MODERN1
from .modern2 import MODERN2
from .preconditioned import PRECONDITIONED
from .records import Bad, OptimizerEntry, Reference, Variant
from .schedule_free import SCHEDULE_FREE
from .second_order import SECOND_ORDER
from .torch_named import TORCH_NAMED

__all__ = [
    "CATALOG",
    "Bad",
    "OptimizerEntry",
    "Reference",
    "Variant",
    "bad_inputs",
    "entry",
    "taking",
    "variant",
    "variants",
]

CATALOG: tuple[OptimizerEntry, ...] = FIRST_ORDER + TORCH_NAMED + SECOND_ORDER
CATALOG += MODERN2
CATALOG += MODERN1
CATALOG += LAYERWISE
CATALOG += SCHEDULE_FREE
CATALOG += PRECONDITIONED
CATALOG += MATRIX


def entry(name: str) -> OptimizerEntry:
    """The catalog entry of the optimizer registered as ``name``."""
    return next(i for i in CATALOG if i.name == name)


def variant(name: str) -> Variant:
    """The variant called ``name`` (``"adam-amsgrad"``, ``"nesterov"``)."""
    return next(v for i in CATALOG for v in i.variants if v.name == name)


def variants(where: Callable[[Variant], bool] = lambda v: True, *, first: bool = False):
    """pytest parameters, named: the variants ``where`` accepts (with ``first``, of each
    optimizer only its first variant, its defaults). ``where`` sees the optimizer's
    capabilities as ``variant.entry``."""
    chosen = [v for i in CATALOG for v in (i.variants[:1] if first else i.variants) if where(v)]
    return [pytest.param(v, id=v.name) for v in chosen]


def bad_inputs(where: Callable[[Bad], bool] = lambda b: True):
    """pytest parameters (optimizer entry, bad input), over the whole catalog."""
    return [
        pytest.param(i, b, id=f"{i.name}-{b.key}={b.value!r}")
        for i in CATALOG
        for b in i.bad
        if where(b)
    ]


def taking(hyperparameter: str) -> list[tuple[type[ro.Optimizer], dict[str, Any]]]:
    """The (class, keywords) of every variant whose optimizer takes ``hyperparameter`` (an
    element such as ``betas[0]`` counts as ``betas``): what a schedule of it can drive."""
    key = hyperparameter.split("[", 1)[0]
    return [
        (v.cls, dict(v.kwargs))
        for i in CATALOG
        if key in (i.registry.hyperparameters or i.registry.defaults)
        for v in i.variants
    ]
