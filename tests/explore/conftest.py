"""A live explorer server (uvicorn in a thread) and a Playwright Chromium for the browser
tests; the browser tests skip, saying why, where Chromium or Playwright is missing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from support.browser import browser
from support.study import tiny_store, user_module

__all__ = ["browser", "live_store", "server", "tiny_store", "user_module"]


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


@pytest.fixture
def live_store(tiny_store, tmp_path):
    """A study being run: the tiny study's spec and trials in a new store, none finished.
    Yields ``(path, finish)``; ``finish(n)`` completes n more trials through the store API
    with the rows the tiny study recorded for them (a runner's writes, in this process);
    ``finish(n, error=...)`` fails them with that error; ``finish(n, claim_only=True)``
    leaves them running."""
    from ravine.study import Store
    from ravine.study.records import TrialResult

    path = tmp_path / "live.db"
    with Store(tiny_store) as source:
        done = source.trials()
        rows = source.metrics()
        meta = {k: source.get_meta(k) for k in ("spec", "problems")}
    store = Store(path)
    for key, value in meta.items():
        store.set_meta(key, value)
    store.add_trials([t.config for t in done])
    by_hash = {t.hash: t for t in done}

    def finish(n: int = 1, error: str | None = None, claim_only: bool = False) -> None:
        from ravine.study.store import config_hash

        for tid, config in store.claim("test-runner", n=n):
            old = by_hash[config_hash(config)]
            result = TrialResult(old.status, rows.get(old.id, []), old.steps or 0, old.wall_time)
            if error is not None:
                result = TrialResult.failed(ValueError(error), "Traceback (kept in the store)")
            if not claim_only:
                store.complete(tid, "test-runner", result)

    yield path, finish
    store.close()
