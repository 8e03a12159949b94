"""The metric-driven schedule: reduce on plateau, the one schedule with state."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Pinned, Schedule, or_initial
from .checks import ANY, NONNEGATIVE, UNIT_INTERVAL, Number, OneOf, Steps, Value

__all__ = ["reduce_on_plateau"]

_STATE = ("best", "bad", "cooling", "reductions")


class Plateau(Pinned):
    name = "reduce_on_plateau"
    arguments = {
        "factor": Number(UNIT_INTERVAL, scalar=True),
        "patience": Steps(allow_zero=True),
        "mode": OneOf(("min", "max")),
        "threshold": Number(NONNEGATIVE, scalar=True),
        "threshold_mode": OneOf(("rel", "abs")),
        "cooldown": Steps(allow_zero=True),
        "min_value": Number(NONNEGATIVE),
        "eps": Number(NONNEGATIVE),
        "init": Number(ANY, optional=True),
    }
    shown = ("factor", "patience", "mode")

    @property
    def needs_metric(self) -> bool:
        return True

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        self.best = math.inf if self.mode == "min" else -math.inf
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
        v = or_initial(self.init, initial)
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
        return {key: getattr(self, key) for key in _STATE}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        for key in _STATE:
            setattr(self, key, state[key])


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
    return Plateau(
        factor=factor,
        patience=patience,
        mode=mode,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        min_value=min_value,
        eps=eps,
        init=init,
    )
