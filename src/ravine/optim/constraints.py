"""Allowed values of hyperparameters: each optimizer declares a :class:`Constraint` per
hyperparameter, and :meth:`ravine.optim.base.Optimizer.validate` checks every value against
it, with an error that names the hyperparameter and what is allowed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "BOOL",
    "NONNEGATIVE",
    "OPTIONAL_BOOL",
    "POSITIVE",
    "UNIT_INTERVAL",
    "Betas",
    "Choice",
    "Constraint",
    "Range",
]


class Constraint:
    """An allowed set of values for one hyperparameter; ``check`` raises ``ValueError``."""

    def check(self, name: str, value: Any, owner: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _real(value: Tensor) -> bool:
    return not value.is_complex() and value.dtype != torch.bool


def _values(value: Any) -> list[float] | None:
    """The numbers in a number or one-element real tensor, or None when neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, Tensor) and _real(value) and value.numel() == 1:
        return [float(value.detach())]
    return None


@dataclass(frozen=True)
class Range(Constraint):
    """A real interval; ``low_open``/``high_open`` exclude the end points. Non-finite values
    are always rejected, whatever the interval."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"a finite number in {left}{self.low:g}, {self.high:g}{right}"

    def contains(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def check(self, name: str, value: Any, owner: str) -> None:
        if isinstance(value, Tensor) and _real(value) and value.numel() > 1:
            bad = self._outside(value.detach())
            if bad is not None:
                raise ValueError(
                    f"{owner}: invalid {name}=a tensor holding {bad:.6g}; "
                    f"allowed: {self.describe()}"
                )
            return
        xs = _values(value)
        if xs is None:
            raise ValueError(
                f"{owner}: {name} must be a number or a real tensor, "
                f"got {type(value).__name__} {value!r}"
            )
        if not self.contains(xs[0]):
            raise ValueError(f"{owner}: invalid {name}={value}; allowed: {self.describe()}")

    def _outside(self, v: Tensor) -> float | None:
        """The first element of ``v`` outside the interval, or None (one vectorized pass)."""
        ok = torch.isfinite(v)
        ok &= v > self.low if self.low_open else v >= self.low
        ok &= v < self.high if self.high_open else v <= self.high
        if bool(ok.all()):
            return None
        return float(v[~ok].flatten()[0])


@dataclass(frozen=True)
class Choice(Constraint):
    """One of a fixed set of option values (compared with ``==``, type included)."""

    options: tuple[Any, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, name: str, value: Any, owner: str) -> None:
        if not any(type(value) is type(o) and value == o for o in self.options):
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")


@dataclass(frozen=True)
class Betas(Constraint):
    """A pair (beta1, beta2), each a number or tensor in [0, 1)."""

    each: Range = Range(0.0, 1.0, high_open=True)

    def describe(self) -> str:
        return f"a pair (beta1, beta2), each {self.each.describe()}"

    def check(self, name: str, value: Any, owner: str) -> None:
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")
        for i, beta in enumerate(value):
            self.each.check(f"{name}[{i}]", beta, owner)


NONNEGATIVE = Range(0.0)
POSITIVE = Range(0.0, low_open=True)
UNIT_INTERVAL = Range(0.0, 1.0, high_open=True)  # momentum and decay rates: [0, 1)
BOOL = Choice((False, True))
OPTIONAL_BOOL = Choice((None, False, True))
