"""Every figure type renders to a file that opens, with the right size and frame count."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from ravine import landscapes, plot
from ravine.race import race


@pytest.fixture(scope="module")
def result():
    return race("beale", ["sgd", "momentum", "adam"], lrs=[1e-3, 1e-2], steps=30)


def test_colours_are_fixed_per_optimizer_and_distinct():
    assert len(set(plot.COLORS.values())) == len(plot.COLORS)
    a = plot.colors_for([("adam", "adam"), ("sgd", "sgd")])
    b = plot.colors_for([("sgd", "sgd"), ("x", "momentum"), ("adam", "adam")])
    assert a["adam"] == b["adam"] == plot.COLORS["adam"]
    assert b["x"] == plot.COLORS["momentum"]
    c = plot.colors_for([("nag", "nesterov"), ("nag2", "nesterov")])
    assert c["nag"] == plot.COLORS["nesterov"] and c["nag2"] != c["nag"]


def test_surface_grid_values():
    f = landscapes.get("booth")
    g = plot.surface_grid(f, n=11, levels=7)
    assert g.X.shape == g.Z.shape == (11, 11)
    i, j = 3, 8
    x, y = float(g.X[i, j]), float(g.Y[i, j])
    assert float(g.Z[i, j]) == pytest.approx((x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2)
    assert g.log and len(g.levels) == 7 and bool((g.levels.diff() > 0).all())
    r = plot.surface_grid(landscapes.get("rosenbrock", dim=4), n=5)  # other coords at 1
    assert float(r.Z.min()) >= 0


def test_loss_gaps_and_sensitivity_data(result):
    gaps = plot.loss_gaps(result)
    torch.testing.assert_close(gaps["adam"], result["adam"].losses)  # f* = 0 for Beale
    s = plot.sensitivity(result)
    assert s.lrs["sgd"].tolist() == [1e-3, 1e-2]
    torch.testing.assert_close(s.center["sgd"], result["sgd"].losses[:, 0, 0, -1])
    assert s.diverged["sgd"].tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "draw",
    [
        "contour_figure",
        "surface_figure",
        "coordinates_figure",
        "loss_figure",
        "sensitivity_figure",
    ],
)
def test_static_figures_render(result, tmp_path, draw):
    fig = getattr(plot, draw)(result)
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "illustrates" in texts and "steps" in texts  # settings and the note
    w, h = fig.get_size_inches() * fig.dpi
    path = plot.save(fig, tmp_path / "fig.png")
    with Image.open(path) as img:
        assert img.size == (round(w), round(h))


def test_svg_and_palette_png(result, tmp_path):
    path = plot.save(plot.contour_figure(result), tmp_path / "fig.svg")
    assert path.read_text().lstrip().startswith("<?xml")
    path = plot.save(plot.loss_figure(result), tmp_path / "fig.png", palette=True)
    with Image.open(path) as img:
        assert img.mode == "P" and img.size == (720, 480)
        pal = img.getpalette()
        entries = {
            "#{:02x}{:02x}{:02x}".format(*tuple(pal[i : i + 3])) for i in range(0, len(pal), 3)
        }
        # optimizer colours survive quantization exactly
        assert {plot.COLORS[n] for n in ("sgd", "momentum", "adam")} <= entries


def test_gif_has_the_requested_frames(result, tmp_path):
    path = plot.animate(result, tmp_path / "race.gif", frames=8, size=(4.0, 3.5), dpi=50)
    with Image.open(path) as img:
        assert img.n_frames == 8
        assert img.size == (200, 175)


def test_mp4_from_the_bundled_ffmpeg(result, tmp_path):
    import imageio_ffmpeg

    path = plot.animate(result, tmp_path / "race.mp4", frames=6, fps=5, size=(4.0, 3.5), dpi=50)
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    count = sum(1 for _ in reader)
    assert tuple(meta["size"]) == (200, 174)  # height trimmed to even for yuv420p
    assert count == 6 + 5  # the frames, then the last held for one second
    assert "imageio_ffmpeg" in plot.bundled_ffmpeg()


def test_frames_show_the_paths_growing(result):
    frames = plot.race_frames(result, frames=4, size=(4.0, 3.5), dpi=50)
    assert len(frames) == 4 and frames[0].dtype == np.uint8
    assert not np.array_equal(frames[0], frames[-1])


def test_html_page_embeds_everything(result, tmp_path):
    path = plot.write_html(result, tmp_path / "race.html", frames=4)
    text = path.read_text()
    assert text.count("data:image/gif;base64") == 1
    assert text.count("data:image/png;base64") == 3  # contour, loss, sensitivity
    assert "illustrates" in text and "<table>" in text


def test_figures_handle_divergence_and_no_minimum(tmp_path):
    r = race("saddle", ["sgd", "adam"], lrs=[0.1, 0.5], steps=40)
    assert any(math.isnan(v) for v in r["sgd"].positions.flatten().tolist())
    for draw in (plot.contour_figure, plot.loss_figure, plot.sensitivity_figure):
        plot.save(draw(r), tmp_path / "x.png")
    with pytest.raises(ValueError, match="2-D landscape"):
        plot.race_frames(race(landscapes.get("rosenbrock", dim=3), ["sgd"], lrs=1e-4, steps=2))
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        plot.animate(r, tmp_path / "x.avi")
