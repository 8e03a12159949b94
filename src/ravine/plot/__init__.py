"""Figures and animations of races (matplotlib with the Agg backend; no display needed).

Compute, then draw: a :class:`ravine.race.RaceResult` (and :func:`surface_grid`,
:func:`loss_gaps`, :func:`sensitivity`) holds the data; each ``*_figure`` draws it::

    result = ravine.race("beale", ["sgd", "momentum", "adam"], lrs=1e-3, steps=300)
    plot.save(plot.contour_figure(result), "beale.png")
    plot.animate(result, "beale.gif")          # or .mp4, through imageio-ffmpeg's ffmpeg

Every figure uses the same colour per optimizer (:data:`COLORS`), states the race settings,
and notes that a 2-D race is an illustration, not a way to choose an optimizer.
"""

from __future__ import annotations

from .animation import animate, bundled_ffmpeg, race_frames
from .figures import (
    Grid,
    Sensitivity,
    contour_figure,
    coordinates_figure,
    loss_figure,
    loss_gaps,
    save,
    sensitivity,
    sensitivity_figure,
    surface_figure,
    surface_grid,
)
from .html import write_html
from .style import COLORS, NOTE, colors_for

__all__ = [
    "COLORS",
    "NOTE",
    "Grid",
    "Sensitivity",
    "animate",
    "bundled_ffmpeg",
    "colors_for",
    "contour_figure",
    "coordinates_figure",
    "loss_figure",
    "loss_gaps",
    "race_frames",
    "save",
    "sensitivity",
    "sensitivity_figure",
    "surface_figure",
    "surface_grid",
    "write_html",
]
