"""The one home of "name to optimizer": classes, hyperparameters, constraints, closures.

Races, study specs, trials and the command line all resolve an optimizer through
:func:`resolve`, which accepts a registry name (``"adam"``), a ``torch.optim`` name
(``"torch.optim.Adam"``) or a class, and returns an :class:`OptimizerInfo` that knows the
class's hyperparameters and their defaults, checks a value against its constraint, and
builds the optimizer with errors that name the optimizer and what it accepts.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch

from .adafactor import Adafactor
from .adam import AdaBelief, Adam, AdaMax, AdamW, Nadam
from .adaptive import AdaDelta, AdaGrad, RMSProp
from .base import Optimizer
from .constraints import Constraint
from .curvature_approx import BlockDiagonalNewton, DiagonalNewton
from .hessian_free import GaussNewton, HessianFree, NaturalGradient
from .kfac import KFAC
from .layerwise import LAMB, LARS
from .learning_rate_free import MADGRAD, AdEMAMix
from .lookahead import Lookahead
from .modern import Adan, Lion, NAdamW, RAdam
from .muon import Muon
from .newton import LevenbergMarquardt, Newton
from .prodigy import Prodigy
from .quasi_newton import BFGS, LBFGS
from .schedule_free import AdamWScheduleFree, SGDScheduleFree
from .sgd import SGD, Momentum, Nesterov
from .shampoo import Shampoo
from .soap import SOAP
from .sophia import Sophia, SophiaH
from .torch_named import Adadelta, Adagrad, NAdam, RMSprop

REGISTRY: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adadelta": AdaDelta,
    "adam": Adam,
    "adamw": AdamW,
    "adamax": AdaMax,
    "nadam": Nadam,
    "adabelief": AdaBelief,
    "newton": Newton,
    "levenberg_marquardt": LevenbergMarquardt,
    "gauss_newton": GaussNewton,
    "natural_gradient": NaturalGradient,
    "hessian_free": HessianFree,
    "diagonal_newton": DiagonalNewton,
    "block_newton": BlockDiagonalNewton,
    "kfac": KFAC,
    "bfgs": BFGS,
    "lbfgs": LBFGS,
    # torch.optim's names and conventions where they differ from the papers' (SGD, Adam,
    # AdamW, Adamax and LBFGS are one class for both, registered above)
    "adagrad_torch": Adagrad,
    "rmsprop_torch": RMSprop,
    "adadelta_torch": Adadelta,
    "nadam_torch": NAdam,
    "madgrad": MADGRAD,
    "ademamix": AdEMAMix,
    "radam": RAdam,
    "nadamw": NAdamW,
    "lion": Lion,
    "adan": Adan,
    "adafactor": Adafactor,
    "lamb": LAMB,
    "lars": LARS,
    "schedule_free_sgd": SGDScheduleFree,
    "schedule_free_adamw": AdamWScheduleFree,
    "prodigy": Prodigy,
    "shampoo": Shampoo,
    "soap": SOAP,
    "muon": Muon,
    "lookahead": Lookahead,
    "sophia": Sophia,
    "sophia_h": SophiaH,
}

TORCH_PREFIX = "torch.optim."


def register(name: str, cls: type[Optimizer]) -> type[Optimizer]:
    """Add ``cls`` to the registry under ``name`` (lower-cased); returns ``cls``."""
    key = name.lower()
    if key in REGISTRY and REGISTRY[key] is not cls:
        raise ValueError(f"optimizer name {name!r} is already registered to {REGISTRY[key]}")
    REGISTRY[key] = cls
    return cls


def names() -> list[str]:
    """The registered optimizer names, in registry order."""
    return list(REGISTRY)


def lookup(name: str) -> type[Optimizer]:
    """The optimizer class registered as ``name`` (case-insensitive)."""
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a string, got {type(name).__name__}")
    try:
        return REGISTRY[name.strip().lower()]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r}; known optimizers: {', '.join(REGISTRY)}"
        ) from None


@dataclass(frozen=True)
class OptimizerInfo:
    """What the rest of ravine needs to know of one optimizer class, ravine's or torch's.

    ``name`` is how it was asked for: a registry name (lower-cased) or ``torch.optim.X``.
    """

    name: str
    cls: type[torch.optim.Optimizer]

    @property
    def is_ravine(self) -> bool:
        return issubclass(self.cls, Optimizer)

    @property
    def closure_kind(self) -> str:
        """What ``step(closure)`` expects of its closure (see :class:`Optimizer`)."""
        return getattr(self.cls, "closure_kind", "backward")

    @property
    def needs_closure(self) -> bool:
        """Whether ``step`` must be given a closure (ravine's closure-driven methods and
        torch's L-BFGS); the others take the plain ``backward(); step()`` loop."""
        return bool(getattr(self.cls, "needs_closure", False)) or issubclass(
            self.cls, torch.optim.LBFGS
        )

    @property
    def elementwise(self) -> bool:
        """Whether rows of a ``[T, D]`` parameter are independent problems (batchable)."""
        return self.is_ravine and bool(getattr(self.cls, "elementwise", True))

    @property
    def lineage(self) -> list[str]:
        """The registry names of the class and of the registered classes it derives from,
        most specific first (``adadelta_torch``, ``adadelta``): what suggestions keyed by
        name (a landscape's learning rates) fall back on."""
        named = [self.name] if self.name in REGISTRY else []
        for cls in self.cls.__mro__[1:]:
            named += [k for k, v in REGISTRY.items() if v is cls and k not in named]
        return named

    @property
    def description(self) -> str:
        """The first line of the class docstring."""
        doc = inspect.getdoc(self.cls) or ""
        return doc.splitlines()[0] if doc else ""

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """The constructor's keyword defaults: the algorithm's published hyperparameters."""
        if self.is_ravine:
            return self.cls.hyperparameter_defaults()
        sig = inspect.signature(self.cls.__init__).parameters
        return {k: p.default for k, p in sig.items() if p.default is not inspect.Parameter.empty}

    @cached_property
    def hyperparameters(self) -> frozenset[str] | None:
        """The names the constructor accepts; None when it takes any keyword (torch's
        classes that do, and wrappers such as Lookahead that pass them on)."""
        params = inspect.signature(self.cls.__init__).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return None
        if self.is_ravine:
            return frozenset(self.defaults)
        return frozenset(k for k in params if k not in {"self", "params"})

    def constraint(self, hyperparameter: str) -> Constraint | None:
        """The declared constraint on ``hyperparameter`` (None for torch's classes)."""
        return self.cls.constraint(hyperparameter) if self.is_ravine else None

    def check(self, hyperparameter: str, value: Any) -> None:
        """Raise ValueError naming ``hyperparameter`` when ``value`` breaks its constraint;
        lists stand for tuples, as TOML and JSON write them."""
        constraint = self.constraint(hyperparameter)
        if constraint is not None:
            value = tuple(value) if isinstance(value, list) else value
            constraint.check(hyperparameter, value, self.cls.__name__)

    def build(self, params: Any, **hyperparameters: Any) -> torch.optim.Optimizer:
        """The optimizer over ``params``: parameters, param groups, or a module (whose
        parameters are used, except by optimizers that read the module's layers,
        ``closure_kind == "model"``, which get the module itself)."""
        if isinstance(params, torch.nn.Module) and self.closure_kind != "model":
            params = params.parameters()
        try:
            return self.cls(params, **hyperparameters)
        except TypeError as err:
            if "unexpected keyword argument" not in str(err):
                raise
            allowed = ", ".join(self.defaults)
            raise ValueError(
                f"{self.cls.__name__}: {err}; its hyperparameters are: {allowed}"
            ) from None


def resolve(which: str | type) -> OptimizerInfo:
    """The :class:`OptimizerInfo` of a registry name, a ``torch.optim.X`` name or a class."""
    if isinstance(which, type) and issubclass(which, torch.optim.Optimizer):
        return OptimizerInfo(which.__name__, which)
    if not isinstance(which, str):
        raise ValueError(f"optimizer must be a name or an optimizer class, got {which!r}")
    if which.startswith(TORCH_PREFIX):
        cls = getattr(torch.optim, which.removeprefix(TORCH_PREFIX), None)
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise ValueError(f"torch.optim has no optimizer {which.removeprefix(TORCH_PREFIX)!r}")
        return OptimizerInfo(which, cls)
    return OptimizerInfo(which.strip().lower(), lookup(which))


def get(name: str, params: Any, **hyperparameters: Any) -> Optimizer:
    """Build the optimizer registered as ``name`` over ``params``.

    >>> get("adam", model.parameters(), lr=3e-4)  # doctest: +SKIP
    """
    return resolve(lookup(name)).build(params, **hyperparameters)
