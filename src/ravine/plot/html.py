"""A self-contained HTML page of a race: animation, figures and the outcome table."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

from ..race import RaceResult
from .style import NOTE, atomic_path, data_uri

__all__ = ["write_html"]


def write_html(result: RaceResult, path: str | Path, *, frames: int = 50) -> Path:
    """Write one HTML file embedding the animated race (2-D landscapes), the contour,
    loss and (with several learning rates) sensitivity figures, and the outcome table."""
    from .animation import animate
    from .figures import contour_figure, loss_figure, sensitivity_figure

    path = Path(path)
    parts = []
    if result.landscape.dim == 2:
        with tempfile.TemporaryDirectory() as tmp:
            gif = animate(result, Path(tmp) / "race.gif", frames=frames)
            parts.append(_img("animated race", data_uri(gif.read_bytes(), "image/gif")))
        parts.append(_img("contour", data_uri(contour_figure(result))))
    parts.append(_img("loss", data_uri(loss_figure(result))))
    if any(len(run.lrs) > 1 for run in result.runs.values()):
        parts.append(_img("lr sensitivity", data_uri(sensitivity_figure(result))))
    rows = result.summary()
    table = "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in rows[0]) + "</tr>"
    for row in rows[1:]:
        table += "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
    table += "</table>"
    title = html.escape(f"ravine race on {result.landscape.name}")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}}
img{{max-width:100%;display:block;margin:1em 0}}td,th{{padding:2px 10px;text-align:right}}
th{{border-bottom:1px solid #999}}.note{{color:#555;font-size:90%}}</style></head>
<body><h1>{title}</h1><p>{html.escape(result.settings())}</p>
<p class="note">{html.escape(NOTE)}</p>
{"".join(parts)}
<h2>Outcomes</h2>{table}
</body></html>
"""
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def _img(alt: str, src: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="{src}">'
