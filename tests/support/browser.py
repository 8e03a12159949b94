"""The system's Chromium or Chrome, for the tests that open pages in a real browser, and
where their screenshots go.

Screenshots are taken on every run; they land in docs/figures only when asked, so a test
run leaves the working tree as it was:
``RAVINE_SCREENSHOTS=docs/figures python -m pytest tests/explore`` refreshes the ones that
docs/explorer.md shows."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest


def find_browser() -> str | None:
    """The first Chromium or Chrome executable on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


_SHARED: dict[str, object] = {}  # one Playwright and one browser per test session


@pytest.fixture(scope="session")
def browser():
    """Headless system Chromium driven by Playwright (no browser is downloaded), one per
    session however many test folders ask (Playwright's sync API runs one at a time)."""
    if "browser" not in _SHARED:
        chromium = find_browser()
        if chromium is None:
            pytest.skip("no Chromium or Chrome installed (Debian: apt-get install -y chromium)")
        sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
        playwright = sync_api.sync_playwright().start()
        _SHARED["browser"] = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        atexit.register(playwright.stop)
        atexit.register(_SHARED["browser"].close)  # type: ignore[attr-defined]
    return _SHARED["browser"]


def hide_in_legend(page, figure: str, group: str) -> None:
    """Click ``group``'s legend entry in the plotly figure matched by the CSS selector
    ``figure`` and wait until every trace of that legend group is hidden."""
    toggle = f"{figure} g.traces:has(text.legendtext:text-is('{group}')) .legendtoggle"
    page.locator(toggle).first.click()
    page.wait_for_function(
        f"document.querySelector(\"{figure}\").data.filter(t => t.legendgroup === '{group}')"
        ".every(t => t.visible === 'legendonly')",
        timeout=10_000,
    )


def screenshot(page, name: str) -> Path:
    """Save ``page``'s screenshot as ``name`` in ``$RAVINE_SCREENSHOTS`` (docs/figures to
    refresh the docs) or, unset, a temporary folder; returns the file."""
    folder = os.environ.get("RAVINE_SCREENSHOTS")
    where = Path(folder) if folder else Path(tempfile.gettempdir()) / "ravine-screenshots"
    where.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(where / name))
    return where / name
