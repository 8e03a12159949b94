r"""Schedules: learning-rate decay, momentum annealing, any hyperparameter over time.

A *schedule* is a pure function of the step ``t = 0, 1, 2, ...`` (the number of optimizer
steps taken so far). A :class:`Scheduler` applies schedules to named hyperparameters of an
optimizer's param groups (``lr``, ``momentum``, ``betas[0]``, ``decay``, ``eps``, ...)::

    opt = ravine.optim.Momentum(model.parameters(), lr=0.1, momentum=0.5)
    sched = Scheduler(opt, {"lr": warmup(100, then=cosine(10_000)),
                            "momentum": linear(0.5, 0.99, 200)})
    for batch in data:
        ...; opt.step(); sched.step()

Absolute and relative values
----------------------------
Every schedule is evaluated as ``s(t, initial)``, where ``initial`` is the value the
hyperparameter had in the param group when the :class:`Scheduler` was built.

* A **relative** schedule uses ``initial``: ``cosine(1000)`` anneals from the group's own
  ``lr`` to 0, ``exponential(0.99)`` gives ``initial * 0.99**t``. This is how
  ``torch.optim.lr_scheduler`` works; the decay schedules are relative unless you pin their
  start with ``init=...``. Called alone, ``s(t)`` uses ``initial = 1``: the multiplier.
* An **absolute** schedule ignores ``initial``: ``linear(0.5, 0.99, 200)`` gives momentum
  0.5 at step 0 rising to 0.99 at step 200 and after, whatever the group held.

Numbers a schedule takes are absolute values (``final``, ``peak``, ``low``, ``high``,
``start``, ``min_value``) or dimensionless factors (``factor``, ``gamma``, ``k``,
``power``); ``linear(..., relative=True)`` reads its ``start`` and ``end`` as factors of the
initial value (``torch.optim.lr_scheduler.LinearLR``). The :attr:`Schedule.relative`
property says which kind a schedule is.

Formulas (``eta_0`` the initial value, ``t`` the step)::

    constant(v)                   v            (v=None: eta_0)
    step_decay(every, factor)     eta_0 factor^floor(t / every)                    StepLR
    multi_step(milestones, f)     eta_0 f^(number of milestones <= t)              MultiStepLR
    exponential(gamma)            eta_0 gamma^t                                    ExponentialLR
    inverse_time(k, power=1)      eta_0 / (1 + k t)^power
    cosine(total, final=0)        final + (eta_0 - final) (1 + cos(pi min(t,total)/total)) / 2
    polynomial(total, p, final=0) final + (eta_0 - final) (1 - min(t,total)/total)^p  PolynomialLR
    linear(start, end, steps)     start + (end - start) min(t, steps) / steps     LinearLR
    warmup(steps, then, start=0)  start + (then(0) - start) t / steps for t < steps,
                                  then(t - steps) after
    one_cycle(total, peak)        Smith's 1cycle: start -> peak -> end             OneCycleLR
    cyclic(low, high, up, down)   triangular cycles between low and high           CyclicLR
    join(schedules, boundaries)   schedules[i](t - boundaries[i-1]) on segment i   (piecewise)
    reduce_on_plateau(...)        eta_0 factor^(plateaus seen), metric-driven      ReduceLROnPlateau

Composition: ``warmup(then=...)`` and ``join`` chain schedules in time; ``a * b`` multiplies
``a``'s values by ``b``'s multiplier ``b(t)`` and ``c * a`` scales by a number.

Values are closed-form functions of ``t`` (torch's schedulers update recursively, so theirs
drift from these by a few ulps over thousands of steps), which makes a resumed run exactly
equal to an uninterrupted one. Where ravine differs from torch after the end of a schedule:
``cosine`` holds ``final`` after ``total`` (torch's CosineAnnealingLR climbs back up),
``one_cycle`` holds its last value (torch raises).

Batched values: any numeric parameter (``init``, ``final``, ``peak``, ``gamma``, ...) may be a
tensor with a leading trial axis, e.g. ``one_cycle(1000, peak=torch.tensor([[1e-1], [1e-2]]))``;
the schedule then yields tensors, which ravine optimizers broadcast against ``[T, D]``
parameters.

String grammar (:func:`parse`, used by the ``--lr-schedule``/``--momentum-schedule`` flags)::

    SPEC   := PART ('>' PART)*        a PART, then the next one from where it ends
    PART   := NAME (':' ARG)*
    ARG    := VALUE | KEY '=' VALUE   positional or keyword, as the Python function takes them
    VALUE  := number | int,int,... | none | true | false | word

``cosine:1000``, ``linear:0.5:0.99:200``, ``step:30:0.1``, ``multistep:100,200:0.1``,
``onecycle:1000:peak=0.1:anneal=linear``, ``warmup:100>cosine:900``,
``linear:0.5:0.9:100>constant:0.9``. ``A>B`` runs ``A`` for its length (``warmup``:
``steps``; ``linear``: ``steps``; ``cosine``, ``polynomial``, ``one_cycle``: ``total``;
others need ``A@N>B``), then ``B`` restarted at step 0; ``warmup:N>B`` warms up towards
``B``'s first value. Names and aliases: see :data:`NAMES`.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..optim.base import NONNEGATIVE, POSITIVE, Range

__all__ = [
    "NAMES",
    "Schedule",
    "Scheduler",
    "constant",
    "cosine",
    "cyclic",
    "exponential",
    "inverse_time",
    "join",
    "linear",
    "multi_step",
    "one_cycle",
    "parse",
    "polynomial",
    "reduce_on_plateau",
    "step_decay",
    "usage",
    "warmup",
]

Value = float | Tensor

_FRACTION = Range(0.0, 1.0, low_open=True, high_open=True)
_BELOW_ONE = Range(0.0, 1.0, high_open=True)
_ANY = Range()


# --------------------------------------------------------------------------- validation


def _steps(owner: str, name: str, value: Any, *, allow_zero: bool = False) -> int:
    """``value`` as a positive (or non-negative) int, else a ValueError naming it."""
    low = 0 if allow_zero else 1
    n: int | None = None
    if isinstance(value, float) and value.is_integer():
        n = int(value)
    elif not isinstance(value, bool | float):
        try:
            n = operator.index(value)
        except TypeError:
            n = None
    if n is None or n < low:
        what = "a non-negative integer" if allow_zero else "a positive integer"
        raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {what}")
    return n


def _number(owner: str, name: str, value: Any, allowed: Range) -> Value:
    """A number or real tensor inside ``allowed``; tensors are detached."""
    allowed.check(name, value, owner)
    return value.detach() if isinstance(value, Tensor) else float(value)


def _maybe(owner: str, name: str, value: Any, allowed: Range) -> Value | None:
    return None if value is None else _number(owner, name, value, allowed)


def _choice(owner: str, name: str, value: Any, options: Sequence[str]) -> str:
    if value not in options:
        raise ValueError(
            f"{owner}: invalid {name}={value!r}; allowed: {', '.join(map(repr, options))}"
        )
    return value


def _check_step(step: Any) -> int:
    if isinstance(step, Tensor) and step.numel() == 1:
        step = step.item()
    return _steps("schedule", "step", step, allow_zero=True)


def _fmt(v: Any) -> str:
    if isinstance(v, Tensor):
        return f"tensor{tuple(v.shape)}"
    if isinstance(v, float):
        return f"{v:g}"
    return repr(v)


# --------------------------------------------------------------------------- the base class


class Schedule:
    """A hyperparameter as a function of the step: ``s(t, initial=1.0) -> float | Tensor``.

    Subclasses implement :meth:`at`. A schedule that reads a metric (``reduce_on_plateau``)
    sets :attr:`needs_metric`, keeps its state in :meth:`state_dict`, and is fed through
    :meth:`observe` by :meth:`Scheduler.step`; every other schedule is stateless.
    """

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
        return None

    def __call__(self, step: int, initial: Value = 1.0) -> Value:
        """The value at ``step``; relative schedules scale ``initial`` (default 1: the
        multiplier)."""
        return self.at(_check_step(step), initial)

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
            return _Product(self, other)
        if isinstance(other, int | float | Tensor) and not isinstance(other, bool):
            return _Scaled(self, _number("schedule", "scale", other, _ANY))
        return NotImplemented

    def __rmul__(self, other: Any) -> Schedule:
        return self.__mul__(other)

    def _args(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self._args().items() if v is not None)
        name = re.sub(r"(?<!^)([A-Z])", r"_\1", type(self).__name__.lstrip("_")).lower()
        return f"{'reduce_on_plateau' if name == 'plateau' else name}({args})"


def _base(init: Value | None, initial: Value) -> Value:
    return initial if init is None else init


class _Init(Schedule):
    """A schedule whose start is either pinned (``init``) or the group's initial value."""

    init: Value | None = None

    @property
    def relative(self) -> bool:
        return self.init is None


# --------------------------------------------------------------------------- schedules


class _Constant(Schedule):
    def __init__(self, value: Any = None) -> None:
        self.value = _maybe("constant", "value", value, _ANY)

    @property
    def relative(self) -> bool:
        return self.value is None

    def at(self, t: int, initial: Value) -> Value:
        return initial if self.value is None else self.value

    def _args(self) -> dict[str, Any]:
        return {"value": self.value}


def constant(value: float | Tensor | None = None) -> Schedule:
    """``value`` at every step; ``None`` keeps the group's initial value."""
    return _Constant(value)


class _StepDecay(_Init):
    def __init__(self, every: int, factor: Any, init: Any = None) -> None:
        self.every = _steps("step_decay", "every", every)
        self.factor = _number("step_decay", "factor", factor, NONNEGATIVE)
        self.init = _maybe("step_decay", "init", init, _ANY)

    def at(self, t: int, initial: Value) -> Value:
        return _base(self.init, initial) * self.factor ** (t // self.every)

    def _args(self) -> dict[str, Any]:
        return {"every": self.every, "factor": self.factor, "init": self.init}


def step_decay(every: int, factor: float | Tensor = 0.1, *, init: Any = None) -> Schedule:
    """``eta_0 * factor ** (t // every)``: multiply by ``factor`` every ``every`` steps
    (``torch.optim.lr_scheduler.StepLR(step_size=every, gamma=factor)``)."""
    return _StepDecay(every, factor, init)


class _MultiStep(_Init):
    def __init__(self, milestones: Iterable[int], factor: Any, init: Any = None) -> None:
        if isinstance(milestones, int | str) or not isinstance(milestones, Iterable):
            raise ValueError(
                f"multi_step: invalid milestones={milestones!r}; allowed: a sequence of "
                "positive integers"
            )
        ms = [_steps("multi_step", "milestones", m) for m in milestones]
        if not ms:
            raise ValueError("multi_step: milestones is empty; give at least one step")
        self.milestones = tuple(sorted(ms))
        self.factor = _number("multi_step", "factor", factor, NONNEGATIVE)
        self.init = _maybe("multi_step", "init", init, _ANY)

    def at(self, t: int, initial: Value) -> Value:
        return _base(self.init, initial) * self.factor ** bisect.bisect_right(self.milestones, t)

    def _args(self) -> dict[str, Any]:
        return {"milestones": self.milestones, "factor": self.factor, "init": self.init}


def multi_step(
    milestones: Iterable[int], factor: float | Tensor = 0.1, *, init: Any = None
) -> Schedule:
    """``eta_0 * factor ** k`` where ``k`` counts the milestones ``<= t``
    (``MultiStepLR(milestones, gamma=factor)``)."""
    return _MultiStep(milestones, factor, init)


class _Exponential(_Init):
    def __init__(self, gamma: Any, init: Any = None) -> None:
        self.gamma = _number("exponential", "gamma", gamma, NONNEGATIVE)
        self.init = _maybe("exponential", "init", init, _ANY)

    def at(self, t: int, initial: Value) -> Value:
        return _base(self.init, initial) * self.gamma**t

    def _args(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "init": self.init}


def exponential(gamma: float | Tensor, *, init: Any = None) -> Schedule:
    """``eta_0 * gamma ** t`` (``ExponentialLR(gamma)``)."""
    return _Exponential(gamma, init)


class _InverseTime(_Init):
    def __init__(self, k: Any, power: Any = 1.0, init: Any = None) -> None:
        self.k = _number("inverse_time", "k", k, NONNEGATIVE)
        self.power = _number("inverse_time", "power", power, POSITIVE)
        self.init = _maybe("inverse_time", "init", init, _ANY)

    def at(self, t: int, initial: Value) -> Value:
        denominator = 1 + self.k * t
        if not isinstance(self.power, Tensor) and self.power == 1.0:
            return _base(self.init, initial) / denominator
        return _base(self.init, initial) / denominator**self.power

    def _args(self) -> dict[str, Any]:
        return {"k": self.k, "power": self.power, "init": self.init}


def inverse_time(k: float | Tensor, power: float | Tensor = 1.0, *, init: Any = None) -> Schedule:
    """``eta_0 / (1 + k t) ** power``: the 1/t decay of stochastic approximation
    (``power=0.5`` gives 1/sqrt(t))."""
    return _InverseTime(k, power, init)


class _Cosine(_Init):
    def __init__(self, total: int, final: Any = 0.0, init: Any = None) -> None:
        self.total = _steps("cosine", "total", total)
        self.final = _number("cosine", "final", final, _ANY)
        self.init = _maybe("cosine", "init", init, _ANY)

    @property
    def length(self) -> int:
        return self.total

    def at(self, t: int, initial: Value) -> Value:
        c = (1 + math.cos(math.pi * min(t, self.total) / self.total)) / 2
        return self.final + (_base(self.init, initial) - self.final) * c

    def _args(self) -> dict[str, Any]:
        return {"total": self.total, "final": self.final, "init": self.init}


def cosine(total: int, final: float | Tensor = 0.0, *, init: Any = None) -> Schedule:
    """``final + (eta_0 - final) (1 + cos(pi t / total)) / 2`` for ``t <= total``, then
    ``final`` (Loshchilov and Hutter 2017; ``CosineAnnealingLR(T_max=total,
    eta_min=final)``). ``final`` is an absolute value."""
    return _Cosine(total, final, init)


class _Polynomial(_Init):
    def __init__(self, total: int, power: Any = 1.0, final: Any = 0.0, init: Any = None) -> None:
        self.total = _steps("polynomial", "total", total)
        self.power = _number("polynomial", "power", power, POSITIVE)
        self.final = _number("polynomial", "final", final, _ANY)
        self.init = _maybe("polynomial", "init", init, _ANY)

    @property
    def length(self) -> int:
        return self.total

    def at(self, t: int, initial: Value) -> Value:
        frac = (1.0 - min(t, self.total) / self.total) ** self.power
        return self.final + (_base(self.init, initial) - self.final) * frac

    def _args(self) -> dict[str, Any]:
        return {"total": self.total, "power": self.power, "final": self.final, "init": self.init}


def polynomial(
    total: int, power: float | Tensor = 1.0, final: float | Tensor = 0.0, *, init: Any = None
) -> Schedule:
    """``final + (eta_0 - final) (1 - min(t, total) / total) ** power``
    (``PolynomialLR(total_iters=total, power=power)`` when ``final = 0``)."""
    return _Polynomial(total, power, final, init)


class _Linear(Schedule):
    def __init__(self, start: Any, end: Any, steps: int, relative: bool = False) -> None:
        self.start = _number("linear", "start", start, _ANY)
        self.end = _number("linear", "end", end, _ANY)
        self.steps = _steps("linear", "steps", steps)
        if not isinstance(relative, bool):
            raise ValueError(f"linear: invalid relative={relative!r}; allowed: True, False")
        self._relative = relative

    @property
    def relative(self) -> bool:
        return self._relative

    @property
    def length(self) -> int:
        return self.steps

    def at(self, t: int, initial: Value) -> Value:
        v = self.start + (self.end - self.start) * min(t, self.steps) / self.steps
        return initial * v if self._relative else v

    def _args(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "steps": self.steps,
            "relative": self._relative,
        }


def linear(
    start: float | Tensor, end: float | Tensor, steps: int, *, relative: bool = False
) -> Schedule:
    """``start + (end - start) min(t, steps) / steps``: absolute values, e.g. momentum
    annealing ``linear(0.5, 0.99, 200)``. ``relative=True`` multiplies by the initial value
    (``LinearLR(start_factor=start, end_factor=end, total_iters=steps)``)."""
    return _Linear(start, end, steps, relative)


class _Warmup(Schedule):
    def __init__(self, steps: int, then: Schedule | None = None, start: Any = 0.0) -> None:
        self.steps = _steps("warmup", "steps", steps)
        if then is not None and not isinstance(then, Schedule):
            raise ValueError(f"warmup: invalid then={then!r}; allowed: a Schedule or None")
        self.then = then
        self.start = _number("warmup", "start", start, _ANY)

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

    def _args(self) -> dict[str, Any]:
        return {"steps": self.steps, "then": self.then, "start": self.start}


def warmup(steps: int, then: Schedule | None = None, *, start: float | Tensor = 0.0) -> Schedule:
    """Linear warm-up from ``start`` (absolute, default 0) to ``then``'s first value (the
    initial value without ``then``) over ``steps`` steps, then ``then(t - steps)``."""
    return _Warmup(steps, then, start)


def _cos_anneal(start: Value, end: Value, pct: float) -> Value:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _linear_anneal(start: Value, end: Value, pct: float) -> Value:
    return (end - start) * pct + start


class _OneCycle(Schedule):
    def __init__(
        self,
        total: int,
        peak: Any = None,
        start: Any = None,
        end: Any = None,
        pct_start: Any = 0.3,
        anneal: str = "cos",
        three_phase: bool = False,
        div: Any = 25.0,
        final_div: Any = 1e4,
    ) -> None:
        o = "one_cycle"
        self.total = _steps(o, "total", total)
        self.peak = _maybe(o, "peak", peak, _ANY)
        self.start = _maybe(o, "start", start, _ANY)
        self.end = _maybe(o, "end", end, _ANY)
        pct = _number(o, "pct_start", pct_start, _FRACTION)
        if isinstance(pct, Tensor):
            raise ValueError(f"{o}: pct_start must be a number, got a tensor")
        self.pct_start = pct
        self.anneal = _choice(o, "anneal", anneal, ("cos", "linear"))
        if not isinstance(three_phase, bool):
            raise ValueError(f"{o}: invalid three_phase={three_phase!r}; allowed: True, False")
        self.three_phase = three_phase
        self.div = _number(o, "div", div, POSITIVE)
        self.final_div = _number(o, "final_div", final_div, POSITIVE)
        first = float(pct * self.total) - 1
        if first <= 0 or (three_phase and float(2 * pct * self.total) - 2 >= self.total - 1):
            raise ValueError(
                f"{o}: pct_start={pct:g} with total={self.total} leaves an empty phase; "
                "raise total or move pct_start towards 0.5"
            )
        if three_phase:
            self._phases = [
                (first, "start", "peak"),
                (float(2 * pct * self.total) - 2, "peak", "start"),
                (self.total - 1, "start", "end"),
            ]
        else:
            self._phases = [(first, "start", "peak"), (self.total - 1, "peak", "end")]

    @property
    def relative(self) -> bool:
        return self.peak is None

    @property
    def length(self) -> int:
        return self.total

    def at(self, t: int, initial: Value) -> Value:
        # The arithmetic mirrors torch.optim.lr_scheduler.OneCycleLR, operation for operation.
        peak = _base(self.peak, initial)
        start = peak / self.div if self.start is None else self.start
        end = start / self.final_div if self.end is None else self.end
        values = {"start": start, "peak": peak, "end": end}
        t = min(t, self.total - 1)
        anneal = _cos_anneal if self.anneal == "cos" else _linear_anneal
        begin = 0.0
        for i, (stop, a, b) in enumerate(self._phases):
            if t <= stop or i == len(self._phases) - 1:
                return anneal(values[a], values[b], (t - begin) / (stop - begin))
            begin = stop
        raise AssertionError("unreachable")  # pragma: no cover

    def _args(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "peak": self.peak,
            "start": self.start,
            "end": self.end,
            "pct_start": self.pct_start,
            "anneal": self.anneal,
            "three_phase": self.three_phase,
        }


def one_cycle(
    total: int,
    peak: float | Tensor | None = None,
    *,
    start: float | Tensor | None = None,
    end: float | Tensor | None = None,
    pct_start: float = 0.3,
    anneal: str = "cos",
    three_phase: bool = False,
    div: float = 25.0,
    final_div: float = 1e4,
) -> Schedule:
    """Smith and Topin's 1cycle (2019): from ``start`` up to ``peak`` over the first
    ``pct_start`` of ``total`` steps, then down to ``end`` (``three_phase``: back to
    ``start`` first, then to ``end``); ``anneal`` is ``"cos"`` or ``"linear"``.

    ``peak`` defaults to the initial value; ``start = peak / div`` and ``end = start /
    final_div`` unless given. ``OneCycleLR(max_lr=peak, total_steps=total)`` for the
    learning rate; momentum cycling is ``one_cycle(total, peak=0.85, start=0.95, end=0.95)``.
    """
    return _OneCycle(total, peak, start, end, pct_start, anneal, three_phase, div, final_div)


class _Cyclic(Schedule):
    def __init__(
        self,
        low: Any,
        high: Any,
        up: int,
        down: int | None = None,
        mode: str = "triangular",
        gamma: Any = 1.0,
    ) -> None:
        o = "cyclic"
        self.low = _maybe(o, "low", low, _ANY)
        self.high = _maybe(o, "high", high, _ANY)
        self.up = _steps(o, "up", up)
        self.down = self.up if down is None else _steps(o, "down", down)
        self.mode = _choice(o, "mode", mode, ("triangular", "triangular2", "exp_range"))
        self.gamma = _number(o, "gamma", gamma, POSITIVE)
        self._total = float(self.up) + float(self.down)
        self._ratio = float(self.up) / self._total

    @property
    def relative(self) -> bool:
        return self.low is None or self.high is None

    def at(self, t: int, initial: Value) -> Value:
        # Mirrors torch.optim.lr_scheduler.CyclicLR, operation for operation.
        low = _base(self.low, initial)
        high = _base(self.high, initial)
        cycle = math.floor(1 + t / self._total)
        x = 1.0 + t / self._total - cycle
        scale = x / self._ratio if x <= self._ratio else (x - 1) / (self._ratio - 1)
        height = (high - low) * scale
        if self.mode == "triangular":
            return low + height * 1.0
        if self.mode == "triangular2":
            return low + height * (1 / (2.0 ** (cycle - 1)))
        return low + height * self.gamma**t

    def _args(self) -> dict[str, Any]:
        return {
            "low": self.low,
            "high": self.high,
            "up": self.up,
            "down": self.down,
            "mode": self.mode,
            "gamma": self.gamma,
        }


def cyclic(
    low: float | Tensor | None,
    high: float | Tensor | None,
    up: int,
    down: int | None = None,
    *,
    mode: str = "triangular",
    gamma: float | Tensor = 1.0,
) -> Schedule:
    """Smith's cyclical schedule (2017): rises linearly from ``low`` to ``high`` over ``up``
    steps, falls back over ``down`` (default ``up``) steps, and repeats. ``mode``:
    ``"triangular"`` (constant amplitude), ``"triangular2"`` (amplitude halved each cycle),
    ``"exp_range"`` (amplitude times ``gamma ** t``). ``None`` for ``low`` or ``high`` means
    the initial value. ``CyclicLR(base_lr=low, max_lr=high, step_size_up=up, ...)``; its
    momentum cycle is ``cyclic(max_momentum, base_momentum, up)`` (``low > high`` is allowed).
    """
    return _Cyclic(low, high, up, down, mode, gamma)


class _Join(Schedule):
    def __init__(self, schedules: Sequence[Schedule], boundaries: Sequence[int]) -> None:
        schedules = list(schedules)
        if not schedules or not all(isinstance(s, Schedule) for s in schedules):
            raise ValueError("join: schedules must be a non-empty sequence of Schedule objects")
        bounds = [_steps("join", "boundaries", b) for b in boundaries]
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
    return _Join(schedules, boundaries)


class _Plateau(_Init):
    @property
    def needs_metric(self) -> bool:
        return True

    def __init__(
        self,
        factor: Any = 0.1,
        patience: int = 10,
        mode: str = "min",
        threshold: Any = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_value: Any = 0.0,
        eps: Any = 1e-8,
        init: Any = None,
    ) -> None:
        o = "reduce_on_plateau"
        self.factor = _number(o, "factor", factor, _BELOW_ONE)
        self.patience = _steps(o, "patience", patience, allow_zero=True)
        self.mode = _choice(o, "mode", mode, ("min", "max"))
        self.threshold = _number(o, "threshold", threshold, NONNEGATIVE)
        self.threshold_mode = _choice(o, "threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = _steps(o, "cooldown", cooldown, allow_zero=True)
        self.min_value = _number(o, "min_value", min_value, NONNEGATIVE)
        self.eps = _number(o, "eps", eps, NONNEGATIVE)
        self.init = _maybe(o, "init", init, _ANY)
        for name in ("factor", "threshold"):
            if isinstance(getattr(self, name), Tensor):
                raise ValueError(f"{o}: {name} must be a number, not a tensor")
        self.best = math.inf if mode == "min" else -math.inf
        self.bad = 0
        self.cooling = 0
        self.reductions = 0

    def _better(self, a: float) -> bool:
        if self.mode == "min":
            if self.threshold_mode == "rel":
                return a < self.best * (1.0 - self.threshold)
            return a < self.best - self.threshold
        if self.threshold_mode == "rel":
            return a > self.best * (self.threshold + 1.0)
        return a > self.best + self.threshold

    def observe(self, metric: float) -> None:
        # The bookkeeping of torch.optim.lr_scheduler.ReduceLROnPlateau.step.
        current = float(metric)
        if self._better(current):
            self.best = current
            self.bad = 0
        else:
            self.bad += 1
        if self.cooling > 0:
            self.cooling -= 1
            self.bad = 0
        if self.bad > self.patience:
            self.reductions += 1
            self.cooling = self.cooldown
            self.bad = 0

    def at(self, t: int, initial: Value) -> Value:
        # Replays each reduction as torch does (new = max(old factor, min); kept only when
        # old - new > eps), so the floats agree bit for bit.
        v = _base(self.init, initial)
        for _ in range(self.reductions):
            if isinstance(v, Tensor):
                new = torch.clamp(v * self.factor, min=self.min_value)
                new = torch.where(v - new > self.eps, new, v)
                if torch.equal(new, v):
                    break
            else:
                new = max(v * self.factor, self.min_value)
                if not v - new > self.eps:
                    break
            v = new
        return v

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "bad": self.bad,
            "cooling": self.cooling,
            "reductions": self.reductions,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for key in ("best", "bad", "cooling", "reductions"):
            setattr(self, key, state[key])

    def _args(self) -> dict[str, Any]:
        return {"factor": self.factor, "patience": self.patience, "mode": self.mode}


def reduce_on_plateau(
    factor: float = 0.1,
    patience: int = 10,
    *,
    mode: str = "min",
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_value: float | Tensor = 0.0,
    eps: float = 1e-8,
    init: Any = None,
) -> Schedule:
    """Multiply by ``factor`` whenever the metric passed to :meth:`Scheduler.step` has not
    improved for more than ``patience`` calls (``ReduceLROnPlateau``, same arguments with
    ``min_lr`` named ``min_value``). Stateful: its state is in the scheduler's
    ``state_dict``."""
    return _Plateau(
        factor, patience, mode, threshold, threshold_mode, cooldown, min_value, eps, init
    )


class _Product(Schedule):
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


class _Scaled(Schedule):
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
        return f"({_fmt(self.c)} * {self.s!r})"


# --------------------------------------------------------------------------- the scheduler

_NAME = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*\])?\s*$")


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    return isinstance(v, Tensor) and not v.is_complex() and v.dtype != torch.bool


def _schedulable(group: Mapping[str, Any]) -> list[str]:
    """Names of the numeric hyperparameters of a param group (``betas[0]`` for tuples)."""
    names = []
    for key, v in group.items():
        if key == "params" or key.startswith("initial_"):
            continue
        if _is_number(v):
            names.append(key)
        elif isinstance(v, tuple | list) and v and all(_is_number(x) for x in v):
            names.extend(f"{key}[{i}]" for i in range(len(v)))
    return names


class Scheduler:
    """Applies schedules to named hyperparameters of an optimizer's param groups.

    ``schedules`` maps a hyperparameter name (``"lr"``, ``"momentum"``, ``"betas[0]"``,
    ``"decay"``, ``"eps"``, any numeric entry of the param groups; ``"name[i]"`` for entry
    ``i`` of a tuple) to a :class:`Schedule`, a spec string for :func:`parse`
    (``"cosine:1000"``), or a list of schedules, one per selected group. ``groups`` picks
    the param groups (indices; default all). Drive each hyperparameter from one scheduler
    only: the last one to write it wins.

    The value for step 0 is applied at construction (like ``torch.optim.lr_scheduler``);
    call :meth:`step` once after each ``optimizer.step()``; after ``n`` calls the groups hold
    the values for step ``n``. Relative schedules scale the value each group held when the
    scheduler was built. Works with ravine optimizers and with any ``torch.optim.Optimizer``;
    a ``torch.optim.lr_scheduler`` may drive other hyperparameters of the same optimizer.

    ``validate`` (default True) checks every applied value against a ravine optimizer's
    allowed ranges (a ValueError names the hyperparameter, step and range); with tensor
    values this reads them back from the device each step, so GPU races may pass False.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        schedules: Mapping[str, Schedule | Sequence[Schedule]],
        groups: Sequence[int] | None = None,
        *,
        validate: bool = True,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"Scheduler: optimizer must be a torch.optim.Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        if not isinstance(schedules, Mapping) or not schedules:
            raise ValueError(
                "Scheduler: schedules must be a non-empty mapping from hyperparameter name "
                "to schedule, e.g. {'lr': cosine(1000)}"
            )
        self.optimizer = optimizer
        self.validate = validate
        n = len(optimizer.param_groups)
        if groups is None:
            self.groups = list(range(n))
        else:
            self.groups = []
            for g in groups:
                if isinstance(g, bool) or not isinstance(g, int) or not -n <= g < n:
                    raise ValueError(
                        f"Scheduler: invalid group {g!r}; the optimizer has {n} param "
                        f"group(s): allowed indices 0..{n - 1}"
                    )
                self.groups.append(g % n)
        self.names: list[tuple[str, str, int | None]] = []
        self.schedules: dict[str, list[Schedule]] = {}
        for name, sched in schedules.items():
            key, index = self._resolve(name)
            self.names.append((name, key, index))
            self.schedules[name] = self._per_group(name, sched)
        self.initial: dict[str, list[Value]] = {
            name: [
                _snapshot(self._get(self.optimizer.param_groups[g], key, index))
                for g in self.groups
            ]
            for name, key, index in self.names
        }
        self.last_step = 0
        self._apply()

    # -- construction helpers ---------------------------------------------------------

    def _resolve(self, name: str) -> tuple[str, int | None]:
        owner = type(self.optimizer).__name__
        if not isinstance(name, str):
            raise ValueError(f"Scheduler: hyperparameter names are strings, got {name!r}")
        m = _NAME.match(name)
        for g in self.groups:
            group = self.optimizer.param_groups[g]
            valid = ", ".join(_schedulable(group)) or "(none)"
            if m is None:
                raise ValueError(
                    f"Scheduler: malformed hyperparameter name {name!r}; write 'name' or "
                    f"'name[i]'; {owner} param group {g} has: {valid}"
                )
            key, index = m.group(1), m.group(2)
            value = group.get(key)
            if key not in group or key == "params":
                raise ValueError(
                    f"Scheduler: {owner} has no hyperparameter {key!r} (param group {g}); "
                    f"schedulable hyperparameters: {valid}"
                )
            if index is None:
                if not _is_number(value):
                    hint = (
                        f" (schedule {key}[0], {key}[1], ...)"
                        if isinstance(value, tuple | list)
                        else ""
                    )
                    raise ValueError(
                        f"Scheduler: {owner} hyperparameter {key!r} is {value!r}, not a "
                        f"number{hint}; schedulable hyperparameters: {valid}"
                    )
            else:
                if not isinstance(value, tuple | list) or not int(index) < len(value):
                    raise ValueError(
                        f"Scheduler: {owner} has no entry {name!r} (param group {g} holds "
                        f"{key}={value!r}); schedulable hyperparameters: {valid}"
                    )
                if not _is_number(value[int(index)]):
                    raise ValueError(
                        f"Scheduler: {name!r} is {value[int(index)]!r}, not a number; "
                        f"schedulable hyperparameters: {valid}"
                    )
        assert m is not None
        return m.group(1), None if m.group(2) is None else int(m.group(2))

    def _per_group(self, name: str, sched: Any) -> list[Schedule]:
        if isinstance(sched, Schedule):
            return [sched] * len(self.groups)
        if isinstance(sched, str):
            return [parse(sched)] * len(self.groups)
        if isinstance(sched, Sequence) and all(isinstance(s, Schedule) for s in sched):
            if len(sched) != len(self.groups):
                raise ValueError(
                    f"Scheduler: {len(sched)} schedules for {name!r} but {len(self.groups)} "
                    "param group(s) selected; give one schedule, or one per group"
                )
            return list(sched)
        raise ValueError(
            f"Scheduler: the schedule for {name!r} must be a Schedule (e.g. cosine(1000)), a "
            f"spec string for parse(), or one Schedule per group; got {sched!r}"
        )

    @staticmethod
    def _get(group: Mapping[str, Any], key: str, index: int | None) -> Value:
        return group[key] if index is None else group[key][index]

    def _metric_leaves(self) -> list[Schedule]:
        """Every metric-reading schedule inside the schedules, each once even if shared."""
        seen: dict[int, Schedule] = {}
        todo = [s for scheds in self.schedules.values() for s in scheds]
        while todo:
            s = todo.pop()
            kids = s.children()
            if kids:
                todo.extend(kids)
            elif s.needs_metric:
                seen.setdefault(id(s), s)
        return list(seen.values())

    # -- applying ----------------------------------------------------------------------

    def _apply(self) -> None:
        from ..optim.base import Optimizer as RavineOptimizer

        check = self.validate and isinstance(self.optimizer, RavineOptimizer)
        for name, key, index in self.names:
            for j, g in enumerate(self.groups):
                group = self.optimizer.param_groups[g]
                v = self.schedules[name][j].at(self.last_step, self.initial[name][j])
                old = group[key]
                if index is None:
                    group[key] = v
                else:
                    entries = list(old)
                    entries[index] = v
                    group[key] = type(old)(entries) if isinstance(old, tuple) else entries
                if check:
                    try:
                        self.optimizer.validate({key: group[key]})
                    except ValueError as err:
                        group[key] = old
                        raise ValueError(
                            f"Scheduler: the schedule for {name!r} gives {_fmt(v)} at step "
                            f"{self.last_step} (param group {g}), out of range: {err}"
                        ) from None

    def step(self, metric: float | Tensor | None = None) -> None:
        """Advance one step; call after each ``optimizer.step()``. ``metric`` feeds the
        metric-driven schedules (``reduce_on_plateau``), which then require it."""
        leaves = self._metric_leaves()
        if leaves:
            if metric is None:
                raise ValueError(
                    "Scheduler.step: a reduce_on_plateau schedule needs the metric: call "
                    "step(metric=validation_loss)"
                )
            if isinstance(metric, Tensor):
                if metric.numel() != 1:
                    raise ValueError(
                        f"Scheduler.step: metric must be one number, got a tensor of shape "
                        f"{tuple(metric.shape)}"
                    )
                metric = metric.item()
            for s in leaves:
                s.observe(float(metric))
        self.last_step += 1
        self._apply()

    def values(self) -> list[dict[str, Value]]:
        """The current value of each scheduled hyperparameter, one dict per selected group."""
        return [
            {
                name: self._get(self.optimizer.param_groups[g], key, index)
                for name, key, index in self.names
            }
            for g in self.groups
        ]

    # -- checkpointing -----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The step, the initial values and the state of stateful schedules."""
        return {
            "last_step": self.last_step,
            "groups": list(self.groups),
            "initial": {k: [_snapshot(v) for v in vs] for k, vs in self.initial.items()},
            "schedules": {k: [s.state_dict() for s in vs] for k, vs in self.schedules.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` and re-apply the values for the restored step."""
        if set(state["schedules"]) != set(self.schedules):
            raise ValueError(
                f"Scheduler.load_state_dict: the saved state schedules "
                f"{sorted(state['schedules'])}, this scheduler {sorted(self.schedules)}"
            )
        if list(state["groups"]) != self.groups:
            raise ValueError(
                f"Scheduler.load_state_dict: saved for param groups {state['groups']}, "
                f"this scheduler drives {self.groups}"
            )
        self.last_step = int(state["last_step"])
        self.initial = {k: [_snapshot(v) for v in vs] for k, vs in state["initial"].items()}
        for k, vs in self.schedules.items():
            for s, st in zip(vs, state["schedules"][k], strict=True):
                s.load_state_dict(st)
        self._apply()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v[0]!r}" for k, v in self.schedules.items())
        step = getattr(self, "last_step", None)
        return f"Scheduler({type(self.optimizer).__name__}, {{{inner}}}, step={step})"


def _snapshot(v: Any) -> Any:
    return v.detach().clone() if isinstance(v, Tensor) else v


# --------------------------------------------------------------------------- parsing

NAMES: dict[str, Callable[..., Schedule]] = {
    "constant": constant,
    "step_decay": step_decay,
    "multi_step": multi_step,
    "exponential": exponential,
    "inverse_time": inverse_time,
    "cosine": cosine,
    "polynomial": polynomial,
    "linear": linear,
    "warmup": warmup,
    "one_cycle": one_cycle,
    "cyclic": cyclic,
    "reduce_on_plateau": reduce_on_plateau,
}
"""Schedule names for :func:`parse` (``join`` is written with ``>``)."""

ALIASES: dict[str, str] = {
    "const": "constant",
    "step": "step_decay",
    "multistep": "multi_step",
    "exp": "exponential",
    "invtime": "inverse_time",
    "inverse": "inverse_time",
    "cos": "cosine",
    "poly": "polynomial",
    "onecycle": "one_cycle",
    "1cycle": "one_cycle",
    "clr": "cyclic",
    "plateau": "reduce_on_plateau",
}

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _value(token: str) -> Any:
    low = token.lower()
    if low in ("none", "init"):
        return None
    if low in ("true", "false"):
        return low == "true"
    if "," in token:
        return tuple(_value(t) for t in token.split(",") if t.strip())
    if _NUMBER.match(token):
        if re.match(r"^[+-]?\d+$", token):
            return int(token)
        return float(token)
    return token


def _grammar() -> str:
    names = ", ".join(NAMES)
    return (
        "grammar: NAME[:ARG...][>NAME[:ARG...]...], ARG a value or key=value, e.g. "
        f"'cosine:1000', 'linear:0.5:0.99:200', 'warmup:100>cosine:900'; names: {names}"
    )


def usage(name: str) -> str:
    """The string form of schedule ``name``, e.g. ``cosine:TOTAL[:FINAL][:init=VALUE]``."""
    fn = NAMES[ALIASES.get(name, name)]
    out = ALIASES.get(name, name)
    for prm in inspect.signature(fn).parameters.values():
        if prm.name == "then":  # written as 'warmup:STEPS>SPEC'
            continue
        if prm.kind is inspect.Parameter.KEYWORD_ONLY:
            out += f"[:{prm.name}=VALUE]"
        elif prm.default is inspect.Parameter.empty:
            out += f":{prm.name.upper()}"
        else:
            out += f"[:{prm.name.upper()}]"
    return out


def _part(spec: str, text: str) -> tuple[Schedule, int | None]:
    head, _, length = text.partition("@")
    tokens = [t.strip() for t in head.split(":")]
    name = tokens[0].lower()
    name = ALIASES.get(name, name)
    if not name:
        raise ValueError(f"schedule {spec!r}: empty schedule name; {_grammar()}")
    if name not in NAMES:
        raise ValueError(f"schedule {spec!r}: unknown schedule {tokens[0]!r}; {_grammar()}")
    fn = NAMES[name]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for tok in tokens[1:]:
        if not tok:
            raise ValueError(f"schedule {spec!r}: empty argument in {text!r}; {_grammar()}")
        key, eq, val = tok.partition("=")
        if eq:
            if kwargs.get(key.strip()) is not None:
                raise ValueError(f"schedule {spec!r}: {key.strip()} given twice")
            kwargs[key.strip()] = _value(val.strip())
        elif kwargs:
            raise ValueError(
                f"schedule {spec!r}: positional argument {tok!r} after a keyword argument"
            )
        else:
            args.append(_value(tok))
    try:
        inspect.signature(fn).bind(*args, **kwargs)
    except TypeError as err:
        raise ValueError(f"schedule {spec!r}: {err}; write it as {usage(name)}") from None
    try:
        sched = fn(*args, **kwargs)
    except (ValueError, TypeError) as err:
        raise ValueError(f"schedule {spec!r}: {err}") from None
    n = None
    if length:
        try:
            n = _steps(f"schedule {spec!r}", "length after '@'", _value(length.strip()))
        except ValueError as err:
            raise ValueError(str(err)) from None
    return sched, n


def parse(spec: str) -> Schedule:
    """A schedule from its string form (the CLI's ``--lr-schedule``, ``--momentum-schedule``).

    Grammar::

        SPEC  := PART ('>' PART)*
        PART  := NAME (':' ARG)* ['@' STEPS]
        ARG   := VALUE | KEY '=' VALUE          as the Python function takes them
        VALUE := int | float | int,int,... | none | true | false | word

    Names (aliases in brackets): constant [const], step_decay [step], multi_step
    [multistep], exponential [exp], inverse_time [invtime, inverse], cosine [cos],
    polynomial [poly], linear, warmup, one_cycle [onecycle, 1cycle], cyclic [clr],
    reduce_on_plateau [plateau].

    ``A>B`` runs ``A`` for its length (``@STEPS``, or the ``steps``/``total`` it was given),
    then ``B`` from its own step 0 (:func:`join`); ``warmup:N>B`` warms up towards ``B``.

    >>> parse("cosine:1000")                  # cosine(1000), relative to the initial value
    >>> parse("linear:0.5:0.99:200")          # momentum 0.5 -> 0.99 over 200 steps
    >>> parse("multistep:30,80:0.1")          # x0.1 at steps 30 and 80
    >>> parse("warmup:500>cosine:9500:final=1e-5")
    >>> parse("exp:0.99@100>constant:0.3")    # exponential for 100 steps, then 0.3

    Malformed specs raise ValueError naming the spec, the fault and the grammar.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"schedule spec must be a non-empty string, got {spec!r}; {_grammar()}")
    parts = [_part(spec, p.strip()) for p in spec.split(">")]
    # Fold warm-ups into the schedule that follows them.
    folded: list[tuple[Schedule, int | None]] = []
    for sched, n in reversed(parts):
        if folded and isinstance(sched, _Warmup) and sched.then is None and n is None:
            then, rest = folded.pop()
            span = rest if rest is not None else then.length
            merged = _Warmup(sched.steps, then, sched.start)
            folded.append((merged, None if span is None else sched.steps + span))
        else:
            folded.append((sched, n))
    folded.reverse()
    if len(folded) == 1:
        return folded[0][0]
    boundaries, position = [], 0
    for k, (sched, n) in enumerate(folded[:-1]):
        span = n if n is not None else sched.length
        if span is None:
            raise ValueError(
                f"schedule {spec!r}: part {k + 1} ({sched!r}) has no natural end; write "
                f"it as NAME:...@STEPS before '>'"
            )
        position += span
        boundaries.append(position)
    return join([s for s, _ in folded], boundaries)
