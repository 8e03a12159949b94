"""A checked race plan run one optimizer at a time, each run sent as JSON as soon as it is
done, and stopped between steps when a newer request makes it stale.

:func:`run_json` is the whole race as one JSON object (tests compare it with
:func:`ravine.race` called directly); :func:`run_entries` yields the same runs one by one
for the streaming endpoint. Positions and losses that are not finite (after a divergence)
become ``null``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from .. import race as races
from ..race import OUTCOMES, RacePlan, RaceResult, Run

__all__ = ["Cancelled", "Ticket", "Tickets", "header", "run_entries", "run_json", "run_to_json"]


class Cancelled(Exception):
    """Raised inside a race whose ticket was cancelled: it stops at its next step."""


class Ticket:
    """One race's right to run; :meth:`cancel` stops it at its next step. A newer race from
    the same page takes the page's ticket (:class:`Tickets`), cancelling the older one."""

    def __init__(self) -> None:
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def progress(self, _done: int) -> None:
        """The race's progress callback: raise :class:`Cancelled` once cancelled."""
        if self._cancelled.is_set():
            raise Cancelled


class Tickets:
    """The current ticket of each page (a client id): taking a new one cancels the old."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[str, Ticket] = {}

    def take(self, client: str) -> Ticket:
        ticket = Ticket()
        with self._lock:
            old = self._current.get(client)
            self._current[client] = ticket
            if len(self._current) > 1000:  # forget the oldest pages
                self._current.pop(next(iter(self._current)))
        if old is not None:
            old.cancel()
        return ticket


def header(plan: RacePlan) -> dict[str, Any]:
    """What the page needs before the first run arrives."""
    return {
        "type": "race",
        "landscape": plan.landscape.settings(),
        "steps": plan.steps,
        "starts": plan.starts.tolist(),
        "labels": plan.labels,
        "outcomes": list(OUTCOMES),
    }


def run_entries(plan: RacePlan, ticket: Ticket | None = None) -> Iterator[dict[str, Any]]:
    """Each optimizer's run as JSON, in the plan's order, computed when asked for (the
    caller stops asking, or cancels ``ticket``, to stop the race)."""
    for entry in plan.entries:
        one = replace(plan, entries=(entry,))
        result = races.run(one, progress=None if ticket is None else ticket.progress)
        yield run_to_json(result, result.runs[entry.label])


def run_json(plan: RacePlan) -> dict[str, Any]:
    """The whole race as one JSON object: the header and every run."""
    return {**header(plan), "runs": list(run_entries(plan))}


def run_to_json(result: RaceResult, run: Run) -> dict[str, Any]:
    """One optimizer's trajectories: ``paths[lr][start]`` lists ``[x, y]`` per step (the
    only seed), ``losses[lr][start]`` the loss per step; ``outcome``, ``arrival`` (the
    step it stayed at its minimum from, -1 if none) and ``diverged`` (-1 if it did not)
    per ``[lr][start]``. Other varying hyperparameters are not sent (the page varies lr)."""
    n_lr, n_start = len(run.lrs), len(result.starts)
    steps = result.steps
    positions = run.positions.reshape(n_lr, n_start, steps + 1, 2)
    losses = run.losses.reshape(n_lr, n_start, steps + 1)
    codes = run.outcome.reshape(n_lr, n_start)
    return {
        "type": "run",
        "label": run.label,
        "optimizer": run.optimizer,
        "hyperparameters": {k: _plain(v) for k, v in run.hyperparameters.items()},
        "lrs": [_finite(v) for v in run.lrs],
        "paths": _nested(_rounded(positions).tolist()),
        "losses": _nested(_rounded(losses).tolist()),
        "outcome": [[OUTCOMES[int(c)] for c in row] for row in codes.tolist()],
        "arrival": run.arrival_step.reshape(n_lr, n_start).tolist(),
        "diverged": run.diverged_step.reshape(n_lr, n_start).tolist(),
    }


def _rounded(values: Tensor, digits: int = 7) -> Tensor:
    """``values`` to ``digits`` significant digits, so that JSON writes them short (a path
    is drawn, never computed on, in the page)."""
    magnitude = values.abs().clamp_min(1e-300).log10().floor()
    scale = 10.0 ** (digits - 1 - magnitude)
    rounded = (values * scale).round() / scale
    return torch.where(torch.isfinite(rounded), rounded, values)


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    return _finite(values)


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return _finite(value)
    return value if isinstance(value, int | str | bool) or value is None else str(value)
