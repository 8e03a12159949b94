"""``ravine race``'s output: the path checked before the race, the figure, animation or
page drawn after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

__all__ = ["SUFFIXES", "check_drawable", "check_output", "draw"]

SUFFIXES = (".png", ".svg", ".pdf", ".gif", ".mp4", ".html")


def check_output(out: str, figure: str, loss_panel: bool = False) -> Path:
    """The ``--out`` path, checked writable and fit for ``--figure`` and ``--loss-panel``."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise click.BadParameter(
            f"{out!r}: the output must end in one of {', '.join(SUFFIXES)}", param_hint="'--out'"
        )
    if suffix in {".gif", ".mp4"} and figure not in {"auto", "contour"}:
        raise click.BadParameter(
            f"--figure {figure} is a still figure; write it to .png, .svg or .pdf",
            param_hint="'--figure'",
        )
    if loss_panel and suffix not in {".gif", ".mp4"}:
        raise click.BadParameter(
            "--loss-panel is for animations; write a .gif or .mp4", param_hint="'--loss-panel'"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise click.BadParameter(
            f"{out!r}: directory {str(parent)!r} does not exist", param_hint="'--out'"
        )
    if path.is_dir():
        raise click.BadParameter(f"{out!r} is a directory", param_hint="'--out'")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise click.BadParameter(
            f"{out!r} is not writable: {err.strerror}", param_hint="'--out'"
        ) from None
    if not existed:
        path.unlink()
    return path


def check_drawable(path: Path, figure: str, land: Any) -> None:
    """Refuse an animation of a landscape that is not 2-D, an MP4 without ffmpeg, and a
    contour or surface of a 1-D landscape."""
    suffix = path.suffix.lower()
    if suffix in {".gif", ".mp4"} and land.dim != 2:
        raise click.BadParameter(
            f"an animation needs a 2-D landscape; {land.name} has dim={land.dim}",
            param_hint="'--out'",
        )
    if suffix == ".mp4":
        from ..plot import bundled_ffmpeg

        try:
            bundled_ffmpeg()
        except RuntimeError as err:
            raise click.ClickException(str(err)) from None
    if figure in {"contour", "surface"} and land.dim < 2:
        raise click.BadParameter(f"{figure} needs dim >= 2", param_hint="'--figure'")


def draw(
    result: Any, path: Path, figure: str, frames: int, several_lrs: bool, loss_panel: bool = False
) -> None:
    """Write the animation (.gif, .mp4), the page (.html) or the still ``figure``."""
    from .. import plot

    suffix = path.suffix.lower()
    if suffix in {".gif", ".mp4"}:
        plot.animate(result, path, frames=frames, loss_panel=loss_panel)
        return
    if suffix == ".html":
        plot.write_html(result, path, frames=min(frames, 60))
        return
    choice = figure
    if choice == "auto":
        dim = result.landscape.dim
        choice = "sensitivity" if several_lrs else "contour" if dim == 2 else "loss"
    draw = {
        "contour": plot.contour_figure,
        "surface": plot.surface_figure,
        "coordinates": plot.coordinates_figure,
        "loss": plot.loss_figure,
        "sensitivity": plot.sensitivity_figure,
    }[choice]
    plot.save(draw(result), path)
