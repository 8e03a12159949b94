"""The animated race: GIF and MP4 files with the requested frames, paths growing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ravine import landscapes, plot
from ravine.race import race


def test_gif_has_the_requested_frames(result, tmp_path):
    path = plot.animate(result, tmp_path / "race.gif", frames=8, size=(4.0, 3.5), dpi=50)
    with Image.open(path) as img:
        assert img.n_frames == 8
        assert img.size == (200, 175)
    assert [p.name for p in tmp_path.iterdir()] == ["race.gif"]  # no temporary file left


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


def test_animation_refuses_other_dimensions_and_formats(result, tmp_path):
    with pytest.raises(ValueError, match="2-D landscape"):
        plot.race_frames(race(landscapes.get("rosenbrock", dim=3), ["sgd"], lrs=1e-4, steps=2))
    with pytest.raises(ValueError, match=r"\.gif or \.mp4"):
        plot.animate(result, tmp_path / "x.avi")


def test_a_loss_panel_is_a_second_axes_under_the_contours(result, tmp_path):
    fig, ax, loss_ax = plot.animation_figure(result, size=(4.0, 3.5), dpi=50)
    assert fig.axes == [ax] and loss_ax is None
    fig, ax, loss_ax = plot.animation_figure(result, size=(4.0, 3.5), dpi=50, loss_panel=True)
    assert fig.axes == [ax, loss_ax]
    assert loss_ax.get_position().y1 < ax.get_position().y0  # under the contours
    assert loss_ax.get_xlabel() == "step" and loss_ax.get_xlim() == (0, result.steps)
    path = plot.animate(
        result, tmp_path / "race.gif", frames=3, size=(4.0, 3.5), dpi=50, loss_panel=True
    )
    with Image.open(path) as img:
        assert img.n_frames == 3 and img.size == (200, 245)  # 1.4 times as tall


def test_rendering_reports_each_frame_to_a_progress_bar(result):
    import io

    from ravine.progress import Progress

    out = io.StringIO()
    with Progress(total=4, unit="frames", stream=out, terminal=True, min_interval=0) as bar:
        plot.race_frames(result, frames=4, size=(4.0, 3.5), dpi=50, progress=bar.update)
    assert bar.completed == 4 and "4/4 frames" in out.getvalue()
