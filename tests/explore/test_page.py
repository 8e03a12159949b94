"""The race page in a real browser (Playwright driving the system Chromium): it loads
without console errors, clicks and sliders start new races, the animation advances, a
download arrives, a shared URL reproduces the race. Screenshots: see support/browser.py."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from support.browser import screenshot


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url) if not r.url.startswith((server, "data:", "blob:")) else None
        ),
    )
    page.problems, page.outside = problems, outside
    yield page
    context.close()


def open_race(page, url: str, races: int = 1) -> None:
    page.goto(url)
    page.wait_for_function(f"Number(document.body.dataset.raced || 0) >= {races}", timeout=60_000)


def paths(page) -> str:
    """The drawn paths' full data, as the page holds it."""
    return page.evaluate("JSON.stringify(race.runs.map(r => [r.label, r.lrs, r.paths]))")


def raced(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.raced || 0)"))


def wait_race_after(page, before: int) -> None:
    page.wait_for_function(f"Number(document.body.dataset.raced || 0) > {before}", timeout=60_000)


def test_page_loads_races_and_animates_without_console_errors(page, server):
    open_race(page, server)
    assert page.evaluate("race.runs.length") == 3
    first = int(page.evaluate("Number(document.body.dataset.frame)"))
    page.wait_for_function(f"Number(document.body.dataset.frame) > {first}", timeout=20_000)
    page.wait_for_function("Number(document.body.dataset.frame) === race.steps", timeout=30_000)
    screenshot(page, "explorer_race.png")
    page.click("#step")  # at the end: stays there; scrub back and step once
    page.fill("#scrub", "10")
    page.dispatch_event("#scrub", "input")
    page.click("#step")
    assert page.evaluate("document.body.dataset.frame") == "11"
    assert page.problems == [] and page.outside == []


def test_paths_are_drawn_from_the_first_chunk(page, server):
    state = {"landscape": "rosenbrock", "steps": 1500, "on": ["sgd", "momentum", "adam"]}
    open_race(page, server + "?s=" + json.dumps(state))
    assert page.evaluate("race.chunks.length") > 1 and page.evaluate("race.chunks[0]") < 1500
    first = page.evaluate("race.first")  # what was drawn first: one path per optimizer
    assert first["done"] == page.evaluate("race.chunks[0]") and first["paths"] == 3
    assert page.evaluate("race.runs[0].outcome[0][0]") != "running"
    assert "first frame" in page.inner_text("#status")
    assert page.problems == []


def test_a_click_on_the_contours_adds_a_start_and_new_paths(page, server):
    open_race(page, server)
    before, count = paths(page), raced(page)
    box = page.locator("#contour .nsewdrag").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.8)
    wait_race_after(page, count)
    assert page.evaluate("state.starts.length") == 2
    assert page.evaluate("race.runs[0].paths[0].length") == 2
    assert paths(page) != before
    # drag the new start: the race recomputes from where it is dropped
    start = page.evaluate("state.starts[1]")
    count = raced(page)
    x0, y0 = box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.8
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 - 60, y0 - 40, steps=5)
    page.mouse.up()
    wait_race_after(page, count)
    page.wait_for_timeout(300)
    assert page.evaluate("state.starts[1]") != start
    assert page.evaluate("race.runs[0].paths[0][1][0]") == page.evaluate("state.starts[1]")
    assert page.problems == []


def test_the_lr_slider_changes_the_paths(page, server):
    open_race(page, server)
    page.click("details.opt:has(input[data-optimizer=adam]) summary", position={"x": 5, "y": 5})
    before, count = paths(page), raced(page)
    slider = page.locator('input[data-hp="adam.lr"]')
    slider.evaluate(
        "(el) => { el.value = Number(el.value) - 1; el.dispatchEvent(new Event('input')); }"
    )
    wait_race_after(page, count)
    assert page.evaluate("state.hp.adam.lr") < 0.05
    assert paths(page) != before
    screenshot(page, "explorer_controls.png")
    assert page.problems == []


def test_a_shared_url_reproduces_the_race(page, browser, server):
    state = {"landscape": "himmelblau", "steps": 80, "starts": [[0.5, 0.5], [-1, 3]],
             "on": ["sgd", "adam"], "hp": {"adam": {"lr": 0.2}}, "sched": {"sgd": "cosine:80"},
             "fan": {"on": False, "optimizer": "sgd", "low": 1e-4, "high": 1, "n": 8}}  # fmt: skip
    open_race(page, server + "?s=" + json.dumps(state))
    shared = page.url
    first = paths(page)
    assert json.loads(parse_qs(urlparse(shared).query)["s"][0])["starts"] == state["starts"]
    other = browser.new_context().new_page()
    open_race(other, shared)
    assert paths(other) == first
    other.context.close()


def test_the_lr_fan_draws_paths_and_coordinates(page, server):
    fan = {"on": True, "optimizer": "momentum", "low": 1e-5, "high": 3e-3, "n": 6}
    state = {"landscape": "rosenbrock", "steps": 150, "on": [], "fan": fan}
    open_race(page, server + "?s=" + json.dumps(state))
    assert page.evaluate("race.runs[0].lrs.length") == 6
    assert page.locator("#coords .scatterlayer .trace").count() == 12  # x(t) and y(t) per lr
    page.wait_for_function("Number(document.body.dataset.frame) === race.steps", timeout=30_000)
    screenshot(page, "explorer_fan.png")
    assert page.problems == []


def test_moons_batch_size_and_surface_view(page, server):
    state = {"landscape": "moons", "options": {"batch_size": 4}, "steps": 100,
             "on": ["sgd", "adam"], "view": "surface"}  # fmt: skip
    open_race(page, server + "?s=" + json.dumps(state))
    assert "batch_size=4" in page.evaluate("land.settings")
    page.wait_for_function("Number(document.body.dataset.frame) === race.steps", timeout=30_000)
    screenshot(page, "explorer_surface.png")
    assert page.problems == []


def test_a_download_arrives(page, server, tmp_path):
    open_race(page, server + '?s={"steps":30}')
    with page.expect_download(timeout=60_000) as info:
        page.click("button.download[data-format=png]")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    assert path.name == "ravine-rosenbrock.png" and path.read_bytes()[:4] == b"\x89PNG"


def test_bad_requests_from_the_page_get_4xx(page, server):
    open_race(page, server)
    reply = page.evaluate(
        """async () => { const r = await fetch('/api/race', {method: 'POST',
             body: JSON.stringify({landscape: 'nope', optimizers: [{name: 'sgd'}]})});
           return [r.status, await r.json()]; }"""
    )
    assert reply[0] == 400 and reply[1]["field"] == "landscape"
    assert page.evaluate("fetch('/assets/app.py').then(r => r.status)") == 404
