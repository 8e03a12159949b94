"""What a running study shows: a bar of trials finished of all, with the running trial's epoch
and the time left (on a terminal), and one line per finished trial, batch and notice.

The work is counted in trials: finished trials in the store (by any runner sharing it), plus
the finished share of the task running in this process (a batch of T trials at epoch e of E
counts T e / E trials), so the time left (see :mod:`ravine.progress`) follows the trials as
they go and counts every runner's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TextIO

from ..progress import Progress, format_seconds
from .records import EpochEvent, TrialConfig, TrialResult

__all__ = ["StudyProgress"]


def _val(v: float) -> str:
    return f"val {v:.4f}" if isinstance(v, float) and math.isfinite(v) else ""


class StudyProgress:
    """Progress of a study on ``stream`` (default standard error)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        terminal: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.bar = Progress(stream=stream, terminal=terminal, clock=clock, unit="trials")
        self.done = 0
        self.running = 0.0  # trials' worth of the task running in this process
        self.said: set[str] = set()  # reasons already given why a batch ran one at a time
        self._started = False

    def counts(self, done: int, total: int) -> None:
        """Trials finished in the store, and all the study will have."""
        if not self._started:  # work done before this run is not counted in the rate
            self.bar.restart(float(done))
            self._started = True
        self.done = done
        self.bar.update(completed=done + self.running, total=total)

    def epoch(self, config: TrialConfig, event: EpochEvent, trials: int = 1) -> None:
        """The task running here (``trials`` trials, ``config`` the first) finished an epoch."""
        self.running = trials * min(event.step / max(event.steps, 1), 1.0)
        v = _val(event.val_metric)
        self.bar.update(
            completed=self.done + self.running,
            description=config.describe()
            + (f" (+{trials - 1} batched)" if trials > 1 else "")
            + f" epoch {event.epoch}/{event.epochs}"
            + (f" {v}" if v else ""),
        )

    def trial(self, config: TrialConfig, result: TrialResult, done: int, total: int) -> None:
        """A trial finished: its result is in the store, which now holds ``done`` finished
        trials of ``total`` (its task no longer counts as running)."""
        self.running = 0.0
        self.counts(done, total)
        v = _val(result.val_metric)
        self.bar.line(
            f"[{self.done}/{self.bar.total or 0:g} trials] {config.describe()}: {result.status}"
            + (f" ({result.reason})" if result.reason else "")
            + (f", {v}" if v else "")
            + f" in {result.wall_time or 0:.1f}s | elapsed "
            f"{format_seconds(self.bar.elapsed())}, ETA {format_seconds(self.bar.eta())}"
        )

    def message(self, text: str) -> None:
        self.bar.line(text)

    def batched(self, configs: list[TrialConfig]) -> None:
        c = configs[0]
        self.message(
            f"batched: {len(configs)} trials of {c.problem.label} {c.optimizer_label} "
            "step together as one computation (--no-batch runs them one at a time)"
        )

    def alone(self, why: str | None) -> None:
        """Say once per reason why trials run one at a time instead of batched."""
        if why and why not in self.said:
            self.said.add(why)
            self.message(f"trials run one at a time: {why}")

    def close(self) -> None:
        self.bar.close()
