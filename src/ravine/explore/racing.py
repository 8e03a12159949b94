"""A checked race plan streamed as JSON: every optimizer advances together
(:func:`ravine.race.run_stream`), the new steps of all of them are sent after each chunk,
and the race stops at its next chunk (or step) when a newer request makes it stale.

:func:`run_json` is the whole race as one JSON object (tests compare it with
:func:`ravine.race` called directly); :func:`messages` yields the streamed messages after
the :func:`header`: ``chunk`` messages (each optimizer's positions and losses for the steps
new since the last chunk), then one ``run`` message per optimizer with its outcomes. The
chunks concatenated are the race's paths and losses, except after a divergence, where the
race blanks them: a page sets them to ``null`` after each trajectory's ``diverged`` step.
Positions and losses that are not finite become ``null``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from .. import race as races
from ..race import OUTCOMES, RaceChunk, RacePlan, RaceResult, Run

__all__ = [
    "Cancelled",
    "Ticket",
    "Tickets",
    "chunk_json",
    "header",
    "messages",
    "outcomes_json",
    "run_json",
    "run_to_json",
]


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


#: Steps of the first chunk (drawn at once) and of every later one.
FIRST, EVERY = 20, 100


def header(plan: RacePlan) -> dict[str, Any]:
    """What the page needs before the first chunk arrives: the race's settings, and each
    optimizer's label, name and learning rates (its trajectories are ``[lr][start]``)."""
    return {
        "type": "race",
        "landscape": plan.landscape.settings(),
        "steps": plan.steps,
        "starts": plan.starts.tolist(),
        "labels": plan.labels,
        "outcomes": list(OUTCOMES),
        "optimizers": [
            {"label": e.label, "optimizer": e.info.name, "lrs": [_finite(v) for v in e.lrs]}
            for e in plan.entries
        ],
    }


def messages(
    plan: RacePlan, ticket: Ticket | None = None, every: int = EVERY, first: int = FIRST
) -> Iterator[dict[str, Any]]:
    """The race as it runs: a ``chunk`` message after the first ``first`` steps and after
    every ``every`` more, then one ``run`` message per optimizer (:func:`outcomes_json`).
    Computed when asked for: the caller stops asking, or closes this generator, to stop the
    race; a cancelled ``ticket`` ends it at its next step (through the race's progress
    callback) or chunk, whichever comes first."""
    progress = None if ticket is None else ticket.progress
    chunks = races.run_stream(plan, every=every, first=first, progress=progress)
    try:
        for chunk in chunks:
            if ticket is not None and ticket.cancelled:
                return
            yield chunk_json(plan, chunk)
            if chunk.result is not None:
                for label in plan.labels:
                    yield outcomes_json(chunk.result, chunk.result.runs[label])
    except Cancelled:
        return
    finally:
        chunks.close()


def chunk_json(plan: RacePlan, chunk: RaceChunk) -> dict[str, Any]:
    """The steps ``begin..done`` of every optimizer: ``paths[lr][start]`` lists ``[x, y]``
    per step, ``losses[lr][start]`` the loss per step, in the plan's order."""
    runs = []
    for entry in plan.entries:
        n_lr, n_new = len(entry.lrs), chunk.done + 1 - chunk.begin
        positions = chunk.positions[entry.label][..., chunk.begin :, :]
        losses = chunk.losses[entry.label][..., chunk.begin :]
        runs.append(
            {
                "label": entry.label,
                "paths": _nested(_rounded(positions.reshape(n_lr, -1, n_new, 2)).tolist()),
                "losses": _nested(_rounded(losses.reshape(n_lr, -1, n_new)).tolist()),
            }
        )
    return {"type": "chunk", "begin": chunk.begin, "done": chunk.done, "runs": runs}


def run_json(plan: RacePlan) -> dict[str, Any]:
    """The whole race as one JSON object: the header and every run."""
    result = races.run(plan)
    return {**header(plan), "runs": [run_to_json(result, result.runs[k]) for k in plan.labels]}


def outcomes_json(result: RaceResult, run: Run) -> dict[str, Any]:
    """One optimizer's run without its trajectories: ``outcome``, ``arrival`` (the step it
    stayed at its minimum from, -1 if none) and ``diverged`` (-1 if it did not) per
    ``[lr][start]``, with its label, hyperparameters and learning rates."""
    n_lr, n_start = len(run.lrs), len(result.starts)
    codes = run.outcome.reshape(n_lr, n_start)
    return {
        "type": "run",
        "label": run.label,
        "optimizer": run.optimizer,
        "hyperparameters": {k: _plain(v) for k, v in run.hyperparameters.items()},
        "lrs": [_finite(v) for v in run.lrs],
        "outcome": [[OUTCOMES[int(c)] for c in row] for row in codes.tolist()],
        "arrival": run.arrival_step.reshape(n_lr, n_start).tolist(),
        "diverged": run.diverged_step.reshape(n_lr, n_start).tolist(),
    }


def run_to_json(result: RaceResult, run: Run) -> dict[str, Any]:
    """One optimizer's whole run: :func:`outcomes_json` with its trajectories,
    ``paths[lr][start]`` (``[x, y]`` per step, the only seed) and ``losses[lr][start]``.
    Other varying hyperparameters are not sent (the page varies lr)."""
    n_lr, n_start, steps = len(run.lrs), len(result.starts), result.steps
    positions = run.positions.reshape(n_lr, n_start, steps + 1, 2)
    losses = run.losses.reshape(n_lr, n_start, steps + 1)
    return {
        **outcomes_json(result, run),
        "paths": _nested(_rounded(positions).tolist()),
        "losses": _nested(_rounded(losses).tolist()),
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
