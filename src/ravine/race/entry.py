"""One optimizer of a race: its class resolved, its learning rates and hyperparameters
checked, and the refusal (:class:`PlanError`) every check of a race plan raises."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..landscapes import Landscape
from ..optim.registry import OptimizerInfo, resolve

__all__ = ["Entry", "PlanError", "build_entry", "default_lr"]


class PlanError(ValueError):
    """A race argument refused before any work; ``argument`` names it: ``"landscape"``,
    ``"optimizers"``, ``"lrs"``, ``"starts"``, ``"steps"``, ``"seeds"``, ``"schedules"``,
    ``"tol"`` or ``"bound"``; ``key``, where one hyperparameter of one optimizer is at
    fault, names it (``"lr"``, ``"momentum"``)."""

    def __init__(self, argument: str, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.argument = argument
        self.key = key


@dataclass(frozen=True)
class Entry:
    """One optimizer of a race: its label, its resolved class, its learning rates (``[nan]``
    for an optimizer without one), its hyperparameters fixed and varying (each varying one
    a grid axis) and the schedules that drive them (None: none given)."""

    label: str
    info: OptimizerInfo
    lrs: list[float]
    fixed: dict[str, Any]
    varying: dict[str, list[Any]]
    schedule: dict[str, Any] | None = None

    @property
    def takes_lr(self) -> bool:
        return "lr" in self.info.defaults

    @property
    def axes(self) -> tuple[str, ...]:
        return ("lr", *self.varying, "start", "seed")


def build_entry(landscape: Landscape, label: Any, spec: Any, lrs: Any) -> Entry:
    """One optimizer's entry: its class resolved, its learning rates (default: the
    landscape's suggestion for its name or family, else the class's default) and
    hyperparameters checked against the class's constraints."""
    if spec is None:
        spec = {}
    if not isinstance(spec, Mapping):
        raise TypeError(f"optimizer {label!r}: hyperparameters must be a mapping, got {spec!r}")
    spec = dict(spec)
    which = spec.pop("optimizer", label)
    if not isinstance(which, str) and not (
        isinstance(which, type) and issubclass(which, torch.optim.Optimizer)
    ):
        raise TypeError(f"optimizer {label!r}: not an optimizer name or class: {which!r}")
    try:
        info = resolve(which)
    except ValueError as err:
        raise PlanError("optimizers", str(err)) from None
    argument = "optimizers" if "lr" in spec else "lrs"
    if "lr" not in info.defaults:  # Levenberg-Marquardt: its damping sets its step length
        if "lr" in spec:
            raise PlanError(
                "optimizers", f"optimizer {label!r}: {info.cls.__name__} has no learning rate"
            )
        lr_values = [math.nan]
    else:
        lr_spec = spec.pop("lr", lrs)
        if lr_spec is None:
            lr_spec = default_lr(landscape, info)
            if lr_spec is None:
                raise PlanError("lrs", f"optimizer {label!r}: give a learning rate (lrs=...)")
        lr_values = _as_list(argument, "lr", label, lr_spec)
        _check_lrs(argument, label, lr_values)
    fixed, varying = _hyperparameters(str(label), info, spec)
    return Entry(str(label), info, lr_values, fixed, varying)


def default_lr(landscape: Landscape, info: OptimizerInfo) -> float | None:
    """The learning rate a race gives ``info``'s optimizer on ``landscape`` when none is
    given: the landscape's suggestion for its registry name (or that of the class it
    renames, such as torch's ``Adadelta`` of ``AdaDelta``) or family, else the class's
    default."""
    for name in info.lineage:
        suggested = landscape.default_lr(name)
        if suggested is not None:
            return suggested
    suggested = landscape.default_lr("", getattr(info.cls, "family", ""))
    return info.defaults["lr"] if suggested is None else suggested


def _hyperparameters(
    label: str, info: OptimizerInfo, spec: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """The fixed and the varying (given as a list or 1-D tensor) hyperparameters, each name
    and value checked against the optimizer's declared ones."""
    fixed, varying = {}, {}
    for key, value in spec.items():
        if info.hyperparameters is not None and key not in info.hyperparameters:
            raise PlanError(
                "optimizers",
                f"optimizer {label!r}: {info.cls.__name__} has no hyperparameter {key!r}; "
                f"its hyperparameters are: {', '.join(info.defaults)}",
                key,
            )
        if isinstance(value, list) or (isinstance(value, Tensor) and value.ndim == 1):
            values = value.tolist() if isinstance(value, Tensor) else list(value)
            if not values:
                raise PlanError("optimizers", f"optimizer {label!r}: {key} lists no values", key)
            if any(isinstance(v, bool) for v in values):
                raise PlanError(
                    "optimizers",
                    f"optimizer {label!r}: {key} is a switch and cannot vary within a race; "
                    "race two entries instead",
                    key,
                )
            varying[key] = values
        else:
            fixed[key] = value
            values = [value]
        for v in values:
            try:
                info.check(key, v)
            except ValueError as err:
                raise PlanError("optimizers", f"optimizer {label!r}: {err}", key) from None
    return fixed, varying


def _check_lrs(argument: str, label: Any, values: list[Any]) -> None:
    """Every lr a finite number >= 0, checked as one array (grids hold thousands); the
    values become plain floats."""
    try:
        arr = torch.as_tensor(values, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        arr = None
    if arr is not None and arr.ndim == 1:
        bad = ~(torch.isfinite(arr) & (arr >= 0))
        if not bool(bad.any()):
            values[:] = arr.tolist()
            return
        v = values[int(bad.nonzero()[0])]
    else:
        v = next(
            (v for v in values if isinstance(v, bool) or not isinstance(v, int | float)), values
        )
    raise PlanError(
        argument, f"optimizer {label!r}: invalid lr={v!r}; allowed: a number >= 0", "lr"
    )


def _as_list(argument: str, key: str, label: Any, value: Any) -> list[Any]:
    if isinstance(value, Tensor):
        return value.flatten().tolist()
    if isinstance(value, list | tuple):
        if not value:
            raise PlanError(argument, f"optimizer {label!r}: {key} lists no values")
        return list(value)
    return [value]
