"""The checks a schedule's arguments pass, each with an error that names the schedule, the
argument and what is allowed.

A check is a callable ``check(owner, name, value) -> value``: it raises ``ValueError`` on a
bad value and returns the value in the form the schedule keeps (an ``int`` for a count of
steps, a ``float`` or a detached tensor for a number). Schedules declare one per argument in
:attr:`ravine.schedules.base.Schedule.arguments`; the intervals are the optimizers' own
:class:`~ravine.optim.constraints.Range` objects.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

from torch import Tensor

from ..optim.constraints import NONNEGATIVE, POSITIVE, UNIT_INTERVAL, Choice, Range

__all__ = [
    "ANY",
    "FLAG",
    "FRACTION",
    "NONNEGATIVE",
    "POSITIVE",
    "UNIT_INTERVAL",
    "Number",
    "OneOf",
    "Steps",
    "Value",
    "check_step",
    "fmt",
]

Value = float | Tensor
"""What a schedule gives: a number, or a tensor with a leading trial axis."""

ANY = Range()
FRACTION = Range(0.0, 1.0, low_open=True, high_open=True)


@dataclass(frozen=True)
class Steps:
    """A count of steps: a positive integer (``allow_zero``: non-negative); a float that is
    an integer counts as one. ``optional`` lets ``None`` through."""

    allow_zero: bool = False
    optional: bool = False

    def __call__(self, owner: str, name: str, value: Any) -> int | None:
        if value is None and self.optional:
            return None
        n: int | None = None
        if isinstance(value, float) and value.is_integer():
            n = int(value)
        elif not isinstance(value, bool | float):
            try:
                n = operator.index(value)
            except TypeError:
                n = None
        if n is None or n < (0 if self.allow_zero else 1):
            what = "a non-negative integer" if self.allow_zero else "a positive integer"
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {what}")
        return n


@dataclass(frozen=True)
class Number:
    """A number or real tensor inside ``allowed`` (tensors are detached). ``optional`` lets
    ``None`` through (the group's initial value); ``scalar`` refuses tensors."""

    allowed: Range = ANY
    optional: bool = False
    scalar: bool = False

    def __call__(self, owner: str, name: str, value: Any) -> Value | None:
        if value is None and self.optional:
            return None
        self.allowed.check(name, value, owner)
        if not isinstance(value, Tensor):
            return float(value)
        if self.scalar:
            raise ValueError(f"{owner}: {name} must be a number, not a tensor")
        return value.detach()


@dataclass(frozen=True)
class OneOf:
    """One of a fixed set of options (the optimizers' :class:`Choice`, type included)."""

    options: tuple[Any, ...]

    def __call__(self, owner: str, name: str, value: Any) -> Any:
        Choice(self.options).check(name, value, owner)
        return value


FLAG = OneOf((False, True))

_STEP = Steps(allow_zero=True)


def check_step(step: Any) -> int:
    """The step a schedule is evaluated at: an int >= 0 (a one-element tensor is read)."""
    if isinstance(step, Tensor) and step.numel() == 1:
        step = step.item()
    return _STEP("schedule", "step", step)


def fmt(v: Any) -> str:
    """A value as errors and reprs show it: tensors by shape, floats short."""
    if isinstance(v, Tensor):
        return f"tensor{tuple(v.shape)}"
    if isinstance(v, float):
        return f"{v:g}"
    return repr(v)
