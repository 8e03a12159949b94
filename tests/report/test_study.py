"""The HTML report of a study: self-contained, and (where a Chromium is installed) every
figure and table renders in a headless browser."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from ravine.study import Store
from support.browser import find_browser


def test_html_report_is_self_contained(tiny_store, tmp_path):
    from ravine.report import write_report

    path = write_report(tiny_store, tmp_path / "r.html")
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    # per problem: curves, sensitivity and heat map; and the performance profile (2 problems)
    assert text.count('<img alt="') == 2 * 3 + 1
    assert text.count("data:image/png;base64,") == 7
    for cls in ("summary", "sensitivity", "ensembles", "profile", "trials"):
        assert f'class="ravine-table {cls}"' in text


CHECK = """
<script>
window.addEventListener("load", () => {
  const imgs = [...document.querySelectorAll("img")];
  const tables = [...document.querySelectorAll("table")];
  const out = {
    images: imgs.length,
    images_ok: imgs.filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100
                              && i.getBoundingClientRect().width > 100).length,
    tables: tables.length,
    tables_ok: tables.filter(t => t.tBodies.length && t.tBodies[0].rows.length > 0
                                  && t.getBoundingClientRect().height > 0).length,
  };
  const pre = document.createElement("pre");
  pre.id = "ravine-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>
"""


def test_report_renders_in_headless_chromium(tiny_store, tmp_path):
    browser = find_browser()
    if browser is None:
        pytest.skip("no Chromium or Chrome installed (Debian: apt-get install -y chromium)")
    from ravine.report import study_html

    with Store(tiny_store) as s:
        page = study_html(s)
    path = tmp_path / "checked.html"
    path.write_text(page.replace("</body>", CHECK + "</body>"))
    profile = tmp_path / "profile"
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        path.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
    m = re.search(r'<pre id="ravine-check">(.*?)</pre>', out.stdout)
    assert m, f"no check output from the browser: {out.stderr[-2000:]}"
    result = json.loads(m.group(1).replace("&quot;", '"'))
    assert result["images"] == 7 and result["images_ok"] == 7
    assert result["tables"] >= 5 and result["tables_ok"] == result["tables"]


MSE_PROBLEM = '''
from ravine_test_blobs import blobs


def mse(out, y):
    return ((out.softmax(-1) - __import__("torch").nn.functional.one_hot(y, 3)) ** 2).mean()


def mse_blobs():
    """Blobs scored by the squared error of its probabilities: lower is better."""
    p = blobs(n=120)
    p.metric, p.metric_name, p.higher_is_better, p.target = mse, "mse", False, 0.05
    return p
'''


@pytest.fixture(scope="module")
def random_mse_report(user_module, tmp_path_factory) -> str:
    """The report of a random search, with an lr schedule, on a lower-is-better problem."""
    from ravine.report import study_html
    from ravine.study import run_study

    (user_module / "ravine_test_mse.py").write_text(MSE_PROBLEM)
    spec = {
        "name": "mse",
        "seeds": [0],
        "budget": {"epochs": 2},
        "batch_size": 30,
        "protocol": {"kind": "random", "samples": 3, "sample_seed": 0},
        "problems": [{"name": "ravine_test_mse:mse_blobs", "label": "mse"}],
        "optimizers": [
            {"name": "sgd", "lr": {"log": [1e-3, 1.0, 4]}, "schedules": {"lr": "cosine:6"}},
            {"name": "adam", "lr": [1e-2]},
        ],
    }
    path = tmp_path_factory.mktemp("mse") / "mse.db"
    run_study(spec, path, progress=False)
    with Store(path) as s:
        return study_html(s)


def test_report_shows_the_schedules_used(random_mse_report):
    summary = random_mse_report.split('class="ravine-table summary"')[1].split("</table>")[0]
    assert "lr=cosine:6" in summary and "constant" in summary  # sgd's, adam's
    assert "schedule cosine:6" in random_mse_report  # the search space


def test_report_follows_a_lower_is_better_metric(random_mse_report):
    assert "mse: lower is better" in random_mse_report
    assert "Metric: mse (lower is better)" in random_mse_report
    assert "highest" not in random_mse_report and "higher is better" not in random_mse_report


def test_random_search_columns_are_labelled_as_samples(random_mse_report):
    assert "Search space (random protocol)" in random_mse_report
    assert "sampled log-uniformly from 0.001 to 1" in random_mse_report
    assert "grid of" not in random_mse_report
    assert "<th>lr (sampled)</th>" in random_mse_report
    assert 'data-name="heatmap-' not in random_mse_report  # no grid of lrs to draw


def test_report_warns_when_a_best_setting_is_at_its_grid_edge():
    from ravine.report.study import _summary

    row = {
        "problem": "P", "optimizer": "sgd", "best": "lr=0.1, momentum=0.99",
        "hyperparameters": {"lr": 0.1, "momentum": 0.99}, "grid_edge": {"momentum": "largest"},
    }  # fmt: skip
    html = str(_summary([row], {"optimizers": [{"name": "sgd", "momentum": [0.5, 0.9, 0.99]}]}))
    assert (
        '<p class="warning">Warning: sgd on P: the best momentum (0.99) is the largest value '
        "tried; widen its range before trusting the comparison</p>"
    ) in html
    assert "grid [0.5, 0.9, 0.99]" in html


def test_report_shows_the_chosen_settings_held_out_test_metric(tmp_path):
    from ravine.problems import get
    from ravine.report import study_html
    from ravine.study import run_study
    from ravine.study.ensemble import load_model

    spec = {
        "name": "held", "seeds": [0], "budget": {"epochs": 1}, "batch_size": 64,
        "problems": [{"name": "moons", "options": {"n": 200, "hidden": 8, "test_fraction": 0.25},
                      "label": "moons"}],
        "optimizers": [{"name": "sgd", "lr": [0.01, 0.3]}],
    }  # fmt: skip
    run_study(spec, tmp_path / "h.db", progress=False)
    with Store(tmp_path / "h.db") as s:
        html = study_html(s)
        (best,) = [t for t in s.trials() if t.hyperparameters["lr"] == 0.3]
        problem, model = load_model(s, best)
    by_hand = problem.evaluate(model, problem.x_test, problem.y_test)[1]
    summary = html.split('class="ravine-table summary"')[1].split("</table>")[0]
    assert "<th>test metric</th>" in summary
    assert f"<td>{by_hand:.4g}</td>" in summary
    moons = get("moons", n=200, hidden=8, test_fraction=0.25)
    assert len(moons.x_test) == 50 and len(moons.x_train) + len(moons.x_val) == 150


def test_report_generation_shows_its_progress(tiny_store):
    """On a terminal the report counts its sections as it draws them, one per problem besides
    the header, summary, ensembles, profiles and trials; the document is the same."""
    import io

    from ravine.progress import Progress
    from ravine.report.study import study_html
    from ravine.study import Store

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with Store(tiny_store) as db:
        plain = study_html(db)
        with Progress(description="report", stream=stream, min_interval=0) as bar:
            shown = study_html(db, bar)
        problems = len({t.problem for t in db.trials()})
    assert bar.completed == bar.total == problems + 5
    assert "report: trials" in stream.getvalue()

    def strip(html):  # figures' bytes and the minute it was generated may differ
        html = re.sub(r'src="data:image/png;base64,[^"]*"', "", html)
        return re.sub(r"Generated [0-9: -]+ UTC", "", html)

    assert strip(shown) == strip(plain)
