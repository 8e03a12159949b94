"""Static figures of a race: contour, 3-D surface, coordinates, loss curves, lr sensitivity.

Compute, then draw: :mod:`.data` holds the numbers behind the figures; each ``*_figure``
function here draws them and returns a matplotlib ``Figure`` in ravine's look;
:func:`ravine.plot.style.save` writes any figure to a file.
"""

from __future__ import annotations

import math
import textwrap

import torch
from torch import Tensor

from ..race import RaceResult
from .data import loss_gaps, sensitivity, surface_grid
from .layers import alpha_for, caption, draw_landscape, draw_starts, lr_ramp, race_colors
from .style import pyplot, styled

__all__ = [
    "FIGURES",
    "contour_figure",
    "coordinates_figure",
    "loss_figure",
    "sensitivity_figure",
    "surface_figure",
]


@styled
def contour_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 6.4)):
    """Contours of the landscape with every trajectory, its start and end, minima and saddles."""
    plt = pyplot()
    landscape = result.landscape
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.17)
    draw_landscape(ax, landscape)
    colors, ramp = race_colors(result), lr_ramp(result)
    for label, run in result.runs.items():
        trajs = list(run.trajectories())
        alpha = alpha_for(len(trajs))
        for k, (where, pos) in enumerate(trajs):
            p = pos[:, :2].numpy()
            color = ramp.color(where["lr"]) if ramp else colors[label]
            ax.plot(
                p[:, 0],
                p[:, 1],
                color=color,
                ls=ramp.style(label) if ramp else "-",
                lw=1.6,
                alpha=alpha,
                label=None if ramp or k else label,
                zorder=3,
            )
            good = p[~torch.isnan(pos[:, 0]).numpy()]
            if len(good):
                ax.plot(
                    *good[-1],
                    marker="o",
                    ms=4.5,
                    color=color,
                    mec="black",
                    mew=0.5,
                    zorder=4,
                    alpha=min(1.0, alpha + 0.2),
                )
    draw_starts(ax, result)
    _ramp_key(fig, ax, result, ramp)
    ax.legend(loc="best", ncol=2)
    default = textwrap.fill(f"{landscape.name}: {landscape.description}", 78)
    ax.set_title(title or default, loc="left")
    caption(fig, result)
    return fig


@styled
def surface_figure(result: RaceResult, *, title: str | None = None, size=(7.6, 6.0)):
    """The landscape as a 3-D surface with the paths drawn on it (height = loss)."""
    plt = pyplot()
    landscape = result.landscape
    grid = surface_grid(landscape, n=80)
    best = landscape.global_minimum
    floor = best.value if best is not None else float(grid.Z.min())

    def height(z: Tensor) -> Tensor:
        return torch.log10((z - floor).clamp_min(1e-6) + 1e-6) if grid.log else z

    fig = plt.figure(figsize=size)
    ax = fig.add_subplot(projection="3d", computed_zorder=False)
    fig.subplots_adjust(left=0.0, right=1.0, top=0.95, bottom=0.12)
    Zs = height(grid.Z)
    ax.plot_surface(
        grid.X.numpy(),
        grid.Y.numpy(),
        Zs.numpy(),
        cmap="Blues_r",
        alpha=0.6,
        linewidth=0,
        antialiased=True,
        rstride=1,
        cstride=1,
        zorder=1,
    )
    colors = race_colors(result)
    (x0, x1), (y0, y1) = landscape.domain[:2]
    for label, run in result.runs.items():
        for k, (_, pos) in enumerate(run.trajectories()):
            inside = (pos[:, 0] >= x0) & (pos[:, 0] <= x1) & (pos[:, 1] >= y0) & (pos[:, 1] <= y1)
            p = torch.where(inside[:, None], pos, math.nan)
            z = height(landscape.loss(p.nan_to_num(0.0))).where(inside, math.nan)
            ax.plot(
                p[:, 0].numpy(),
                p[:, 1].numpy(),
                z.numpy(),
                color=colors[label],
                lw=2,
                label=label if k == 0 else None,
                zorder=5,
            )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_zlabel("log10(f - f*)" if grid.log else "f")
    ax.legend(loc="upper left")
    ax.set_title(title or f"{landscape.name} as a surface", loc="left")
    caption(fig, result)
    return fig


@styled
def coordinates_figure(result: RaceResult, *, title: str | None = None, max_columns: int = 4):
    """x(t) and y(t) against step, one column per learning rate (side by side)."""
    plt = pyplot()
    landscape = result.landscape
    lrs = sorted({lr for run in result.runs.values() for lr in run.lrs})
    if len(lrs) > max_columns:
        keep = torch.linspace(0, len(lrs) - 1, max_columns).round().long().tolist()
        lrs = [lrs[i] for i in keep]
    dims = min(landscape.dim, 2)
    fig, axes = plt.subplots(
        dims, len(lrs), figsize=(3.4 * len(lrs) + 0.6, 2.6 * dims + 1.0), sharex=True, squeeze=False
    )
    fig.subplots_adjust(left=0.08, right=0.98, top=0.86, bottom=0.22, hspace=0.15, wspace=0.28)
    colors = race_colors(result)
    best = landscape.global_minimum
    for c, lr in enumerate(lrs):
        for label, run in result.runs.items():
            if lr not in run.lrs:
                continue
            i = run.lrs.index(lr)
            pos = run.positions[i].reshape(-1, result.steps + 1, landscape.dim)
            for k in range(pos.shape[0]):
                for d in range(dims):
                    axes[d, c].plot(
                        pos[k, :, d].numpy(),
                        color=colors[label],
                        lw=1.4,
                        alpha=alpha_for(pos.shape[0]),
                        label=label if (k == 0 and d == 0) else None,
                    )
        for d in range(dims):
            if best is not None:
                axes[d, c].axhline(best.location[d], color="black", lw=0.8, ls=":")
            axes[d, c].set_ylim(*landscape.domain[d])
            if c == 0:
                axes[d, c].set_ylabel(["x(t)", "y(t)"][d])
        axes[0, c].set_title(f"lr = {lr:g}")
        axes[-1, c].set_xlabel("step")
    axes[0, 0].legend(loc="best")
    fig.suptitle(title or f"Coordinates against step on {landscape.name}", x=0.01, ha="left")
    caption(fig, result)
    return fig


@styled
def loss_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 4.8)):
    """Loss gap f(x_k) - f* against step on a log axis (raw loss where f* is unknown)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.24)
    colors, ramp = race_colors(result), lr_ramp(result)
    gaps = loss_gaps(result)
    has_min = result.landscape.global_minimum is not None
    for label, gap in gaps.items():
        rows = gap.reshape(-1, result.steps + 1)
        lrs = result.runs[label].coords["lr"].tolist()
        for k in range(rows.shape[0]):
            y = rows[k].clamp_min(1e-16) if has_min else rows[k]
            lr = lrs[k * len(lrs) // rows.shape[0]]  # lr is the grid's first axis
            ax.plot(
                y.numpy(),
                color=ramp.color(lr) if ramp else colors[label],
                ls=ramp.style(label) if ramp else "-",
                lw=1.4,
                alpha=alpha_for(rows.shape[0]),
                label=None if ramp or k else label,
            )
    _ramp_key(fig, ax, result, ramp)
    if has_min:
        ax.set_yscale("log")
        ax.set_ylabel("f(x) - f*")
    else:
        ax.set_ylabel("f(x)")
    ax.set_xlabel("step")
    ax.legend(loc="best", ncol=2)
    ax.set_title(title or f"Loss against step on {result.landscape.name}", loc="left")
    caption(fig, result)
    return fig


@styled
def sensitivity_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 4.8)):
    """Final loss gap against learning rate per optimizer: the lr-sensitivity curve."""
    plt = pyplot()
    data = sensitivity(result)
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.24)
    colors = race_colors(result)
    finite = torch.cat([v[v.isfinite()] for v in data.high.values()] or [torch.ones(1)])
    top = min(float(finite.max()) * 10, 1e300) if finite.numel() else 1.0
    has_min = result.landscape.global_minimum is not None
    for label in data.lrs:
        lr = data.lrs[label].numpy()
        center = data.center[label].clamp_min(1e-16) if has_min else data.center[label]
        ok = center.isfinite()
        ax.plot(
            lr,
            torch.where(ok, center, math.nan).numpy(),
            color=colors[label],
            lw=1.8,
            marker="o",
            ms=3,
            label=label,
        )
        lo = data.low[label].clamp(1e-16 if has_min else -top, top)
        hi = data.high[label].clamp(1e-16 if has_min else -top, top)
        ax.fill_between(lr, lo.numpy(), hi.numpy(), color=colors[label], alpha=0.08, lw=0)
    _failure_rows(ax, data, colors, top, 1e-16 if has_min else -top)
    ax.set_xscale("log")
    ax.set_yscale("log" if has_min else "symlog")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(
        f"f - f* after {result.steps} steps" if has_min else f"f after {result.steps} steps"
    )
    ax.legend(loc="best", ncol=2, fontsize=8)
    ax.set_title(title or f"Learning-rate sensitivity on {result.landscape.name}", loc="left")
    caption(fig, result)
    return fig


def _failure_rows(ax, data, colors: dict[str, str], top: float, bottom: float) -> None:
    """Per optimizer, a row of markers at the learning rates where most runs diverged (x,
    above the curves) or escaped downhill (v, below them): optimizer k's row is 3^k times
    further out, so no optimizer's markers hide another's."""
    shown = set()
    for k, label in enumerate(data.lrs):
        lr = data.lrs[label].numpy()
        rows = (
            ("diverged", "x", top * 3.0**k),
            ("escaped", "v", bottom * 3.0 ** (-k if bottom > 0 else k)),
        )
        for kind, marker, y in rows:
            hit = (getattr(data, kind)[label] > 0.5).numpy()
            if hit.any():
                ax.plot(
                    lr[hit],
                    [y] * int(hit.sum()),
                    ls="none",
                    marker=marker,
                    color=colors[label],
                    ms=6,
                )
                shown.add((kind, marker))
    for kind, marker in sorted(shown):
        ax.plot([], [], ls="none", marker=marker, color="#555555", label=kind)


def _ramp_key(fig, ax, result: RaceResult, ramp) -> None:
    """With a learning-rate ramp: its colour bar, and a legend entry per optimizer showing
    its line style (in black, colour being the lr's)."""
    if ramp is None:
        return
    ramp.colorbar(fig, ax)
    for label in result.runs:
        ax.plot([], [], color="black", ls=ramp.style(label), lw=1.4, label=label)


#: Each race figure by name (the ``--figure`` choices of ``ravine race``).
FIGURES = {
    "contour": contour_figure,
    "surface": surface_figure,
    "coordinates": coordinates_figure,
    "loss": loss_figure,
    "sensitivity": sensitivity_figure,
}
