"""Shared by the scripts that measure the classic claims (docs/gallery.md, "The classic
claims, measured"): one trial on a built-in problem through ravine's own trial loop, the
numbers a verdict rests on, and a figure in ravine's look."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ravine.plot.style import colors_for, pyplot, save
from ravine.study import MetricRow, Results, Store, TrialResult, run_study, run_trial


def trial(
    problem: str,
    optimizer: str,
    seed: int,
    *,
    epochs: int | None = None,
    steps: int | None = None,
    batch: int | str = 64,
    every: int | None = None,
    schedules: dict[str, str] | None = None,
    options: dict[str, Any] | None = None,
    save_model: bool = False,
    **hyperparameters: Any,
) -> TrialResult:
    """One trial of ``optimizer`` on the built-in ``problem`` (one thread), evaluated every
    epoch or, with ``steps``, every ``every`` steps (default: 10 times). A diverged trial's
    rows stop where it diverged; a failed trial raises."""
    budget = {"epochs": epochs} if steps is None else {"steps": steps}
    interval = {"epochs": 1} if steps is None else {"steps": every or max(1, steps // 10)}
    config = {
        "problem": {"name": problem, "options": options or {}},
        "optimizer": {"name": optimizer},
        "hyperparameters": hyperparameters,
        "seed": seed,
        "budget": budget,
        "batch_size": batch,
        "eval_every": interval,
        "schedules": schedules or {},
        "save_model": save_model,
        "threads": 1,
    }
    result = run_trial(config)
    if result.status == "failed":
        raise RuntimeError(f"{optimizer} on {problem}: {result.error}")
    return result


def final(result: TrialResult, column: str) -> float:
    """The last recorded value of ``column``; for a trial that diverged (its last row is
    then the last finite one, not a result) inf for a loss and NaN for a metric."""
    if result.status == "diverged":
        return math.inf if column.endswith("loss") else math.nan
    return float(getattr(result.rows[-1], column))


def first_reach(
    rows: Sequence[MetricRow], target: float, column: str = "val_metric", higher: bool = True
) -> int | None:
    """The step of the first row whose ``column`` reaches ``target`` (None: never)."""
    for row in rows:
        value = getattr(row, column)
        if (value >= target) if higher else (value <= target):
            return row.step
    return None


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    values = [float(v) for v in values]
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return statistics.fmean(values), sd


def seed_summary(results: Sequence[TrialResult], target: float) -> str:
    """One table cell group for a setting run on several seeds: final training loss and
    validation accuracy (mean ± spread) and each seed's step reaching ``target`` accuracy."""
    loss = mean_sd([final(r, "train_loss") for r in results])
    acc = mean_sd([final(r, "val_metric") for r in results])
    hits = [first_reach(r.rows, target) for r in results]
    return f"{loss[0]:>9.4f} ± {loss[1]:.4f} {acc[0]:>7.4f} ± {acc[1]:.4f} {hits!s:>16}"


def mean_curve(runs: Sequence[Sequence[MetricRow]], column: str) -> tuple[list, list]:
    """(steps, mean of ``column`` over the runs at each step) for runs evaluated alike."""
    steps = [r.step for r in runs[0]]
    return steps, [
        mean_sd([getattr(rows[i], column) for rows in runs])[0] for i in range(len(steps))
    ]


def figure(panels: int, size: tuple[float, float] = (5.0, 3.8)):
    """A figure of ``panels`` axes side by side, ``size`` each; ravine's look is applied by
    :func:`write`'s caller through ``ravine.plot.style.styled``."""
    fig, axes = pyplot().subplots(1, panels, figsize=(size[0] * panels, size[1]), squeeze=False)
    return fig, list(axes[0])


def colors(labels: Sequence[str], optimizers: Sequence[str] | None = None) -> dict[str, str]:
    """ravine's colour of each label (its optimizer's where the label is not a name)."""
    return colors_for(zip(labels, optimizers or labels, strict=True))


def write(fig, path, title: str | None = None):
    """Lay out, title and write ``fig`` as a small palette PNG; returns the path."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save(fig, path, palette=True)


def study(spec: dict[str, Any], folder) -> tuple[Store, Results]:
    """Run ``spec`` (a study spec as a dict) into a store in ``folder``, quietly; the store
    and its results."""
    path = run_study(spec, Path(folder) / f"{spec['name']}.db", progress=False)
    store = Store(path)
    return store, Results.from_store(store)
