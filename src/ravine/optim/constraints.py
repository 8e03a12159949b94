"""Allowed values of hyperparameters: each optimizer declares a :class:`Constraint` per
hyperparameter, and :meth:`ravine.optim.base.Optimizer.validate` checks every value against
it, with an error that names the hyperparameter and what is allowed."""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

__all__ = [
    "BOOL",
    "COUNT",
    "NONNEGATIVE",
    "OPTIONAL_BOOL",
    "POSITIVE",
    "SEED",
    "UNIT_INTERVAL",
    "Betas",
    "Choice",
    "Constraint",
    "Integer",
    "OrNone",
    "Range",
    "Scalar",
    "ScalarHyperparameters",
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
    if isinstance(value, numbers.Real) and not isinstance(value, Tensor):
        return [float(value)]  # Python and NumPy numbers (np.float32(0.01)), as torch takes
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
    """A pair (beta1, beta2), or with ``count=3`` a triple, each a number or tensor in [0, 1)."""

    each: Range = Range(0.0, 1.0, high_open=True)
    count: int = 2

    def describe(self) -> str:
        names = ", ".join(f"beta{i + 1}" for i in range(self.count))
        kind = {2: "pair", 3: "triple"}.get(self.count, f"{self.count}-tuple")
        return f"a {kind} ({names}), each {self.each.describe()}"

    def check(self, name: str, value: Any, owner: str) -> None:
        if not isinstance(value, tuple | list) or len(value) != self.count:
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")
        for i, beta in enumerate(value):
            self.each.check(f"{name}[{i}]", beta, owner)


@dataclass(frozen=True)
class Integer(Constraint):
    """A whole number in ``[low, high]``: a Python or NumPy integer (``operator.index``
    accepts it), never a float (``2.5`` or ``2.0``), a bool or a tensor."""

    low: int = 0
    high: int | None = None

    def describe(self) -> str:
        if self.high is None:
            return f"an integer >= {self.low}"
        return f"an integer in [{self.low}, {self.high}]"

    def check(self, name: str, value: Any, owner: str) -> None:
        if isinstance(value, bool | Tensor):
            n = None
        else:
            try:
                n = operator.index(value)
            except TypeError:
                n = None
        if n is None:
            raise ValueError(
                f"{owner}: {name} must be an integer, got {type(value).__name__} {value!r}; "
                f"allowed: {self.describe()}"
            )
        if n < self.low or (self.high is not None and n > self.high):
            raise ValueError(f"{owner}: invalid {name}={value}; allowed: {self.describe()}")


@dataclass(frozen=True)
class OrNone(Constraint):
    """``None`` (the option off, or a value derived from others), or ``inner``."""

    inner: Constraint

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"

    def check(self, name: str, value: Any, owner: str) -> None:
        if value is not None:
            self.inner.check(name, value, owner)


@dataclass(frozen=True)
class Scalar(Constraint):
    """``inner``, with plain numbers only: no tensor of more than one element, for the
    optimizers that act on all parameters at once (a tensor of values cannot broadcast
    against a flattened parameter vector). Applies inside pairs such as ``betas`` too."""

    inner: Constraint

    def describe(self) -> str:
        return f"{self.inner.describe()} (a number, not a tensor of several values)"

    def check(self, name: str, value: Any, owner: str) -> None:
        items = enumerate(value) if isinstance(value, tuple | list) else [(None, value)]
        for i, item in items:
            if isinstance(item, Tensor) and item.numel() != 1:
                where = name if i is None else f"{name}[{i}]"
                raise ValueError(
                    f"{owner}: {where} must be a number, got a tensor of shape "
                    f"{tuple(item.shape)}: {owner} acts on all parameters at once and takes "
                    "one value per param group"
                )
        self.inner.check(name, value, owner)


class ScalarHyperparameters:
    """Mixin for optimizer classes whose hyperparameters are plain numbers (second-order and
    quasi-Newton methods, K-FAC): every declared constraint is wrapped in :class:`Scalar`."""

    constraints: ClassVar[dict[str, Constraint]]

    @classmethod
    def constraint(cls, name: str) -> Constraint | None:
        found = super().constraint(name)  # type: ignore[misc]
        return None if found is None else Scalar(found)


NONNEGATIVE = Range(0.0)
POSITIVE = Range(0.0, low_open=True)
UNIT_INTERVAL = Range(0.0, 1.0, high_open=True)  # momentum and decay rates: [0, 1)
BOOL = Choice((False, True))
OPTIONAL_BOOL = Choice((None, False, True))
COUNT = Integer(1)  # iteration counts and sizes
SEED = Integer(0, 2**63 - 1)  # what torch.Generator.manual_seed takes
