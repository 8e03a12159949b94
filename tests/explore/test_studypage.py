"""The study page's routes, and the page in a real browser (Playwright driving the system
Chromium; skipped, saying why, where either is missing): it loads without console errors,
updates its counts and tables when a trial finishes, and a legend click hides an optimizer.
The screenshot: see support/browser.py."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from ravine.explore.app import create_app
from support.browser import hide_in_legend, screenshot


def test_bad_study_requests_get_json_4xx(tiny_store, tmp_path):
    spec = tmp_path / "spec.toml"
    spec.write_text('name = "x"\n[[optimizers]]\nname = "sgd"\n')
    client = TestClient(create_app([tiny_store, spec]))
    for url, status in [("/api/studies/2", 404), ("/api/studies/-1", 404),
                        ("/api/studies/x", 404), ("/api/studies/0/trials/9999", 404),
                        ("/api/studies/0/trials/abc", 404), ("/api/studies/1", 422),
                        ("/api/studies/1/trials/1", 422), ("/assets/study.html", 404),
                        ("/api/studies/..%2F..%2Fetc%2Fpasswd", 404)]:  # fmt: skip
        r = client.get(url)
        assert r.status_code == status, url
        assert set(r.json()) == {"error", "field"}
    err = client.get("/api/studies/1").json()["error"]
    assert "is not a ravine study store" in err and "TOML" in err
    assert spec.read_text().startswith('name = "x"')
    listed = client.get("/api/studies").json()["studies"]
    assert listed[0]["name"] == "tiny" and "TOML" in listed[1]["error"]


def test_the_page_is_served_with_its_policy(tiny_store):
    r = TestClient(create_app([tiny_store])).get("/study")
    assert r.status_code == 200 and "study.js" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]


@pytest.fixture
def study_server(live_store):
    """The explorer serving the live store, on a free port; yields (url, finish)."""
    uvicorn = pytest.importorskip("uvicorn")
    from ravine.explore.serve import free_port, url

    path, finish = live_store
    port = free_port("127.0.0.1")
    srv = uvicorn.Server(
        uvicorn.Config(create_app([path]), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield url("127.0.0.1", port), finish
    srv.should_exit = True
    thread.join(timeout=10)


def _updates(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.updates || 0)"))


def test_the_study_page_updates_live_and_hides_an_optimizer(browser, study_server):
    base, finish = study_server
    page = browser.new_page(viewport={"width": 1300, "height": 1300})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
    finish(2)
    page.goto(base + "study?poll=200")
    page.wait_for_function("Number(document.body.dataset.done) === 2", timeout=30_000)
    assert page.locator("#summary tbody tr").count() >= 1
    count = _updates(page)
    rows = page.locator("#summary tbody tr").count()
    finish(6)  # a runner finishes trials while the page is open: no reload
    page.wait_for_function("Number(document.body.dataset.done) === 8", timeout=30_000)
    assert _updates(page) > count
    assert page.locator("#summary tbody tr").count() > rows
    assert "8 done" in page.inner_text("#counts")
    assert page.locator("#trials td.done").count() == 8
    # a legend click hides the optimizer in that figure, and it stays hidden on updates
    curves = "document.querySelector('section.problem .curves')"
    hide_in_legend(page, "section.problem .curves", "sgd")
    adam = f"{curves}.data.filter(t => t.legendgroup === 'adam')"
    assert page.evaluate(f"{adam}.length > 0 && {adam}.every(t => t.visible !== 'legendonly')")
    count = _updates(page)
    finish(2)
    page.wait_for_function(f"Number(document.body.dataset.updates) > {count}", timeout=30_000)
    assert page.evaluate(
        f"{curves}.data.filter(t => t.legendgroup === 'sgd' && t.uid.endsWith('best'))"
        ".every(t => t.visible === 'legendonly')"
    )
    page.locator("#trials tr[data-trial]").first.click()  # one trial's curves
    page.wait_for_function("document.body.dataset.trial !== undefined", timeout=10_000)
    assert page.evaluate("document.getElementById('trial').data.length") == 4
    finish(1, error="lr must be positive")  # failed, with its reason; one more running
    finish(1, claim_only=True)
    page.wait_for_function("Number(document.body.dataset.running) === 1", timeout=30_000)
    page.wait_for_function("Number(document.body.dataset.failed) === 1", timeout=30_000)
    assert "ValueError: lr must be positive" in page.inner_text("#failed")
    assert "Traceback" not in page.inner_text("#failed")
    assert page.locator("#running tbody tr").count() == 1
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "explorer_study.png")
    assert problems == [] and outside == []
    page.close()
