"""HTML reports: one self-contained file (figures embedded as base64 PNG, and interactive
plotly figures with plotly.js embedded once as a ``data:`` URI; no external resources) that
a person can open anywhere, offline, rendered from the Jinja2 templates in ``templates/``
(shipped with the package)."""

from .study import study_html, write_report

__all__ = ["study_html", "write_report"]
