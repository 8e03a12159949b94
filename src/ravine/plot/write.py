"""A race written to a file whose suffix says what to draw: an animation (.gif, .mp4), a
page (.html) or a still figure (.png, .svg, .pdf)."""

from __future__ import annotations

from pathlib import Path

from ..race import RaceResult
from .animation import animate
from .figures import FIGURES
from .html import write_html
from .style import save

__all__ = ["write_race"]


def write_race(
    result: RaceResult,
    path: str | Path,
    *,
    figure: str = "auto",
    frames: int = 60,
    loss_panel: bool = False,
) -> Path:
    """Write ``result`` to ``path``; ``figure`` names the still figure (:data:`FIGURES`;
    ``auto``: the lr sensitivity for a race over several learning rates, else the contours
    of a 2-D landscape, else the loss curves); ``loss_panel`` adds a loss panel to an
    animation."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".gif", ".mp4"}:
        return animate(result, path, frames=frames, loss_panel=loss_panel)
    if suffix == ".html":
        return write_html(result, path, frames=min(frames, 60))
    if figure == "auto":
        several_lrs = any(len(run.coords["lr"]) > 1 for run in result.runs.values())
        two_d = result.landscape.dim == 2
        figure = "sensitivity" if several_lrs else "contour" if two_d else "loss"
    return save(FIGURES[figure](result), path)
