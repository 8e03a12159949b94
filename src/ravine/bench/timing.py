"""Interleaved timing: every candidate measured in each round, the order rotated, so that a
noisy shared machine slows all of them alike and ratios taken inside a round stay steady."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Candidate", "interleaved", "machine", "median_range"]


@dataclass
class Candidate:
    """Something to time: ``run`` once per sample, after ``reset`` (untimed)."""

    name: str
    run: Callable[[], object]
    reset: Callable[[], object] = lambda: None
    owner: Any = None  # what ``run`` belongs to (an optimizer), for later inspection
    warmup: float = 0.0  # seconds of the first call (compilation included), measured
    samples: list[list[float]] = field(default_factory=list)  # per round


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(
    candidates: list[Candidate],
    rounds: int,
    per_round: int,
    device: torch.device,
    progress: Callable[[int], object] | None = None,
) -> None:
    """Time each candidate ``per_round`` times in each of ``rounds`` rounds, rotating the
    order every round; the first call of each (its warm-up) is timed apart."""
    for c in candidates:
        c.reset()
        _sync(device)
        start = time.perf_counter()
        c.run()
        _sync(device)
        c.warmup = time.perf_counter() - start
        c.samples = []
    for r in range(rounds):
        order = candidates[r % len(candidates) :] + candidates[: r % len(candidates)]
        for c in order:
            times = []
            for _ in range(per_round):
                c.reset()
                _sync(device)
                start = time.perf_counter()
                c.run()
                _sync(device)
                times.append(time.perf_counter() - start)
            c.samples.append(times)
        if progress is not None:
            progress(r + 1)


def round_times(c: Candidate) -> list[float]:
    """The candidate's time in each round: the median of that round's samples."""
    return [statistics.median(s) for s in c.samples]


def median_range(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def machine(device: torch.device) -> str:
    """One line naming what the figures were measured on."""
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{device.type} ({name}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), load average {load}"
    )
