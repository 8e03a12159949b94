"""Schedules in sequence: a warm-up into another schedule, and pieces joined in time."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Any

from torch import Tensor

from .base import Schedule
from .checks import ANY, Number, Steps, Value

__all__ = ["join", "warmup"]

_STEPS = Steps()


def _then(owner: str, name: str, value: Any) -> Schedule | None:
    if value is not None and not isinstance(value, Schedule):
        raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: a Schedule or None")
    return value


class Warmup(Schedule):
    name = "warmup"
    arguments = {"steps": _STEPS, "then": _then, "start": Number(ANY)}

    @property
    def relative(self) -> bool:
        return self.then is None or self.then.relative

    @property
    def length(self) -> int | None:
        if self.then is None:
            return self.steps
        rest = self.then.length
        return None if rest is None else self.steps + rest

    def children(self) -> tuple[Schedule, ...]:
        return () if self.then is None else (self.then,)

    def at(self, t: int, initial: Value) -> Value:
        if t < self.steps:
            target = initial if self.then is None else self.then.at(0, initial)
            return self.start + (target - self.start) * t / self.steps
        return initial if self.then is None else self.then.at(t - self.steps, initial)


def warmup(steps: int, then: Schedule | None = None, *, start: float | Tensor = 0.0) -> Schedule:
    """Linear warm-up from ``start`` (absolute, default 0) to ``then``'s first value (the
    initial value without ``then``) over ``steps`` steps, then ``then(t - steps)``."""
    return Warmup(steps=steps, then=then, start=start)


class Join(Schedule):
    name = "join"

    def __init__(self, schedules: Sequence[Schedule], boundaries: Sequence[int]) -> None:
        schedules = list(schedules)
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise ValueError("join: schedules must be a non-empty sequence of Schedule objects")
        bounds = [_STEPS("join", "boundaries", b) for b in boundaries]
        if len(bounds) != len(schedules) - 1:
            raise ValueError(
                f"join: {len(schedules)} schedules need {len(schedules) - 1} boundaries, "
                f"got {len(bounds)}"
            )
        if any(b >= c for b, c in itertools.pairwise(bounds)):
            raise ValueError(f"join: boundaries {bounds} must be strictly increasing")
        self.schedules = tuple(schedules)
        self.boundaries = tuple(bounds)

    @property
    def relative(self) -> bool:
        return any(s.relative for s in self.schedules)

    @property
    def length(self) -> int | None:
        rest = self.schedules[-1].length
        return None if rest is None else (self.boundaries[-1] if self.boundaries else 0) + rest

    def children(self) -> tuple[Schedule, ...]:
        return self.schedules

    def at(self, t: int, initial: Value) -> Value:
        i = bisect.bisect_right(self.boundaries, t)
        offset = self.boundaries[i - 1] if i else 0
        return self.schedules[i].at(t - offset, initial)

    def _args(self) -> dict[str, Any]:
        return {"schedules": list(self.schedules), "boundaries": self.boundaries}


def join(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    """Piecewise: ``schedules[i]`` on ``[boundaries[i-1], boundaries[i])``, each restarted at
    step 0 where its piece begins (like ``optax.join_schedules`` and torch's SequentialLR)."""
    return Join(schedules, boundaries)
