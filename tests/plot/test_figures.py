"""Every race figure renders to a file that opens, with the right size."""

from __future__ import annotations

import math

import pytest
from PIL import Image

from ravine import plot
from ravine.race import race


@pytest.mark.parametrize("draw", list(plot.FIGURES))
def test_static_figures_render(result, tmp_path, draw):
    fig = plot.FIGURES[draw](result)
    assert plot.FIGURES[draw] is getattr(plot, f"{draw}_figure")
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "illustrates" in texts and "steps" in texts  # settings and the note
    w, h = fig.get_size_inches() * fig.dpi
    path = plot.save(fig, tmp_path / "fig.png")
    with Image.open(path) as img:
        assert img.size == (round(w), round(h))


def test_figures_handle_divergence_and_no_minimum(tmp_path):
    r = race("saddle", ["sgd", "adam"], lrs=[0.1, 0.5], steps=40)
    assert any(math.isnan(v) for v in r["sgd"].positions.flatten().tolist())
    for draw in (plot.contour_figure, plot.loss_figure, plot.sensitivity_figure):
        plot.save(draw(r), tmp_path / "x.png")


def _luminance(rgba) -> float:
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("draw", [plot.contour_figure, plot.loss_figure])
def test_an_lr_grid_colours_learning_rates_along_a_ramp(draw):
    """Several learning rates: each lr its colour, brighter as lr grows (a sequential ramp,
    labelled by a colour bar); each optimizer its line style."""
    from matplotlib.colors import to_rgba

    lrs = [1e-3, 1e-2, 1e-1]
    r = race("beale", ["sgd", "adam"], lrs=lrs, starts=[1.0, 1.4], steps=10)
    fig = draw(r)
    ax, bar = fig.axes
    assert bar.get_ylabel() == "learning rate"
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
    assert len(lines) == 2 * len(lrs)  # one trajectory per optimizer and lr
    for k in range(2):  # sgd, then adam
        mine = lines[k * len(lrs) : (k + 1) * len(lrs)]
        assert len({ln.get_linestyle() for ln in mine}) == 1
        light = [_luminance(to_rgba(ln.get_color())) for ln in mine]
        assert light == sorted(light) and len(set(light)) == len(lrs)  # distinct, monotone
    assert lines[0].get_linestyle() != lines[len(lrs)].get_linestyle()
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"sgd", "adam"}


def test_one_lr_per_optimizer_keeps_each_optimizer_s_colour():
    """Each optimizer at its own single learning rate (a landscape's suggestions): no ramp,
    every optimizer in its race colour, one line style."""
    from matplotlib.colors import to_hex

    from ravine.plot.style import colors_for

    r = race("beale", {"sgd": {"lr": 1e-3}, "adam": {"lr": 1e-1}}, starts=[1.0, 1.4], steps=10)
    fig = plot.contour_figure(r)
    assert len(fig.axes) == 1  # no colour bar
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 2]
    expected = colors_for([("sgd", "sgd"), ("adam", "adam")])
    assert [to_hex(ln.get_color()) for ln in lines] == [
        to_hex(expected["sgd"]),
        to_hex(expected["adam"]),
    ]


def test_sensitivity_shows_every_optimizer_s_divergence_and_escapes():
    """On the saddle, sgd and momentum diverge at lr 2 (the same lr): both rows of x
    markers are visible, at different heights; escapes have a marker of their own."""
    r = race("saddle", ["sgd", "adam", "momentum"], lrs=[0.01, 0.1, 0.5, 2.0], steps=40)
    outcomes = {label: run.outcome_names() for label, run in r.runs.items()}
    assert outcomes["sgd"][-1] == outcomes["momentum"][-1] == "diverged"
    ax = plot.sensitivity_figure(r).axes[0]
    drawn = [ln for ln in ax.get_lines() if len(ln.get_xdata())]
    crosses = [ln for ln in drawn if ln.get_marker() == "x"]
    escapes = [ln for ln in drawn if ln.get_marker() == "v"]
    assert len(crosses) == 2  # one set per optimizer that diverged
    assert crosses[0].get_color() != crosses[1].get_color()
    assert crosses[0].get_ydata()[0] != crosses[1].get_ydata()[0]  # not hiding each other
    assert len(escapes) == 3 and len({ln.get_ydata()[0] for ln in escapes}) == 3
    legend = {t.get_text() for t in ax.get_legend().get_texts()}
    assert {"diverged", "escaped"} <= legend
