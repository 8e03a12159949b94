"""The schedule protocol: :class:`Schedule`, its declared and checked arguments, and the
products ``a * b`` and ``c * a``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from torch import Tensor

from .checks import ANY, Number, Value, check_step, fmt

__all__ = ["Pinned", "Product", "Scaled", "Schedule", "or_initial"]

Check = Callable[[str, str, Any], Any]
"""``check(owner, name, value) -> value`` (see :mod:`ravine.schedules.checks`)."""

_SCALE = Number(ANY)


class Schedule:
    """A hyperparameter as a function of the step: ``s(t, initial=1.0) -> float | Tensor``.

    Subclasses implement :meth:`at`. A schedule that reads a metric (``reduce_on_plateau``)
    sets :attr:`needs_metric`, keeps its state in :meth:`state_dict`, and is fed through
    :meth:`observe` by :meth:`Scheduler.step`; every other schedule is stateless.

    The built-in schedules declare their arguments in :attr:`arguments` (name -> check, in
    the order they are checked); the base constructor checks each keyword argument and keeps
    it as an attribute of that name, and :meth:`__repr__` shows them.
    """

    name: ClassVar[str] = ""
    """The function that builds the schedule (``"cosine"``): names it in errors and reprs."""

    arguments: ClassVar[Mapping[str, Check]] = {}
    """Argument name -> its check, in the order they are checked."""

    shown: ClassVar[tuple[str, ...] | None] = None
    """The arguments :meth:`__repr__` shows (default: all of :attr:`arguments`)."""

    span: ClassVar[str | None] = None
    """The argument that holds the schedule's length in steps, if it has one."""

    def __init__(self, **values: Any) -> None:
        for key, check in self.arguments.items():
            setattr(self, key, check(self.name, key, values[key]))

    @property
    def needs_metric(self) -> bool:
        """Whether :meth:`Scheduler.step` must pass a metric (a part reads one)."""
        return any(c.needs_metric for c in self.children())

    def at(self, t: int, initial: Value) -> Value:  # pragma: no cover - abstract
        """The value at step ``t`` (an int >= 0) for initial value ``initial``."""
        raise NotImplementedError

    @property
    def relative(self) -> bool:
        """Whether the values depend on the initial value of the hyperparameter."""
        return True

    @property
    def length(self) -> int | None:
        """Steps after which the schedule has reached its end (None: it has no end)."""
        return None if self.span is None else getattr(self, self.span)

    def __call__(self, step: int, initial: Value = 1.0) -> Value:
        """The value at ``step``; relative schedules scale ``initial`` (default 1: the
        multiplier)."""
        return self.at(check_step(step), initial)

    def children(self) -> tuple[Schedule, ...]:
        return ()

    def observe(self, metric: float) -> None:
        """Feed one metric value (after an optimizer step); only stateful schedules care."""
        for child in self.children():
            child.observe(metric)

    def state_dict(self) -> dict[str, Any]:
        return {str(i): c.state_dict() for i, c in enumerate(self.children())}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for i, c in enumerate(self.children()):
            c.load_state_dict(state.get(str(i), {}))

    def __mul__(self, other: Any) -> Schedule:
        if isinstance(other, Schedule):
            return Product(self, other)
        if isinstance(other, int | float | Tensor) and not isinstance(other, bool):
            return Scaled(self, _SCALE("schedule", "scale", other))
        return NotImplemented

    def __rmul__(self, other: Any) -> Schedule:
        return self.__mul__(other)

    def _args(self) -> dict[str, Any]:
        """The arguments :meth:`__repr__` shows, by name."""
        shown = self.arguments if self.shown is None else self.shown
        return {key: getattr(self, key) for key in shown}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={fmt(v)}" for k, v in self._args().items() if v is not None)
        name = self.name or re.sub(r"(?<!^)([A-Z])", r"_\1", type(self).__name__.lstrip("_"))
        return f"{name.lower()}({args})"


def or_initial(pinned: Value | None, initial: Value) -> Value:
    """A pinned value, or the group's initial value where it is None."""
    return initial if pinned is None else pinned


class Pinned(Schedule):
    """A schedule with values that may be pinned: each of :attr:`pins` is a number, or None
    for the group's initial value. It is relative while any of them is None."""

    pins: ClassVar[tuple[str, ...]] = ("init",)

    @property
    def relative(self) -> bool:
        return any(getattr(self, pin) is None for pin in self.pins)


class Product(Schedule):
    """``a * b``: ``a``'s values times ``b``'s multiplier ``b(t)``."""

    def __init__(self, a: Schedule, b: Schedule) -> None:
        self.a, self.b = a, b

    @property
    def relative(self) -> bool:
        return self.a.relative

    def children(self) -> tuple[Schedule, ...]:
        return (self.a, self.b)

    def at(self, t: int, initial: Value) -> Value:
        return self.a.at(t, initial) * self.b.at(t, 1.0)

    def __repr__(self) -> str:
        return f"({self.a!r} * {self.b!r})"


class Scaled(Schedule):
    """``c * s``: a schedule's values times a number (or tensor) ``c``."""

    def __init__(self, s: Schedule, c: Value) -> None:
        self.s, self.c = s, c

    @property
    def relative(self) -> bool:
        return self.s.relative

    @property
    def length(self) -> int | None:
        return self.s.length

    def children(self) -> tuple[Schedule, ...]:
        return (self.s,)

    def at(self, t: int, initial: Value) -> Value:
        return self.c * self.s.at(t, initial)

    def __repr__(self) -> str:
        return f"({fmt(self.c)} * {self.s!r})"
