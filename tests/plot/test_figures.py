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
