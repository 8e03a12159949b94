"""Figures of a study: training curves of every trial (faint) and of each optimizer's best
setting (bold, with seed bands), against epochs and wall-clock seconds; final validation
metric against learning rate; an optimizer-by-lr heat map whose colours follow the metric's
direction; and the performance profile. Each function returns a matplotlib Figure in
ravine's look, each optimizer in the colour it has in race figures, and, given ``path``, also
writes it there (format from the suffix: .png, .svg, .pdf; see
:func:`ravine.plot.style.save`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .style import colors_for, pyplot, save, styled

__all__ = ["curves_figure", "heatmap_figure", "profile_figure", "sensitivity_figure"]

CURVE_PANELS = (
    ("train_loss", "training loss", True),
    ("train_metric", "training {metric}", False),
    ("val_metric", "validation {metric}", False),
)


def _colors(results, labels: list[str]) -> dict[str, str]:
    """Each optimizer label's colour, the one it has in race figures: its own if the label
    is a registered optimizer name, else its optimizer's (see :func:`.style.colors_for`)."""
    names: dict[str, str] = {}
    for t in results.trials:
        names.setdefault(t.optimizer, t.config.optimizer)
    return colors_for((label, names.get(label, label)) for label in labels)


def _better(results, problem: str) -> str:
    return "higher" if results.hib(problem) else "lower"


def _finish(fig, path: str | Path | None):
    """Lay out ``fig``, write it to ``path`` if given, and return it (still open)."""
    fig.tight_layout()
    if path is not None:
        save(fig, path, close=False)
    return fig


def _best_band(ax, c: dict[str, Any], color: str, label: str) -> None:
    """The best setting's mean over seeds (bold) with a band from the lowest to the highest."""
    n = len(c["epochs"])
    cols = []
    for i in range(n):
        vals = [
            float(v[i])
            for v in c["per_seed"].values()
            if i < len(v) and v[i] is not None and math.isfinite(float(v[i]))
        ]
        cols.append(vals)
    x = [c["epochs"][i] for i in range(n) if cols[i]]
    mean = [sum(v) / len(v) for v in cols if v]
    ax.plot(x, mean, color=color, label=label, lw=1.8, zorder=3)
    lo, hi = [min(v) for v in cols if v], [max(v) for v in cols if v]
    ax.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0, zorder=2)


def _faint(ax, results, problem: str, opt: str, column: str, color: str, x: str) -> None:
    """Every trial of ``opt`` (all settings and seeds) as a thin faint line."""
    from ..study.summary import trial_curves

    for xs, ys in trial_curves(results, problem, opt, column, x):
        ax.plot(xs, ys, color=color, lw=0.6, alpha=0.25, zorder=1, gid="trial")


@styled
def curves_figure(results, problem: str, metric: str = "accuracy", path: str | Path | None = None):
    """Loss, training metric and validation metric against epoch, and validation metric
    against wall-clock seconds. Every trial is a thin faint line in its optimizer's colour;
    each optimizer's best setting is bold: the mean over seeds with a band from the lowest to
    the highest seed (against seconds, each of its seeds bold, as seeds' clocks differ)."""
    from ..study.summary import curves

    plt = pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    optimizers = results.optimizers(problem)
    colors = _colors(results, optimizers)
    for ax, (column, title, logy) in zip(axes, CURVE_PANELS, strict=False):
        for opt in optimizers:
            _faint(ax, results, problem, opt, column, colors[opt], "epoch")
            c = curves(results, problem, opt, column)
            if c is not None and c["epochs"]:
                label = f"{opt} ({c['label']}, {len(c['per_seed'])} seeds)"
                _best_band(ax, c, colors[opt], label)
        ax.set_title(title.format(metric=metric))
        ax.set_xlabel("epoch")
        if logy:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    _wall_clock(axes[3], results, problem, metric, colors)
    axes[0].legend(fontsize=7, loc="best")
    fig.suptitle(
        f"{problem}: every trial (faint) and each optimizer's best setting (bold; band: "
        "min-max over seeds)"
    )
    return _finish(fig, path)


def _wall_clock(ax, results, problem: str, metric: str, colors: dict[str, str]) -> None:
    """Validation metric against the seconds since each trial started."""
    from ..study.summary import best_settings

    for opt in results.optimizers(problem):
        _faint(ax, results, problem, opt, "val_metric", colors[opt], "wall_time")
        best = best_settings(results, problem, opt)
        for t in best["trials"] if best else []:
            rows = [r for r in results.rows(t) if math.isfinite(float(r.val_metric))]
            ax.plot([r.wall_time for r in rows], [r.val_metric for r in rows], color=colors[opt])
    ax.set_title(f"validation {metric} against time")
    ax.set_xlabel("wall-clock seconds")
    ax.grid(alpha=0.3)


@styled
def sensitivity_figure(
    results,
    problem: str,
    metric: str = "accuracy",
    path: str | Path | None = None,
    sampled: bool = False,
):
    """Final validation metric against learning rate per optimizer (mean over seeds, error
    bars one standard deviation); a learning rate at which a seed diverged is marked x.
    ``sampled``: the learning rates were drawn by random search, so they are points, not a
    grid joined by lines."""
    from ..study.summary import sensitivity

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    rows = sensitivity(results, problem, "lr")
    optimizers = list(dict.fromkeys(r["optimizer"] for r in rows))
    colors = _colors(results, optimizers)
    for opt in optimizers:
        rs = [r for r in rows if r["optimizer"] == opt and isinstance(r["lr"], int | float)]
        ok = [r for r in rs if not math.isnan(r["val_metric_mean"])]
        ax.errorbar(
            [r["lr"] for r in ok],
            [r["val_metric_mean"] for r in ok],
            yerr=[r["val_metric_std"] for r in ok],
            color=colors[opt],
            marker="o",
            ms=4,
            capsize=2,
            ls="none" if sampled else "-",
            label=opt,
        )
        bad = [r for r in rs if r["diverged"]]
        if bad:
            ax.scatter(
                [r["lr"] for r in bad],
                [0.0] * len(bad),
                marker="x",
                color=colors[opt],
                transform=ax.get_xaxis_transform(),
                clip_on=False,
            )
    ax.set_xscale("log")
    ax.set_xlabel("learning rate (sampled)" if sampled else "learning rate")
    ax.set_ylabel(f"final validation {metric} ({_better(results, problem)} is better)")
    ax.set_title(f"{problem}: learning-rate sensitivity (x: diverged)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _finish(fig, path)


@styled
def heatmap_figure(results, problem: str, metric: str = "accuracy", path: str | Path | None = None):
    """Optimizer by learning rate: final validation metric (mean over seeds, best over the
    other hyperparameters); blank where an optimizer was not run at that lr or diverged."""
    from ..study.summary import sensitivity

    plt = pyplot()
    import numpy as np

    rows = [r for r in sensitivity(results, problem, "lr") if isinstance(r["lr"], int | float)]
    optimizers = list(dict.fromkeys(r["optimizer"] for r in rows))
    lrs = sorted({float(r["lr"]) for r in rows})
    grid = np.full((len(optimizers), len(lrs)), np.nan)
    for r in rows:
        grid[optimizers.index(r["optimizer"]), lrs.index(float(r["lr"]))] = r["val_metric_mean"]
    fig, ax = plt.subplots(figsize=(max(5, 0.7 * len(lrs) + 2), 0.55 * len(optimizers) + 1.8))
    # the same colour means as good whichever way the metric points: yellow is best
    cmap = "viridis" if results.hib(problem) else "viridis_r"
    im = ax.imshow(np.ma.masked_invalid(grid), aspect="auto", cmap=cmap)
    ax.set_xticks(range(len(lrs)), [f"{v:.2g}" for v in lrs], rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(optimizers)), optimizers)
    for i in range(len(optimizers)):
        for j in range(len(lrs)):
            if not math.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    ax.set_xlabel("learning rate")
    fig.colorbar(
        im, ax=ax, label=f"final validation {metric} ({_better(results, problem)} is better)"
    )
    ax.set_title(f"{problem}: optimizer x learning rate")
    return _finish(fig, path)


@styled
def profile_figure(profile: dict[str, Any], path: str | Path | None = None):
    """Performance profiles rho_o(tau) against tau (see
    :func:`ravine.study.summary.performance_profile`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = colors_for((opt, opt) for opt in profile["profiles"])
    for opt, rho in profile["profiles"].items():
        ax.step(profile["taus"], rho, where="post", label=opt, lw=1.6, color=colors[opt])
    ax.set_xlabel("tau (steps to target / best steps to target)")
    ax.set_ylabel("fraction of problems within tau")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlim(profile["taus"][0], profile["taus"][-1])
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"performance profile over {len(profile['ratios'])} problems")
    return _finish(fig, path)
