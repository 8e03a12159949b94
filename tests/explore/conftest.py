"""A live explorer server (uvicorn in a thread) and a Playwright Chromium for the browser
tests; the browser tests skip, saying why, where Chromium or Playwright is missing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from support.browser import find_browser


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """The explorer served on a free port of 127.0.0.1; yields its address."""
    uvicorn = pytest.importorskip("uvicorn")
    from ravine.explore.app import create_app
    from ravine.explore.serve import free_port, url

    port = free_port("127.0.0.1")
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "the explorer did not start"
    yield url("127.0.0.1", port)
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless system Chromium driven by Playwright (no browser is downloaded)."""
    chromium = find_browser()
    if chromium is None:
        pytest.skip("no Chromium or Chrome installed (Debian: apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield b
        b.close()
