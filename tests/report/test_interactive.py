"""The report's interactive figures: built from ravine.study.summary, and drawn by the
plotly.js embedded in the report with no request leaving file:// (Playwright on the system
Chromium; skipped, saying why, where either is missing)."""

from __future__ import annotations

import math

import pytest

from ravine.report.interactive import curves_figure, jsonable, sensitivity_figure
from ravine.study import Store
from ravine.study.summary import Results, curves, sensitivity
from support.browser import hide_in_legend


def test_jsonable_has_no_nan_nor_infinity():
    assert jsonable({"a": math.nan, "b": (math.inf, -math.inf, 1.5), 3: [1]}) == {
        "a": None, "b": ["inf", "-inf", 1.5], "3": [1],
    }  # fmt: skip


def test_figures_carry_the_summary_numbers(tiny_store):
    with Store(tiny_store) as s:
        results = Results.from_store(s)
    rows = sensitivity(results, "blobs", "lr")
    fig = sensitivity_figure(results, "blobs", "accuracy", rows)
    adam = next(t for t in fig["data"] if t["name"] == "adam")
    assert adam["x"] == [r["lr"] for r in rows if r["optimizer"] == "adam"]
    assert adam["y"] == [r["val_metric_mean"] for r in rows if r["optimizer"] == "adam"]
    fig = curves_figure(results, "blobs", "accuracy")
    best = next(t for t in fig["data"] if t["uid"] == "sgd.val_metric.best")
    c = curves(results, "blobs", "sgd", "val_metric")
    seeds = list(c["per_seed"].values())
    assert best["x"] == c["epochs"]
    assert best["y"] == pytest.approx([sum(v) / len(v) for v in zip(*seeds, strict=True)])
    assert fig["layout"]["uirevision"] and all(t["legendgroup"] in ("sgd", "adam")
                                               for t in fig["data"])  # fmt: skip


def test_the_reports_interactive_figures_draw_offline(browser, tiny_store, tmp_path):
    from ravine.report import write_report

    path = write_report(tiny_store, tmp_path / "report.html")
    text = path.read_text()
    assert text.count('<script src="data:text/javascript;base64,') == 1
    assert text.count('class="ravine-plotly"') == 4  # curves and sensitivity, 2 problems
    context = browser.new_context(offline=True)
    page = context.new_page()
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:"))
            else outside.append(r.url))  # fmt: skip
    page.goto(path.as_uri())
    page.wait_for_function(
        "[...document.querySelectorAll('div.ravine-plotly')]"
        ".every(d => d.querySelector('.main-svg') && d.data && d.data.length)",
        timeout=60_000,
    )
    hide_in_legend(page, "div.ravine-plotly", "adam")
    context.close()
    assert problems == [] and outside == []
