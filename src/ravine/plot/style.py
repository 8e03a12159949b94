"""The plumbing every ravine figure shares: one colour per optimizer, one look, one backend
policy, one way to write a figure to a file and one way to embed it in a page.

- :func:`pyplot` imports matplotlib's pyplot with a non-interactive backend (Agg) unless the
  user already chose one (``MPLBACKEND``, a matplotlibrc, ``matplotlib.use`` or an earlier
  pyplot import), so ravine draws on machines without a display and leaves notebooks alone.
- :func:`styled` draws a figure in ravine's look (:data:`STYLE`) without changing the user's
  own matplotlib settings.
- :func:`save` writes a figure by its suffix (PNG, SVG, PDF) through a temporary file, so a
  failed write never leaves a half-written file; :func:`png_base64` and :func:`data_uri`
  embed one in HTML.
- :func:`colors_for` gives every optimizer its colour (:data:`COLORS`) in every figure,
  race or study.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import io
import os
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "COLORS",
    "DPI",
    "NOTE",
    "STYLE",
    "SUFFIXES",
    "atomic_path",
    "colors_for",
    "data_uri",
    "png_base64",
    "pyplot",
    "quantize_exact",
    "save",
    "styled",
]

#: Fixed colours of the registered optimizers (colour-blind-aware, distinct in print).
COLORS: dict[str, str] = {
    "sgd": "#d62728",
    "momentum": "#1f77b4",
    "nesterov": "#2ca02c",
    "adagrad": "#9467bd",
    "rmsprop": "#ff7f0e",
    "adadelta": "#8c564b",
    "adam": "#17becf",
    "adamw": "#0b5563",
    "adamax": "#bcbd22",
    "nadam": "#7f7f7f",
    "adabelief": "#e377c2",
}
_SPARE = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354"]

NOTE = (
    "A 2-D race illustrates how update rules move; it is not a way to choose an optimizer "
    "for a real model."
)

#: Resolution of every written or embedded figure, in dots per inch.
DPI = 100

#: ravine's look, applied while a figure is drawn (see :func:`styled`).
STYLE: dict[str, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 9,
}

#: The file formats :func:`save` writes, by suffix.
SUFFIXES = (".png", ".svg", ".pdf")

F = TypeVar("F", bound=Callable[..., Any])


# ------------------------------------------------------------------------------ colours


def _spare(key: str, used: set[str]) -> str:
    """A spare colour picked from the name itself (the same name gets the same colour in
    every figure), moving on to the next spare one if this figure already uses it."""
    start = zlib.crc32(key.encode())
    for k in range(len(_SPARE)):
        c = _SPARE[(start + k) % len(_SPARE)]
        if c not in used:
            return c
    return _SPARE[start % len(_SPARE)]  # more runs than colours: repeat one


def colors_for(runs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Colour of each (label, optimizer name) of one figure: the label's own colour if it is
    a registered name, else its optimizer's colour if still free in this figure, else a spare
    one chosen from the label. A label gets the same colour in every figure it appears in
    alongside the same registered names, whatever the order of the runs."""
    out: dict[str, str] = {}
    used: set[str] = set()
    pending = []
    for label, name in runs:
        key = label.lower()
        if key in COLORS and COLORS[key] not in used:
            out[label] = COLORS[key]
            used.add(out[label])
        else:
            pending.append((label, name))
    for label, name in sorted(pending):  # sorted: the same colours in any order of runs
        c = COLORS.get(str(name).lower())
        if c is None or c in used:
            c = _spare(label.lower(), used)
        out[label] = c
        used.add(c)
    return out


def quantize_exact(image, colors: int = 256):
    """A palette ("P") copy of an RGB PIL image that keeps every optimizer colour exactly.

    A plain median-cut palette merges rare colours (a short path's red into a long path's
    orange); here the optimizer colours, black and white are fixed palette entries and the
    rest of the palette is fitted to the image."""
    from PIL import Image

    exact = [*COLORS.values(), *_SPARE, "#000000", "#ffffff"]
    base = image.quantize(colors=colors - len(exact), method=Image.Quantize.MEDIANCUT)
    pal = base.getpalette()[: 3 * (colors - len(exact))]
    for c in exact:
        pal += [int(c[i : i + 2], 16) for i in (1, 3, 5)]
    holder = Image.new("P", (1, 1))
    holder.putpalette(pal)
    return image.quantize(palette=holder, dither=Image.Dither.NONE)


# ------------------------------------------------------------------------------ drawing


def _backend_chosen() -> bool:
    """Whether a backend was chosen before ravine draws (rcParams hold one, not the
    automatic placeholder pyplot resolves on first use)."""
    import matplotlib

    chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", None)
    if chosen is None:  # matplotlib without the query: trust an already imported pyplot
        import sys

        return "matplotlib.pyplot" in sys.modules
    return chosen() is not None


def pyplot():
    """matplotlib's pyplot, with the Agg backend unless the user already chose a backend."""
    import matplotlib

    if not _backend_chosen():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def styled(draw: F) -> F:
    """Run the figure function ``draw`` in ravine's look (:data:`STYLE`); the user's own
    matplotlib settings are back in place when it returns."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with pyplot().rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _close(fig: Any) -> None:
    pyplot().close(fig)


# ------------------------------------------------------------------------------ writing


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; it replaces ``path`` when the block
    ends without an error and is removed when it raises, so ``path`` is never half-written.
    The folder is created if missing."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save(fig: Any, path: str | Path, *, palette: bool = False, close: bool = True) -> Path:
    """Write ``fig`` to ``path`` in the format its suffix names (.png, .svg, .pdf) at
    :data:`DPI`, creating the folder; returns the path.

    The file appears only once complete: a failed write leaves no file (or the old one).
    ``palette=True`` stores a PNG with a 256-colour palette that keeps the optimizer colours
    exactly (about a third of the size; used for the figures committed to the docs).
    ``close=False`` keeps the figure open for the caller."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"figure path must end in {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]}, "
            f"got {path.name!r}"
        )
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=suffix[1:], dpi=DPI)
            if palette and suffix == ".png":
                from PIL import Image

                with Image.open(tmp) as img:
                    rgb = img.convert("RGB")
                quantize_exact(rgb).save(tmp, format="PNG", optimize=True)
    finally:
        if close:
            _close(fig)
    return path


def png_base64(fig: Any, *, close: bool = True) -> str:
    """``fig`` as a PNG at :data:`DPI`, base64-encoded (closed afterwards unless ``close``
    is False)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=DPI)
    finally:
        if close:
            _close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def data_uri(content: Any, mime: str = "image/png") -> str:
    """A ``data:`` URI for an ``<img src=...>``: of a matplotlib figure (as PNG, closed
    afterwards) or of raw ``bytes`` of type ``mime`` (an animated GIF, say)."""
    if isinstance(content, bytes | bytearray):
        data = base64.b64encode(bytes(content)).decode("ascii")
    else:
        data, mime = png_base64(content), "image/png"
    return f"data:{mime};base64,{data}"
