"""Names of the optimizers, for the command line, study specs and ``ravine.optim.get``."""

from __future__ import annotations

from typing import Any

from .adam import AdaBelief, Adam, AdaMax, AdamW, Nadam
from .adaptive import AdaDelta, AdaGrad, RMSProp
from .base import Optimizer
from .curvature_approx import KFAC, BlockDiagonalNewton, DiagonalNewton
from .hessian_free import GaussNewton, HessianFree, NaturalGradient
from .newton import LevenbergMarquardt, Newton
from .quasi_newton import BFGS, LBFGS
from .sgd import SGD, Momentum, Nesterov

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
}


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


def get(name: str, params: Any, **hyperparameters: Any) -> Optimizer:
    """Build the optimizer registered as ``name`` over ``params``.

    >>> get("adam", model.parameters(), lr=3e-4)  # doctest: +SKIP
    """
    cls = lookup(name)
    try:
        return cls(params, **hyperparameters)
    except TypeError as err:
        if "unexpected keyword argument" not in str(err):
            raise
        allowed = ", ".join(cls.hyperparameter_defaults())
        raise ValueError(f"{cls.__name__}: {err}; its hyperparameters are: {allowed}") from None
