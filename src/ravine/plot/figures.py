"""Static figures of a race: contour, 3-D surface, coordinates, loss curves, lr sensitivity.

Compute, then draw: :func:`surface_grid`, :func:`loss_gaps` and :func:`sensitivity` return
the plain data behind the figures (tests check them); the ``*_figure`` functions draw it and
return a matplotlib ``Figure``; :func:`save` writes any figure to a file.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ..landscapes import Landscape
from ..race import RaceResult
from .style import NOTE, colors_for, setup

__all__ = [
    "Grid",
    "Sensitivity",
    "contour_figure",
    "coordinates_figure",
    "loss_figure",
    "loss_gaps",
    "save",
    "sensitivity",
    "sensitivity_figure",
    "surface_figure",
    "surface_grid",
]


# ------------------------------------------------------------------------------ the data


@dataclass
class Grid:
    """The landscape on a regular grid over its domain (first two coordinates; any further
    coordinates at their global-minimum value or 0). ``Z[i, j] = f(X[i, j], Y[i, j])``;
    ``levels`` are the contour levels (geometric above the minimum for log-scale surfaces)."""

    X: Tensor
    Y: Tensor
    Z: Tensor
    levels: Tensor
    log: bool


def surface_grid(landscape: Landscape, n: int = 200, levels: int = 30) -> Grid:
    """Evaluate ``landscape`` on an ``n`` x ``n`` grid over its domain."""
    if landscape.dim < 2:
        raise ValueError(f"{landscape.name}: a surface needs dim >= 2, got {landscape.dim}")
    (x0, x1), (y0, y1) = landscape.domain[:2]
    xs = torch.linspace(x0, x1, n, dtype=torch.float64)
    ys = torch.linspace(y0, y1, n, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    rest = torch.zeros(landscape.dim - 2, dtype=torch.float64)
    best = landscape.global_minimum
    if best is not None and landscape.dim > 2:
        rest = torch.tensor(best.location[2:], dtype=torch.float64)
    pts = torch.cat([X[..., None], Y[..., None], rest.expand(n, n, -1)], dim=-1)
    with torch.no_grad():
        Z = landscape.loss(pts)
    zmin, zmax = float(Z.min()), float(Z.max())
    if landscape.log_scale:
        floor = best.value if best is not None else zmin
        gap = (Z - floor).clamp_min(0)
        positive = gap[gap > 0]
        lo = float(positive.min()) if positive.numel() else 1e-12
        lo = max(lo, float(gap.max()) * 1e-10, 1e-12)
        lv = floor + torch.logspace(
            math.log10(lo), math.log10(float(gap.max())), levels, dtype=torch.float64
        )
        return Grid(X, Y, Z, lv, True)
    return Grid(X, Y, Z, torch.linspace(zmin, zmax, levels, dtype=torch.float64), False)


def loss_gaps(result: RaceResult) -> dict[str, Tensor]:
    """Per optimizer, f(x_k) - f* (``f*`` the global minimum value; the raw loss where the
    landscape has no minimum), shape ``[*grid, steps + 1]``."""
    best = result.landscape.global_minimum
    floor = best.value if best is not None else 0.0
    return {label: run.losses - floor for label, run in result.runs.items()}


@dataclass
class Sensitivity:
    """Final loss gap against learning rate, per optimizer: over every start and seed, the
    median (``center``, inf when most diverged), the range over the runs that did not
    diverge (``low``..``high``, NaN if none), and the fraction that diverged."""

    lrs: dict[str, Tensor]
    center: dict[str, Tensor]
    low: dict[str, Tensor]
    high: dict[str, Tensor]
    diverged: dict[str, Tensor]


def sensitivity(result: RaceResult) -> Sensitivity:
    """Final loss gap per learning rate (other varying axes are pooled with starts and seeds)."""
    best = result.landscape.global_minimum
    floor = best.value if best is not None else 0.0
    out = Sensitivity({}, {}, {}, {}, {})
    for label, run in result.runs.items():
        final = (run.final_losses() - floor).reshape(len(run.lrs), -1)
        div = (run.diverged_step >= 0).reshape(len(run.lrs), -1)
        out.lrs[label] = run.coords["lr"].clone()
        out.center[label] = final.nanquantile(0.5, dim=1) if final.isfinite().any() else final[:, 0]
        finite = final.isfinite()
        none = ~finite.any(dim=1)
        low = torch.where(finite, final, math.inf).min(dim=1).values
        high = torch.where(finite, final, -math.inf).max(dim=1).values
        out.low[label] = low.masked_fill(none, math.nan)  # range of the runs that finished
        out.high[label] = high.masked_fill(none, math.nan)
        out.diverged[label] = div.double().mean(dim=1)
    return out


# ------------------------------------------------------------------------------ drawing


def _plt():
    setup()
    import matplotlib.pyplot as plt

    return plt


def _caption(fig, result: RaceResult) -> None:
    # about 17 characters of 7.5-point text per inch of figure width
    width = int(fig.get_figwidth() * 17)
    text = "\n".join(textwrap.wrap(result.settings(), width)) + "\n" + NOTE
    fig.text(0.01, 0.005, text, fontsize=7.5, color="#444444", va="bottom", ha="left")


def _colors(result: RaceResult) -> dict[str, str]:
    return colors_for((label, run.optimizer) for label, run in result.runs.items())


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
        for k, p in enumerate(landscape.minima):
            ax.plot(
                *p.location[:2],
                marker="*",
                ms=15 if k == 0 else 11,
                color="white",
                mec="black",
                mew=0.8,
                zorder=5,
                ls="none",
                label="minimum" if k == 0 else None,
            )
        for k, p in enumerate(landscape.saddles):
            ax.plot(
                *p.location[:2],
                marker="X",
                ms=9,
                color="white",
                mec="black",
                mew=0.8,
                zorder=5,
                ls="none",
                label="saddle" if k == 0 else None,
            )
    (x0, x1), (y0, y1) = landscape.domain[:2]
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x" if landscape.dim == 2 else "x[0]")
    ax.set_ylabel("y" if landscape.dim == 2 else "x[1]")
    ax.set_aspect("auto")
    return grid


def _alpha(count: int) -> float:
    return max(0.15, min(0.95, 3.0 / math.sqrt(max(count, 1))))


def contour_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 6.4)):
    """Contours of the landscape with every trajectory, its start and end, minima and saddles."""
    plt = _plt()
    landscape = result.landscape
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.17)
    draw_landscape(ax, landscape)
    colors = _colors(result)
    for label, run in result.runs.items():
        trajs = list(run.trajectories())
        alpha = _alpha(len(trajs))
        for k, (_, pos) in enumerate(trajs):
            p = pos[:, :2].numpy()
            ax.plot(
                p[:, 0],
                p[:, 1],
                color=colors[label],
                lw=1.6,
                alpha=alpha,
                label=label if k == 0 else None,
                zorder=3,
            )
            good = p[~torch.isnan(pos[:, 0]).numpy()]
            if len(good):
                ax.plot(
                    *good[-1],
                    marker="o",
                    ms=4.5,
                    color=colors[label],
                    mec="black",
                    mew=0.5,
                    zorder=4,
                    alpha=min(1.0, alpha + 0.2),
                )
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
    ax.plot([], [], marker="o", ms=8, color="white", mec="black", ls="none", label="start")
    ax.legend(loc="best", ncol=2)
    default = textwrap.fill(f"{landscape.name}: {landscape.description}", 78)
    ax.set_title(title or default, loc="left")
    _caption(fig, result)
    return fig


def surface_figure(result: RaceResult, *, title: str | None = None, size=(7.6, 6.0)):
    """The landscape as a 3-D surface with the paths drawn on it (height = loss)."""
    plt = _plt()
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
    colors = _colors(result)
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
    _caption(fig, result)
    return fig


def coordinates_figure(result: RaceResult, *, title: str | None = None, max_columns: int = 4):
    """x(t) and y(t) against step, one column per learning rate (side by side)."""
    plt = _plt()
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
    colors = _colors(result)
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
                        alpha=_alpha(pos.shape[0]),
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
    _caption(fig, result)
    return fig


def loss_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 4.8)):
    """Loss gap f(x_k) - f* against step on a log axis (raw loss where f* is unknown)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.24)
    colors = _colors(result)
    gaps = loss_gaps(result)
    has_min = result.landscape.global_minimum is not None
    for label, gap in gaps.items():
        rows = gap.reshape(-1, result.steps + 1)
        for k in range(rows.shape[0]):
            y = rows[k].clamp_min(1e-16) if has_min else rows[k]
            ax.plot(
                y.numpy(),
                color=colors[label],
                lw=1.4,
                alpha=_alpha(rows.shape[0]),
                label=label if k == 0 else None,
            )
    if has_min:
        ax.set_yscale("log")
        ax.set_ylabel("f(x) - f*")
    else:
        ax.set_ylabel("f(x)")
    ax.set_xlabel("step")
    ax.legend(loc="best", ncol=2)
    ax.set_title(title or f"Loss against step on {result.landscape.name}", loc="left")
    _caption(fig, result)
    return fig


def sensitivity_figure(result: RaceResult, *, title: str | None = None, size=(7.2, 4.8)):
    """Final loss gap against learning rate per optimizer: the lr-sensitivity curve."""
    plt = _plt()
    data = sensitivity(result)
    fig, ax = plt.subplots(figsize=size)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.24)
    colors = _colors(result)
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
        div = data.diverged[label] > 0.5
        if bool(div.any()):
            ax.plot(
                lr[div.numpy()],
                [top] * int(div.sum()),
                ls="none",
                marker="x",
                color=colors[label],
                ms=6,
            )
    ax.set_xscale("log")
    ax.set_yscale("log" if has_min else "symlog")
    ax.set_xlabel("learning rate")
    ax.set_ylabel(
        f"f - f* after {result.steps} steps" if has_min else f"f after {result.steps} steps"
    )
    ax.legend(loc="best", ncol=2, title="x: diverged", title_fontsize=8)
    ax.set_title(title or f"Learning-rate sensitivity on {result.landscape.name}", loc="left")
    _caption(fig, result)
    return fig


def save(fig: Any, path: str | Path, *, palette: bool = False) -> Path:
    """Write a figure to ``path`` (format from its suffix: png, svg, pdf) and close it.

    ``palette=True`` stores a PNG with a 256-colour palette (about a third of the size;
    used for the figures committed to the docs)."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    if palette and path.suffix.lower() == ".png":
        from PIL import Image

        from .style import quantize_exact

        with Image.open(path) as img:
            rgb = img.convert("RGB")
        quantize_exact(rgb).save(path, optimize=True)
    return path
