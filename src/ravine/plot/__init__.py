"""Figures and animations of races and studies (matplotlib; no display needed).

Compute, then draw: a :class:`ravine.race.RaceResult` (and :func:`surface_grid`,
:func:`loss_gaps`, :func:`sensitivity`) holds the data; each ``*_figure`` draws it::

    result = ravine.race("beale", ["sgd", "momentum", "adam"], lrs=1e-3, steps=300)
    plot.save(plot.contour_figure(result), "beale.png")
    plot.animate(result, "beale.gif")          # or .mp4, through imageio-ffmpeg's ffmpeg

Every figure, race or study, uses the same colour per optimizer (:data:`COLORS`); race
figures state the race settings and note that a 2-D race is an illustration, not a way to
choose an optimizer. :mod:`ravine.plot.style` owns colours, the backend and writing files.
"""

from __future__ import annotations

from .animation import SUFFIXES as ANIMATION_SUFFIXES
from .animation import animate, animation_figure, bundled_ffmpeg, race_frames
from .data import Grid, Sensitivity, loss_gaps, sensitivity, surface_grid
from .figures import (
    FIGURES,
    contour_figure,
    coordinates_figure,
    loss_figure,
    sensitivity_figure,
    surface_figure,
)
from .html import write_html
from .style import COLORS, NOTE, colors_for, data_uri, png_base64, save
from .style import SUFFIXES as FIGURE_SUFFIXES
from .write import write_race

__all__ = [
    "ANIMATION_SUFFIXES",
    "COLORS",
    "FIGURES",
    "FIGURE_SUFFIXES",
    "NOTE",
    "Grid",
    "Sensitivity",
    "animate",
    "animation_figure",
    "bundled_ffmpeg",
    "colors_for",
    "contour_figure",
    "coordinates_figure",
    "data_uri",
    "loss_figure",
    "loss_gaps",
    "png_base64",
    "race_frames",
    "save",
    "sensitivity",
    "sensitivity_figure",
    "surface_figure",
    "surface_grid",
    "write_html",
    "write_race",
]
