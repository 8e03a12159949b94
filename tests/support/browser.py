"""The system's Chromium or Chrome, for the tests that open pages in a real browser."""

from __future__ import annotations

import shutil


def find_browser() -> str | None:
    """The first Chromium or Chrome executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
