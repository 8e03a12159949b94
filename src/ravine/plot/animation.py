"""The animated race: every optimizer's path growing on the contour plot, as GIF or MP4.

Frames are drawn with Agg and written with imageio (GIF, through Pillow) or with the
ffmpeg binary bundled in the ``imageio-ffmpeg`` wheel (MP4); no system ffmpeg is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..progress import Progress
from ..race import RaceResult
from .data import loss_gaps
from .layers import alpha_for, caption, draw_landscape, draw_starts, race_colors
from .style import atomic_path, quantize_exact, styled

__all__ = ["SUFFIXES", "animate", "animation_figure", "bundled_ffmpeg", "race_frames"]

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
    loss_panel: bool = False,
    progress: Callable[[float], Any] | None = None,
) -> list[np.ndarray]:
    """RGB frames (``uint8 [H, W, 3]``) of the race, paths growing step by step; with
    ``loss_panel`` a panel of the loss against step, growing with them, under the contours.
    ``progress`` is called with 1 after each frame.

    The frames are rendered by Agg whatever matplotlib backend is in use."""
    fig, ax, loss_ax = animation_figure(
        result, size=size, dpi=dpi, title=title, loss_panel=loss_panel
    )
    paths = _paths(ax, result)
    curves = _loss_curves(loss_ax, result) if loss_ax is not None else []
    draw_starts(ax, result, legend=False)
    ax.legend(loc="upper left", ncol=2)
    counter = ax.text(
        0.99, 0.01, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=9, color="black"
    )
    caption(fig, result)
    steps = frame_steps(result.steps, frames)
    return _blit(fig, paths, curves, counter, steps, progress)


def animation_figure(
    result: RaceResult,
    *,
    size: tuple[float, float] = (6.4, 5.6),
    dpi: int = 80,
    title: str | None = None,
    loss_panel: bool = False,
):
    """The animation's Agg figure with the landscape's contours drawn: ``(figure, contour
    axes, loss axes or None)``; the loss axes (with ``loss_panel``) sit under the contours."""
    landscape = result.landscape
    if landscape.dim != 2:
        raise ValueError(
            f"an animated race needs a 2-D landscape; {landscape.name} has dim={landscape.dim}"
        )
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if loss_panel:
        size = (size[0], size[1] * 1.4)
    fig = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(fig)
    loss_ax = None
    if loss_panel:
        ax, loss_ax = fig.subplots(2, 1, height_ratios=(2.6, 1))
        fig.subplots_adjust(left=0.12, right=0.97, top=0.94, bottom=0.16, hspace=0.3)
        loss_ax.set_xlim(0, result.steps)
        loss_ax.set_xlabel("step")
    else:
        ax = fig.subplots()
        fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.2)
    draw_landscape(ax, landscape)
    ax.set_title(title or f"{landscape.name}", loc="left")
    return fig, ax, loss_ax


def _loss_curves(ax, result: RaceResult) -> list[tuple[np.ndarray, Any]]:
    """An empty loss line per trajectory with the losses it will show; the axes' limits set
    for the whole race (the gap above f* on a log axis where the landscape knows f*)."""
    colors = race_colors(result)
    gaps = loss_gaps(result)
    log = result.landscape.global_minimum is not None
    curves, seen = [], []
    for label, gap in gaps.items():
        rows = gap.reshape(-1, result.steps + 1)
        rows = rows.clamp_min(1e-16) if log else rows
        for row in rows:
            (line,) = ax.plot([], [], color=colors[label], lw=1.2, alpha=alpha_for(len(rows)))
            curves.append((row.numpy(), line))
            seen.append(row[row.isfinite()])
    finite = torch.cat(seen) if seen else torch.ones(1)
    low, high = (float(finite.min()), float(finite.max())) if finite.numel() else (1.0, 1.0)
    if log:
        ax.set_yscale("log")
        low, high = low / 2, high * 2
    else:
        pad = 0.05 * (high - low) or 1.0
        low, high = low - pad, high + pad
    ax.set_ylim(low, high)
    ax.set_ylabel("f - f*" if log else "f")
    return curves


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


def _blit(fig, paths, curves, counter, steps: list[int], progress) -> list[np.ndarray]:
    """One RGB frame per step in ``steps``. Blitting: the contours, legend and captions are
    rendered once as a background; each frame restores it and draws only the moving artists
    (paths, heads, loss curves, step counter)."""
    moving = [a for _, line, head in paths for a in (line, head)]
    moving += [line for _, line in curves] + [counter]
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
        for losses, line in curves:
            line.set_data(np.arange(k + 1), losses[: k + 1])
        counter.set_text(f"step {k}")
        for a in moving:
            a.axes.draw_artist(a)
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
        if progress is not None:
            progress(1)
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
    loss_panel: bool = False,
) -> Path:
    """Write the animated race to ``path``: ``.gif`` (Pillow) or ``.mp4`` (bundled ffmpeg),
    with a loss-against-step panel under the contours if ``loss_panel``; the rendering
    shows its progress (:class:`ravine.progress.Progress`: a bar on a terminal)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"animation path must end in .gif or .mp4, got {path.name!r}")
    exe = bundled_ffmpeg() if suffix == ".mp4" else None
    count = len(frame_steps(result.steps, frames))
    with Progress(total=count, description=f"rendering {path.name}", unit="frames") as bar:
        images = race_frames(
            result,
            frames=frames,
            size=size,
            dpi=dpi,
            title=title,
            loss_panel=loss_panel,
            progress=bar.update,
        )
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
