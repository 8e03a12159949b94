"""Batched trials: trials per second of the sequential runner against T trials as one batch.

For each T, T trials of one optimizer (log-spaced learning rates, one seed each) run two
ways, in the same process, interleaved in rounds:

* ``sequential``  :func:`ravine.study.trial.run_trial` on each config, one after another
  (what ``ravine study run --no-batch`` does); its cost is linear in T, so it runs
  ``min(T, seq_trials)`` trials a round and is scaled to T;
* ``batched``     :func:`ravine.study.batched.run_batch` on the T configs: one computation
  (stacked layers for MLPs, ``torch.func.vmap`` for other models);
* ``vmap``        (MLPs, with ``engines``) the same batch forced through ``vmap``, to
  compare the two ways of stacking a model.

Both record every evaluation row, as a study does. Run by ``benchmarks/batched_trials.py``
and ``ravine bench trials``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from ..study import batched
from ..study.batched import run_batch
from ..study.trial import run_trial

__all__ = ["configs", "measure"]


def configs(problem: str, optimizer: str, T: int, epochs: int, threads: int) -> list[dict]:
    """T trials: learning rates log-spaced over two decades, seed i for trial i."""
    base = 0.1 if optimizer == "sgd" else 1e-3
    return [
        {
            "problem": {"name": problem, "options": {}, "label": problem},
            "optimizer": {"name": optimizer, "label": optimizer},
            "hyperparameters": {"lr": base * 10 ** (i / max(T - 1, 1) - 1.0)},
            "schedules": {},
            "seed": i,
            "budget": {"epochs": epochs},
            "batch_size": 64,
            "eval_every": {"epochs": 1},
            "device": "cpu",
            "save_model": True,
            "threads": threads,
        }
        for i in range(T)
    ]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sequential_rate(cfgs: list[dict], seq_trials: int) -> float:
    part = cfgs[:seq_trials]
    return len(part) / timed(lambda: [run_trial(c) for c in part])


def batched_rate(cfgs: list[dict], force_vmap: bool = False) -> float:
    stacked = batched._stacked_mlp
    if force_vmap:
        batched._stacked_mlp = lambda skeleton: None
    try:
        results: list[dict[str, Any]] = []
        seconds = timed(lambda: results.extend(run_batch(cfgs)))
    finally:
        batched._stacked_mlp = stacked
    if len(cfgs) > 1 and "batch" not in results[0].environment:
        raise RuntimeError(f"the batch ran one trial at a time: {results[0].environment}")
    return len(cfgs) / seconds


def measure(
    problem: str,
    optimizer: str = "adam",
    T: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64),
    epochs: int = 10,
    rounds: int = 3,
    seq_trials: int = 8,
    threads: int = 1,
    engines: bool = False,
    echo: Callable[[str], object] = print,
) -> list[dict[str, Any]]:
    """Median trials/s per T over the rounds, sequential and batched interleaved; prints a
    line per T through ``echo``."""
    warm = configs(problem, optimizer, 2, 1, threads)
    run_batch(warm)  # load the data, warm the kernels
    run_trial(warm[0])
    mlp = problem in {"digits_mlp", "mnist1d", "moons", "logreg"}
    samples: dict[int, dict[str, list[float]]] = {t: {} for t in T}
    for _ in range(rounds):
        for t in T:
            cfgs = configs(problem, optimizer, t, epochs, threads)
            s = samples[t]
            s.setdefault("sequential", []).append(sequential_rate(cfgs, seq_trials))
            s.setdefault("batched", []).append(batched_rate(cfgs))
            if engines and mlp and t > 1:
                s.setdefault("vmap", []).append(batched_rate(cfgs, force_vmap=True))
    rows = []
    for t, s in samples.items():
        row: dict[str, Any] = {"problem": problem, "T": t}
        for k, v in s.items():
            row[k] = statistics.median(v)
        ratios = [b / q for b, q in zip(s["batched"], s["sequential"], strict=True)]
        row["ratio"] = statistics.median(ratios)
        rows.append(row)
        echo(
            f"{problem:<11} T={t:<3} sequential {row['sequential']:8.1f}/s  "
            f"batched {row['batched']:8.1f}/s"
            + (f"  vmap {row['vmap']:8.1f}/s" if "vmap" in row else "")
            + f"  ratio {row['ratio']:5.1f}x"
        )
    return rows
