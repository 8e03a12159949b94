"""Figures of schedules: each hyperparameter's value against the step."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..schedules import Schedule, parse
from .style import pyplot, save, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def schedule_values(schedule: Schedule, steps: int, initial: Any = 1.0) -> list[list[float]]:
    """The values of ``schedule`` at steps ``0..steps``, one list per trial (tensor values
    with a leading trial axis give one curve per trial)."""
    rows: list[list[float]] = []
    for t in range(steps + 1):
        v = schedule(t, initial)
        flat = v.detach().reshape(-1).tolist() if isinstance(v, torch.Tensor) else [float(v)]
        rows.append(flat)
    width = max(len(r) for r in rows)
    return [[r[i] if len(r) == width else r[0] for r in rows] for i in range(width)]


@styled
def plot_schedule(
    schedules: Mapping[str, Schedule | str],
    steps: int,
    out: str | Path | None = None,
    *,
    initial: Mapping[str, Any] | None = None,
    log: bool = False,
) -> Figure:
    """One panel per hyperparameter, its value against the step ``0..steps``.

    ``schedules`` maps a name (``"lr"``, ``"momentum"``, ...) to a :class:`Schedule` or a
    spec string for :func:`ravine.schedules.parse`. Relative schedules are drawn for the
    initial value in ``initial[name]`` (default 1, i.e. as multipliers, and labelled so).
    ``log`` puts the values on a log scale. Saves to ``out`` (PNG, SVG, PDF by suffix) when
    given; returns the matplotlib Figure.
    """
    plt = pyplot()
    if not isinstance(schedules, Mapping) or not schedules:
        raise ValueError("plot_schedule: schedules must be a non-empty mapping name -> schedule")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps <= 0:
        raise ValueError(f"plot_schedule: invalid steps={steps!r}; allowed: a positive integer")
    initial = dict(initial or {})
    n = len(schedules)
    fig, axes = plt.subplots(n, 1, figsize=(7, 2.4 * n + 0.4), sharex=True, squeeze=False)
    xs = list(range(steps + 1))
    for ax, (name, sched) in zip(axes[:, 0], schedules.items(), strict=True):
        s = parse(sched) if isinstance(sched, str) else sched
        if not isinstance(s, Schedule):
            raise ValueError(f"plot_schedule: {name!r} is {sched!r}, not a Schedule or spec")
        start = initial.get(name, 1.0)
        curves = schedule_values(s, steps, start)
        for i, ys in enumerate(curves):
            ax.plot(xs, ys, lw=1.6, label=f"trial {i}" if len(curves) > 1 else None)
        if s.relative and name not in initial:
            ax.set_ylabel(f"{name}\n(x initial value)")
        else:
            ax.set_ylabel(name)
        if log:
            ax.set_yscale("log")
        ax.set_title(repr(s), fontsize=8, loc="left")
        ax.grid(alpha=0.3)
        if len(curves) > 1:
            ax.legend(fontsize=7)
    axes[-1, 0].set_xlabel("step")
    fig.tight_layout()
    if out is not None:
        save(fig, out, close=False)
    return fig
