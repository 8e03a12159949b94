"""The animated race: every optimizer's path growing on the contour plot, as GIF or MP4.

Frames are drawn with Agg and written with imageio (GIF, through Pillow) or with the
ffmpeg binary bundled in the ``imageio-ffmpeg`` wheel (MP4); no system ffmpeg is used.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..race import RaceResult
from .layers import alpha_for, caption, draw_landscape, draw_starts, race_colors
from .style import atomic_path, quantize_exact, styled

__all__ = ["SUFFIXES", "animate", "bundled_ffmpeg", "race_frames"]

#: The animation formats :func:`animate` writes, by suffix.
SUFFIXES = (".gif", ".mp4")


def bundled_ffmpeg() -> str:
    """Path of the ffmpeg executable shipped inside the imageio-ffmpeg package."""
    import imageio_ffmpeg

    package = Path(imageio_ffmpeg.__file__).parent / "binaries"
    found = sorted(p for p in package.glob("ffmpeg*") if p.is_file())
    if not found:
        raise RuntimeError(
            "MP4 output needs the ffmpeg binary bundled with imageio-ffmpeg, and this install "
            "has none; reinstall imageio-ffmpeg from a wheel, or write a GIF instead"
        )
    return str(found[0])


def frame_steps(steps: int, frames: int) -> list[int]:
    """The step shown in each frame: ``frames`` steps spread from 0 to ``steps``."""
    if frames < 2:
        raise ValueError(f"frames must be >= 2, got {frames}")
    return sorted(set(np.linspace(0, steps, min(frames, steps + 1)).round().astype(int).tolist()))


@styled
def race_frames(
    result: RaceResult,
    *,
    frames: int = 60,
    size: tuple[float, float] = (6.4, 5.6),
    dpi: int = 80,
    title: str | None = None,
) -> list[np.ndarray]:
    """RGB frames (``uint8 [H, W, 3]``) of the race, paths growing step by step.

    The frames are rendered by Agg whatever matplotlib backend is in use."""
    landscape = result.landscape
    if landscape.dim != 2:
        raise ValueError(
            f"an animated race needs a 2-D landscape; {landscape.name} has dim={landscape.dim}"
        )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.2)
    draw_landscape(ax, landscape)
    paths = _paths(ax, result)
    draw_starts(ax, result, legend=False)
    ax.legend(loc="upper left", ncol=2)
    ax.set_title(title or f"{landscape.name}", loc="left")
    counter = ax.text(
        0.99, 0.01, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=9, color="black"
    )
    caption(fig, result)
    return _blit(fig, ax, paths, counter, frame_steps(result.steps, frames))


def _paths(ax, result: RaceResult) -> list[tuple[np.ndarray, Any, Any]]:
    """An empty line and head marker per trajectory, with the positions they will show."""
    colors = race_colors(result)
    paths = []
    for label, run in result.runs.items():
        trajs = [pos for _, pos in run.trajectories()]
        alpha = alpha_for(len(trajs))
        for k, pos in enumerate(trajs):
            (line,) = ax.plot(
                [],
                [],
                color=colors[label],
                lw=1.8,
                alpha=alpha,
                label=label if k == 0 else None,
                zorder=3,
            )
            (head,) = ax.plot(
                [], [], marker="o", ms=6, color=colors[label], mec="black", mew=0.6, zorder=4
            )
            paths.append((pos.numpy(), line, head))
    return paths


def _blit(fig, ax, paths, counter, steps: list[int]) -> list[np.ndarray]:
    """One RGB frame per step in ``steps``. Blitting: the contours, legend and captions are
    rendered once as a background; each frame restores it and draws only the moving artists
    (paths, heads, step counter)."""
    moving = [a for _, line, head in paths for a in (line, head)] + [counter]
    for a in moving:
        a.set_animated(True)
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    out = []
    for k in steps:
        canvas.restore_region(background)
        for pos, line, head in paths:
            line.set_data(pos[: k + 1, 0], pos[: k + 1, 1])
            good = pos[: k + 1][~np.isnan(pos[: k + 1, 0])]
            head.set_data(good[-1:, 0], good[-1:, 1]) if len(good) else head.set_data([], [])
        counter.set_text(f"step {k}")
        for a in moving:
            ax.draw_artist(a)
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return out


def animate(
    result: RaceResult,
    path: str | Path,
    *,
    frames: int = 60,
    fps: int = 15,
    size: tuple[float, float] = (6.4, 5.6),
    dpi: int = 80,
    title: str | None = None,
) -> Path:
    """Write the animated race to ``path``: ``.gif`` (Pillow) or ``.mp4`` (bundled ffmpeg)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"animation path must end in .gif or .mp4, got {path.name!r}")
    exe = bundled_ffmpeg() if suffix == ".mp4" else None
    images = race_frames(result, frames=frames, size=size, dpi=dpi, title=title)
    with atomic_path(path) as tmp:
        if exe is None:
            _write_gif(images, tmp, fps)
        else:
            _write_mp4(images, tmp, fps, exe)
    return path


def _write_gif(images: list[np.ndarray], path: Path, fps: int) -> None:
    """A looping GIF, the optimizer colours kept exactly, the last frame held two seconds."""
    from PIL import Image

    pics = [quantize_exact(Image.fromarray(a), 128) for a in images]
    hold = [int(1000 / fps)] * (len(pics) - 1) + [2000]
    pics[0].save(
        path,
        format="GIF",
        save_all=True,
        append_images=pics[1:],
        duration=hold,
        loop=0,
        optimize=True,
    )


def _write_mp4(images: list[np.ndarray], path: Path, fps: int, exe: str) -> None:
    """An H.264 MP4 through the bundled ffmpeg ``exe``, the last frame held one second."""
    import imageio_ffmpeg

    h, w = images[0].shape[:2]
    h2, w2 = h - h % 2, w - w % 2  # yuv420p needs even sizes
    # imageio-ffmpeg honours IMAGEIO_FFMPEG_EXE: point it at the bundled binary while writing.
    saved = os.environ.get("IMAGEIO_FFMPEG_EXE")
    os.environ["IMAGEIO_FFMPEG_EXE"] = exe
    try:
        writer = imageio_ffmpeg.write_frames(
            str(path),
            (w2, h2),
            fps=fps,
            codec="libx264",
            pix_fmt_out="yuv420p",
            macro_block_size=1,
            quality=7,
            ffmpeg_log_level="error",
        )
        writer.send(None)
        for img in [*images, *[images[-1]] * fps]:
            writer.send(np.ascontiguousarray(img[:h2, :w2]))
        writer.close()
    finally:
        if saved is None:
            del os.environ["IMAGEIO_FFMPEG_EXE"]
        else:
            os.environ["IMAGEIO_FFMPEG_EXE"] = saved
