"""The current race as a file to download: PNG, GIF or MP4, drawn by the same code as
``ravine race --out`` (:func:`ravine.plot.write_race`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..race import RacePlan
from .requests import RequestError

__all__ = ["FORMATS", "MAX_FRAMES", "render"]

#: Download format -> its media type.
FORMATS = {"png": "image/png", "gif": "image/gif", "mp4": "video/mp4"}
#: The most frames an animation may have.
MAX_FRAMES = 120


def render(plan: RacePlan, fmt: str, frames: int = 60) -> bytes:
    """Run ``plan`` and draw it as ``fmt``; RequestError for an unknown format, too many
    frames, or an MP4 where no ffmpeg is available (503)."""
    from .. import race as races
    from ..plot import bundled_ffmpeg, write_race

    if fmt not in FORMATS:
        raise RequestError(f"format must be one of {', '.join(FORMATS)}", "format")
    if not 2 <= frames <= MAX_FRAMES:
        raise RequestError(f"frames must be from 2 to {MAX_FRAMES}", "frames")
    if fmt == "mp4":
        try:
            bundled_ffmpeg()
        except RuntimeError as err:
            raise RequestError(str(err), "format", status=503) from None
    result = races.run(plan)
    loss_panel = fmt != "png"
    with tempfile.TemporaryDirectory(prefix="ravine-explore-") as tmp:
        path = Path(tmp) / f"race.{fmt}"
        write_race(result, path, frames=frames, loss_panel=loss_panel)
        return path.read_bytes()
