"""The records of the optimizer catalog (:mod:`support.catalog`): an optimizer class's
variants, the reference each is checked against, its bad inputs and its capabilities."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

import ravine.optim as ro
from ravine.optim.registry import OptimizerInfo, resolve

__all__ = ["Bad", "OptimizerEntry", "Reference", "Variant", "same"]


@dataclass(frozen=True)
class Reference:
    """An independent implementation of a variant's convention (torch.optim, a paper's
    authors' package, or an update written out in :mod:`support.catalog.references`).

    ``build(groups, **keywords)`` makes it. The variant's keywords and the param groups'
    hyperparameters reach it through ``rename`` (ravine's name -> the reference's; ``None``
    drops a keyword that only selects the convention) plus ``extra`` keywords. ``groups``
    are the two param groups' hyperparameters a comparison runs at; ``state`` maps a ravine
    state key to (the reference's key, transform(reference value, reference group)).
    """

    build: Callable[..., torch.optim.Optimizer]
    groups: tuple[dict[str, Any], dict[str, Any]]
    rename: Mapping[str, str | None] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    state: Mapping[str, tuple[str, Callable[[Any, dict], Any]]] = field(default_factory=dict)

    def translate(self, hyperparameters: Mapping[str, Any]) -> dict[str, Any]:
        """``hyperparameters`` under the reference's names."""
        out = {}
        for key, value in hyperparameters.items():
            name = self.rename.get(key, key)
            if name is not None and key != "params":
                out[name] = value
        return out


def same(key: str) -> tuple[str, Callable[[Any, dict], Any]]:
    """A state entry the reference keeps as it is, under ``key``."""
    return (key, lambda value, group: value)


@dataclass(frozen=True)
class Variant:
    """One convention (or option set) of an optimizer: its constructor keywords."""

    label: str = ""  # the convention's name, appended to the optimizer's
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    reference: Reference | None = None
    entry: OptimizerEntry | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.entry.name}-{self.label}" if self.label else self.entry.name

    @property
    def cls(self) -> type[ro.Optimizer]:
        return self.entry.cls

    def make(self, params: Any, **hyperparameters: Any) -> ro.Optimizer:
        """The optimizer over ``params``: parameters, param groups or a model (the model
        itself for optimizers that read its layers, its parameters for the others)."""
        return self.entry.registry.build(params, **{**self.kwargs, **hyperparameters})

    def make_reference(self, groups: list[dict[str, Any]]) -> torch.optim.Optimizer:
        """The reference over ``groups``, given under ravine's names."""
        ref = self.reference
        translated = [{"params": g["params"], **ref.translate(g)} for g in groups]
        return ref.build(translated, **{**ref.translate(self.kwargs), **ref.extra})


@dataclass(frozen=True)
class Bad:
    """A value of ``key`` the constructor refuses with ``error`` matching ``match`` (a
    regular expression; by default the parameter's name). ``group``: a per-group
    hyperparameter, refused by ``add_param_group`` too."""

    key: str
    value: Any
    match: str | None = None
    error: type[Exception] = ValueError
    group: bool = True

    @property
    def pattern(self) -> str:
        return self.match if self.match is not None else rf"\b{re.escape(self.key)}\b"


@dataclass(frozen=True)
class OptimizerEntry:
    """Everything the generic tests know about one optimizer class: its variants, bad
    inputs, declared capabilities and convergence settings; what ravine itself states about
    the class (closure kind, elementwise, hyperparameters) comes from its registry record."""

    cls: type[ro.Optimizer]
    variants: tuple[Variant, ...] = (Variant(),)
    bad: tuple[Bad, ...] = ()
    # Declared capability: one param group only (a line search over all parameters).
    one_group: bool = False
    # problem -> (hyperparameters, steps, total learning-rate decay): see test_convergence
    converges: Mapping[str, tuple[dict[str, Any], int, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        own = tuple(dataclasses.replace(v, entry=self) for v in self.variants)
        object.__setattr__(self, "variants", own)

    @property
    def name(self) -> str:
        """The registry name."""
        return next(key for key, cls in ro.REGISTRY.items() if cls is self.cls)

    @property
    def registry(self) -> OptimizerInfo:
        """ravine's own record of the class (ravine.optim.registry)."""
        return resolve(self.name)

    @property
    def elementwise(self) -> bool:
        """Each coordinate alone: the rows of a [T, D] parameter are T independent problems
        (batched races and sweeps)."""
        return self.registry.elementwise

    @property
    def multi_tensor(self) -> bool:
        """Its rule runs through the shared step, on the per-tensor, multi-tensor (chunked)
        and compiled paths, which must agree: every elementwise rule does."""
        return self.registry.elementwise

    @property
    def compiled(self) -> bool:
        """Its rule compiles into fused kernels (``compile=True``)."""
        return self.multi_tensor

    @property
    def closure_kind(self) -> str:
        return self.registry.closure_kind

    @property
    def needs_closure(self) -> bool:
        return self.registry.needs_closure

    @property
    def takes_model(self) -> bool:
        """Built on a model (its layers), not on parameters."""
        return self.closure_kind == "model"
