"""The values a hyperparameter takes in a spec: a fixed value, a grid, or a continuous range.

A number, string or boolean is fixed; a list is a grid of values (a list of numbers under
``betas`` is one fixed tuple, a list of lists a grid of tuples); a table
``{log = [low, high, n]}`` is ``n`` log-spaced values ``low * (high/low)**(i/(n-1))`` and
``{linear = [low, high, n]}`` ``n`` evenly spaced ones; the string ``"log:1e-4:1:9"`` is the
same as ``{log = [1e-4, 1, 9]}``. Under the random protocol a ``log`` range is sampled
log-uniformly and a ``linear`` range uniformly between its ends, a list uniformly.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Range", "SpecError", "Values", "expand_values", "is_finite", "is_integer", "is_number"]


class SpecError(ValueError):
    """A malformed study spec; ``key`` is the path of the offending entry (``optimizers[1].lr``)."""

    def __init__(self, key: str, message: str):
        self.key = key
        super().__init__(f"{key}: {message}")


def is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def is_integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_finite(v: Any) -> bool:
    return is_number(v) and math.isfinite(v)


_RANGE_STRING = re.compile(r"^\s*(log|linear)\s*:\s*([^:]+):([^:]+):([^:]+)\s*$")


@dataclass(frozen=True)
class Range:
    """A continuous range of one hyperparameter: ``n`` grid points, or samples in random search."""

    kind: str  # "log" or "linear"
    low: float
    high: float
    n: int

    def grid(self) -> list[float]:
        """The ``n`` points, rounded to 12 significant digits so that grids which share a
        point (1e-4 in a grid from 1e-5 and in one from 1e-4) give the very same float."""
        if self.n == 1:
            return [float(self.low)]
        if self.kind == "log":
            a, b = math.log(self.low), math.log(self.high)
            pts = [math.exp(a + (b - a) * i / (self.n - 1)) for i in range(self.n)]
        else:
            pts = [self.low + (self.high - self.low) * i / (self.n - 1) for i in range(self.n)]
        return [float(f"{v:.12g}") for v in pts]

    def sample(self, rng) -> float:
        u = rng.random()
        if self.kind == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


Values = list[Any] | Range


def _range_from_string(key: str, value: str) -> tuple[str, Any, Any, Any] | None:
    m = _RANGE_STRING.match(value)
    if not m:
        return None
    kind = m.group(1)
    try:
        lo, hi, n = (float(m.group(i)) for i in (2, 3, 4))
    except ValueError:
        raise SpecError(key, f"cannot read {value!r} as '{kind}:low:high:n'") from None
    if not n.is_integer():
        raise SpecError(key, f"the number of points in {value!r} must be an integer")
    return kind, lo, hi, int(n)


def _range_from_table(key: str, value: dict[str, Any]) -> tuple[str, Any, Any, Any]:
    if set(value) - {"log", "linear"} or len(value) != 1:
        raise SpecError(
            key,
            f"a range is {{log = [low, high, n]}} or {{linear = [low, high, n]}}, got keys "
            f"{sorted(value)}",
        )
    kind = next(iter(value))
    triple = value[kind]
    if not (isinstance(triple, list) and len(triple) == 3):
        raise SpecError(f"{key}.{kind}", f"must be [low, high, n], got {triple!r}")
    lo, hi, n = triple
    if not (is_finite(lo) and is_finite(hi)):
        raise SpecError(f"{key}.{kind}", f"low and high must be finite numbers, got {triple!r}")
    if not is_integer(n):
        raise SpecError(f"{key}.{kind}", f"n must be an integer, got {n!r}")
    return kind, lo, hi, n


def _parse_range(key: str, value: Any) -> Range | None:
    """A Range from ``{log = [lo, hi, n]}``, ``{linear = ...}`` or ``"log:lo:hi:n"``; None if
    ``value`` is neither form."""
    if isinstance(value, str):
        parts = _range_from_string(key, value)
        if parts is None:
            return None
    elif isinstance(value, dict):
        parts = _range_from_table(key, value)
    else:
        return None
    kind, lo, hi, n = parts
    if n < 1:
        raise SpecError(key, f"the number of points must be >= 1, got {n}")
    if kind == "log" and (lo <= 0 or hi <= 0):
        raise SpecError(key, f"a log range needs low > 0 and high > 0, got [{lo}, {hi}]")
    if hi < lo:
        raise SpecError(key, f"high must be >= low, got [{lo}, {hi}]")
    return Range(kind, float(lo), float(hi), n)


def _check_scalar(key: str, v: Any) -> None:
    if isinstance(v, bool | str):
        return
    if is_number(v):
        if not math.isfinite(v):
            raise SpecError(key, f"must be finite, got {v!r}")
        return
    if isinstance(v, list) and all(is_finite(x) for x in v) and v:
        return  # a tuple-valued hyperparameter such as betas = [0.9, 0.999]
    raise SpecError(key, f"must be a number, string, boolean or list of numbers, got {v!r}")


def expand_values(key: str, value: Any) -> Values:
    """The values a hyperparameter takes: a list (a grid) or a Range. Raises SpecError."""
    r = _parse_range(key, value)
    if r is not None:
        return r
    if isinstance(value, list):
        if not value:
            raise SpecError(key, "an empty list gives no values")
        # a list of numbers is a grid of scalars, a list of lists a grid of tuples
        for i, v in enumerate(value):
            _check_scalar(f"{key}[{i}]", v)
        if all(is_number(v) for v in value) and key.endswith("betas"):
            # betas = [0.9, 0.999] is one fixed tuple, not a grid of two floats
            return [tuple(value)]
        return [tuple(v) if isinstance(v, list) else v for v in value]
    _check_scalar(key, value)
    return [value]
