"""Closed-form schedules of one piece: constant, the decays (step, multi-step, exponential,
inverse time, cosine, polynomial) and the linear ramp."""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

from torch import Tensor

from .base import Pinned, Schedule, or_initial
from .checks import ANY, FLAG, NONNEGATIVE, POSITIVE, Number, Steps, Value

__all__ = [
    "constant",
    "cosine",
    "exponential",
    "inverse_time",
    "linear",
    "multi_step",
    "polynomial",
    "step_decay",
]

_INIT = Number(ANY, optional=True)
_FACTOR = Number(NONNEGATIVE)
_STEPS = Steps()


class Constant(Pinned):
    name = "constant"
    arguments = {"value": _INIT}
    pins = ("value",)

    def at(self, t: int, initial: Value) -> Value:
        return or_initial(self.value, initial)


def constant(value: float | Tensor | None = None) -> Schedule:
    """``value`` at every step; ``None`` keeps the group's initial value."""
    return Constant(value=value)


class StepDecay(Pinned):
    name = "step_decay"
    arguments = {"every": _STEPS, "factor": _FACTOR, "init": _INIT}

    def at(self, t: int, initial: Value) -> Value:
        return or_initial(self.init, initial) * self.factor ** (t // self.every)


def step_decay(every: int, factor: float | Tensor = 0.1, *, init: Any = None) -> Schedule:
    """``eta_0 * factor ** (t // every)``: multiply by ``factor`` every ``every`` steps
    (``torch.optim.lr_scheduler.StepLR(step_size=every, gamma=factor)``)."""
    return StepDecay(every=every, factor=factor, init=init)


def _milestones(owner: str, name: str, value: Any) -> tuple[int, ...]:
    """A non-empty sequence of positive step counts, sorted."""
    if isinstance(value, int | str) or not isinstance(value, Iterable):
        raise ValueError(
            f"{owner}: invalid {name}={value!r}; allowed: a sequence of positive integers"
        )
    steps = [_STEPS(owner, name, m) for m in value]
    if not steps:
        raise ValueError(f"{owner}: {name} is empty; give at least one step")
    return tuple(sorted(steps))


class MultiStep(Pinned):
    name = "multi_step"
    arguments = {"milestones": _milestones, "factor": _FACTOR, "init": _INIT}

    def at(self, t: int, initial: Value) -> Value:
        passed = bisect.bisect_right(self.milestones, t)
        return or_initial(self.init, initial) * self.factor**passed


def multi_step(
    milestones: Iterable[int], factor: float | Tensor = 0.1, *, init: Any = None
) -> Schedule:
    """``eta_0 * factor ** k`` where ``k`` counts the milestones ``<= t``
    (``MultiStepLR(milestones, gamma=factor)``)."""
    return MultiStep(milestones=milestones, factor=factor, init=init)


class Exponential(Pinned):
    name = "exponential"
    arguments = {"gamma": _FACTOR, "init": _INIT}

    def at(self, t: int, initial: Value) -> Value:
        return or_initial(self.init, initial) * self.gamma**t


def exponential(gamma: float | Tensor, *, init: Any = None) -> Schedule:
    """``eta_0 * gamma ** t`` (``ExponentialLR(gamma)``)."""
    return Exponential(gamma=gamma, init=init)


class InverseTime(Pinned):
    name = "inverse_time"
    arguments = {"k": _FACTOR, "power": Number(POSITIVE), "init": _INIT}

    def at(self, t: int, initial: Value) -> Value:
        denominator = 1 + self.k * t
        if not isinstance(self.power, Tensor) and self.power == 1.0:
            return or_initial(self.init, initial) / denominator
        return or_initial(self.init, initial) / denominator**self.power


def inverse_time(k: float | Tensor, power: float | Tensor = 1.0, *, init: Any = None) -> Schedule:
    """``eta_0 / (1 + k t) ** power``: the 1/t decay of stochastic approximation
    (``power=0.5`` gives 1/sqrt(t))."""
    return InverseTime(k=k, power=power, init=init)


class Cosine(Pinned):
    name = "cosine"
    arguments = {"total": _STEPS, "final": Number(ANY), "init": _INIT}
    span = "total"

    def at(self, t: int, initial: Value) -> Value:
        c = (1 + math.cos(math.pi * min(t, self.total) / self.total)) / 2
        return self.final + (or_initial(self.init, initial) - self.final) * c


def cosine(total: int, final: float | Tensor = 0.0, *, init: Any = None) -> Schedule:
    """``final + (eta_0 - final) (1 + cos(pi t / total)) / 2`` for ``t <= total``, then
    ``final`` (Loshchilov and Hutter 2017; ``CosineAnnealingLR(T_max=total,
    eta_min=final)``). ``final`` is an absolute value."""
    return Cosine(total=total, final=final, init=init)


class Polynomial(Pinned):
    name = "polynomial"
    arguments = {"total": _STEPS, "power": Number(POSITIVE), "final": Number(ANY), "init": _INIT}
    span = "total"

    def at(self, t: int, initial: Value) -> Value:
        frac = (1.0 - min(t, self.total) / self.total) ** self.power
        return self.final + (or_initial(self.init, initial) - self.final) * frac


def polynomial(
    total: int, power: float | Tensor = 1.0, final: float | Tensor = 0.0, *, init: Any = None
) -> Schedule:
    """``final + (eta_0 - final) (1 - min(t, total) / total) ** power``
    (``PolynomialLR(total_iters=total, power=power)`` when ``final = 0``)."""
    return Polynomial(total=total, power=power, final=final, init=init)


class Linear(Schedule):
    name = "linear"
    arguments = {"start": Number(ANY), "end": Number(ANY), "steps": _STEPS, "relative": FLAG}
    span = "steps"
    relative = False  # an argument here: it shadows Schedule.relative

    def at(self, t: int, initial: Value) -> Value:
        v = self.start + (self.end - self.start) * min(t, self.steps) / self.steps
        return initial * v if self.relative else v


def linear(
    start: float | Tensor, end: float | Tensor, steps: int, *, relative: bool = False
) -> Schedule:
    """``start + (end - start) min(t, steps) / steps``: absolute values, e.g. momentum
    annealing ``linear(0.5, 0.99, 200)``. ``relative=True`` multiplies by the initial value
    (``LinearLR(start_factor=start, end_factor=end, total_iters=steps)``)."""
    return Linear(start=start, end=end, steps=steps, relative=relative)
