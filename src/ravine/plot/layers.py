"""The pieces every race figure draws: the landscape's contours with its minima and saddles,
the start points, each run's colour and line opacity, and the caption of settings."""

from __future__ import annotations

import math
import textwrap

from ..landscapes import Landscape
from ..race import RaceResult
from .data import Grid, surface_grid
from .style import NOTE, colors_for

__all__ = [
    "LrRamp",
    "alpha_for",
    "caption",
    "draw_landscape",
    "draw_points",
    "draw_starts",
    "lr_ramp",
    "race_colors",
]

#: Line styles that tell optimizers apart where colour tells learning rates apart.
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)))


def caption(fig, result: RaceResult) -> None:
    """The race settings and :data:`NOTE` in small print along the bottom of ``fig``."""
    # about 17 characters of 7.5-point text per inch of figure width
    width = int(fig.get_figwidth() * 17)
    text = "\n".join(textwrap.wrap(result.settings(), width)) + "\n" + NOTE
    fig.text(0.01, 0.005, text, fontsize=7.5, color="#444444", va="bottom", ha="left")


def race_colors(result: RaceResult) -> dict[str, str]:
    """The colour of each run of ``result`` (see :func:`ravine.plot.style.colors_for`)."""
    return colors_for((label, run.optimizer) for label, run in result.runs.items())


class LrRamp:
    """Colours of learning rates on a sequential colour ramp over log lr, for races over
    several learning rates: the lowest lr is darkest; :meth:`colorbar` labels the ramp.
    Optimizers then differ by line style (:meth:`style`)."""

    def __init__(self, result: RaceResult, low: float, high: float, cmap: str = "viridis"):
        import matplotlib
        import matplotlib.colors as mcolors
        import numpy as np

        self.norm = mcolors.LogNorm(vmin=low, vmax=high)
        full = matplotlib.colormaps[cmap]  # without its palest end, faint on the contours
        self.cmap = mcolors.ListedColormap(full(np.linspace(0.0, 0.88, 256)), name=cmap)
        self.styles = {
            label: LINESTYLES[k % len(LINESTYLES)] for k, label in enumerate(result.runs)
        }

    def color(self, lr: float) -> tuple[float, float, float, float]:
        return self.cmap(float(self.norm(lr)))

    def style(self, label: str):
        return self.styles[label]

    def colorbar(self, fig, ax):
        import matplotlib.cm as cm

        fig.subplots_adjust(right=min(fig.subplotpars.right, 0.88))  # room for its labels
        mappable = cm.ScalarMappable(norm=self.norm, cmap=self.cmap)
        bar = fig.colorbar(mappable, ax=ax, pad=0.02, fraction=0.05)
        bar.set_label("learning rate")
        return bar


def lr_ramp(result: RaceResult) -> LrRamp | None:
    """The colour ramp of ``result``'s learning rates when some optimizer ran at several (an
    lr grid), else None: then each optimizer, at its one learning rate (the same or each its
    own), has its own colour (:func:`race_colors`)."""
    if all(len(run.coords["lr"].tolist()) < 2 for run in result.runs.values()):
        return None
    lrs = sorted({float(v) for run in result.runs.values() for v in run.coords["lr"].tolist()})
    positive = [v for v in lrs if v > 0]
    if len(positive) < 2:
        return None
    return LrRamp(result, positive[0], positive[-1])


def alpha_for(count: int) -> float:
    """Line opacity for ``count`` overlaid trajectories of one run: fainter as they grow."""
    return max(0.15, min(0.95, 3.0 / math.sqrt(max(count, 1))))


def draw_landscape(ax, landscape: Landscape, grid: Grid | None = None, markers: bool = True):
    """Filled contours of the landscape with its minima (stars) and saddles (crosses)."""
    import matplotlib.colors as mcolors

    grid = grid or surface_grid(landscape)
    X, Y, Z = grid.X.numpy(), grid.Y.numpy(), grid.Z.numpy()
    levels = grid.levels.numpy()
    style = {"cmap": "Blues_r", "alpha": 0.55}
    lines = {"colors": "#5a6b7a", "linewidths": 0.4, "alpha": 0.6}
    if grid.log:
        # contour the gap above the global minimum on geometric levels
        best = landscape.global_minimum
        base = best.value if best is not None else float(Z.min())
        gap_levels = levels - base
        gap = (Z - base).clip(min=gap_levels[0])
        norm = mcolors.LogNorm(vmin=gap_levels[0], vmax=gap_levels[-1])
        ax.contourf(X, Y, gap, levels=gap_levels, norm=norm, **style)
        ax.contour(X, Y, gap, levels=gap_levels, **lines)
    else:
        ax.contourf(X, Y, Z, levels=levels, **style)
        ax.contour(X, Y, Z, levels=levels, **lines)
    if markers:
        draw_points(ax, landscape)
    (x0, x1), (y0, y1) = landscape.domain[:2]
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x" if landscape.dim == 2 else "x[0]")
    ax.set_ylabel("y" if landscape.dim == 2 else "x[1]")
    ax.set_aspect("auto")
    return grid


def draw_points(ax, landscape: Landscape) -> None:
    """The known minima (stars, the global one larger) and saddles (crosses)."""
    marked = {"color": "white", "mec": "black", "mew": 0.8, "zorder": 5, "ls": "none"}
    for k, p in enumerate(landscape.minima):
        ax.plot(
            *p.location[:2],
            marker="*",
            ms=15 if k == 0 else 11,
            label="minimum" if k == 0 else None,
            **marked,
        )
    for k, p in enumerate(landscape.saddles):
        ax.plot(*p.location[:2], marker="X", ms=9, label="saddle" if k == 0 else None, **marked)


def draw_starts(ax, result: RaceResult, *, legend: bool = True) -> None:
    """The start points (white circles); ``legend`` adds one "start" entry."""
    for s in result.starts:
        ax.plot(
            float(s[0]),
            float(s[1]),
            marker="o",
            ms=8,
            color="white",
            mec="black",
            mew=1.2,
            zorder=6,
            ls="none",
        )
    if legend:
        ax.plot([], [], marker="o", ms=8, color="white", mec="black", ls="none", label="start")
