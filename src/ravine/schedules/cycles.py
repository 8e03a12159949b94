"""Cyclical schedules: Smith and Topin's 1cycle and Smith's cyclical learning rates. Their
arithmetic mirrors torch's ``OneCycleLR`` and ``CyclicLR`` operation for operation, so the
values agree bit for bit."""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from .base import Pinned, Schedule, or_initial
from .checks import ANY, FLAG, FRACTION, POSITIVE, Number, OneOf, Steps, Value

__all__ = ["cyclic", "one_cycle"]

_PIN = Number(ANY, optional=True)


def _cos_anneal(start: Value, end: Value, pct: float) -> Value:
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _linear_anneal(start: Value, end: Value, pct: float) -> Value:
    return (end - start) * pct + start


class OneCycle(Pinned):
    name = "one_cycle"
    arguments = {
        "total": Steps(),
        "peak": _PIN,
        "start": _PIN,
        "end": _PIN,
        "pct_start": Number(FRACTION, scalar=True),
        "anneal": OneOf(("cos", "linear")),
        "three_phase": FLAG,
        "div": Number(POSITIVE),
        "final_div": Number(POSITIVE),
    }
    shown = ("total", "peak", "start", "end", "pct_start", "anneal", "three_phase")
    pins = ("peak",)
    span = "total"

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        pct, total = self.pct_start, self.total
        first = float(pct * total) - 1
        second = float(2 * pct * total) - 2
        if first <= 0 or (self.three_phase and second >= total - 1):
            raise ValueError(
                f"{self.name}: pct_start={pct:g} with total={total} leaves an empty phase; "
                "raise total or move pct_start towards 0.5"
            )
        if self.three_phase:
            self._phases = [
                (first, "start", "peak"),
                (second, "peak", "start"),
                (total - 1, "start", "end"),
            ]
        else:
            self._phases = [(first, "start", "peak"), (total - 1, "peak", "end")]

    def at(self, t: int, initial: Value) -> Value:
        # The arithmetic mirrors torch.optim.lr_scheduler.OneCycleLR, operation for operation.
        peak = or_initial(self.peak, initial)
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
    return OneCycle(
        total=total,
        peak=peak,
        start=start,
        end=end,
        pct_start=pct_start,
        anneal=anneal,
        three_phase=three_phase,
        div=div,
        final_div=final_div,
    )


class Cyclic(Pinned):
    name = "cyclic"
    arguments = {
        "low": _PIN,
        "high": _PIN,
        "up": Steps(),
        "down": Steps(optional=True),
        "mode": OneOf(("triangular", "triangular2", "exp_range")),
        "gamma": Number(POSITIVE),
    }
    pins = ("low", "high")

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        if self.down is None:
            self.down = self.up
        self._total = float(self.up) + float(self.down)
        self._ratio = float(self.up) / self._total

    def at(self, t: int, initial: Value) -> Value:
        # Mirrors torch.optim.lr_scheduler.CyclicLR, operation for operation.
        low = or_initial(self.low, initial)
        high = or_initial(self.high, initial)
        cycle = math.floor(1 + t / self._total)
        x = 1.0 + t / self._total - cycle
        scale = x / self._ratio if x <= self._ratio else (x - 1) / (self._ratio - 1)
        height = (high - low) * scale
        if self.mode == "triangular":
            return low + height * 1.0
        if self.mode == "triangular2":
            return low + height * (1 / (2.0 ** (cycle - 1)))
        return low + height * self.gamma**t


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
    return Cyclic(low=low, high=high, up=up, down=down, mode=mode, gamma=gamma)
