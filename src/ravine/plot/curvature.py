"""Figures about curvature and second-order methods, drawn from plain data (lists, arrays).

Each function writes one figure (PNG, SVG or PDF by the path's suffix, see
:func:`ravine.plot.style.save`) and returns its path. matplotlib is imported inside the
functions so that importing ravine stays fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from .style import colors_for, pyplot, save, styled

__all__ = [
    "cost_vs_parameters",
    "eigenvalue_spectrum",
    "iterations_vs_condition",
    "sharpness_by_optimizer",
    "training_curves",
]


def _axes(size: tuple[float, float]):
    return pyplot().subplots(figsize=size)


def _finish(fig, ax, path, xlabel: str | None, ylabel: str, title: str, legend=True) -> Path:
    """Label the axes, title and legend (if asked), lay out and write the figure."""
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend()
    fig.tight_layout()
    return save(fig, path)


@styled
def eigenvalue_spectrum(
    densities: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    *,
    title: str = "Hessian eigenvalue density",
) -> Path:
    """One curve per label: ``densities[label] = (t, phi)`` (from
    :func:`ravine.curvature.eigenvalue_density`), on a log density axis."""
    fig, ax = _axes((6.4, 4))
    for label, (t, phi) in densities.items():
        ax.semilogy(list(t), [max(float(v), 1e-12) for v in phi], label=label)
    ax.set_ylim(bottom=1e-6)
    return _finish(fig, ax, path, "eigenvalue", "density (log scale)", title)


@styled
def sharpness_by_optimizer(
    values: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    ylabel: str = "top Hessian eigenvalue",
    title: str = "Sharpness of the minima reached",
) -> Path:
    """One column of points (one per seed) and its mean per optimizer, in its colour."""
    fig, ax = _axes((5, 4))
    colors = colors_for((label, label) for label in values)
    for i, (label, vs) in enumerate(values.items()):
        vs = [float(v) for v in vs]
        ax.scatter([i] * len(vs), vs, alpha=0.7, color=colors[label])
        ax.hlines(sum(vs) / len(vs), i - 0.25, i + 0.25, color="k")
    ax.set_xticks(range(len(values)), list(values))
    ax.set_yscale("log")
    return _finish(fig, ax, path, None, ylabel, title, legend=False)


@styled
def iterations_vs_condition(
    kappas: Sequence[float],
    iterations: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    title: str = "Iterations to converge against condition number",
) -> Path:
    """Log-log plot of iterations against the condition number, one line per method."""
    fig, ax = _axes((6, 4))
    for label, its in iterations.items():
        ax.loglog(list(kappas), list(its), "o-", label=label)
    return _finish(fig, ax, path, "condition number", "iterations", title)


@styled
def cost_vs_parameters(
    ns: Sequence[int],
    series: Mapping[str, Sequence[float]],
    path: str | Path,
    *,
    ylabel: str = "seconds",
    reference_slopes: Mapping[str, float] | None = None,
    title: str = "Cost of an exact Newton step",
) -> Path:
    """Log-log cost against parameter count; ``reference_slopes`` draws N^k guide lines
    through each series' last point (label -> k)."""
    fig, ax = _axes((6, 4))
    for label, ys in series.items():
        ax.loglog(list(ns), list(ys), "o-", label=label)
        if reference_slopes and label in reference_slopes:
            k = reference_slopes[label]
            n1, y1 = ns[-1], ys[-1]
            ax.loglog(list(ns), [y1 * (n / n1) ** k for n in ns], "k:", lw=1)
    ax.set_xticks(list(ns), [str(n) for n in ns])
    ax.minorticks_off()
    return _finish(fig, ax, path, "parameters N", ylabel, title)


@styled
def training_curves(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    path: str | Path,
    *,
    xlabel: str = "step",
    ylabel: str = "training loss",
    title: str = "",
) -> Path:
    """``curves[label] = (x, y)`` on a log y axis."""
    fig, ax = _axes((6, 4))
    for label, (x, y) in curves.items():
        ax.semilogy(list(x), list(y), label=label)
    return _finish(fig, ax, path, xlabel, ylabel, title)
