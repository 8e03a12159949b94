"""What a study writes out: ensembles, CSV and Parquet exports, the HTML report (opened in
headless Chromium where one is installed) and the command line."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess

import pytest
import torch
from click.testing import CliRunner

from ravine.cli import main
from ravine.study import Results, Store, best_settings
from ravine.study.ensemble import ensemble_table
from ravine.study.export import export
from support.study import tiny_spec


def test_ensemble_matches_a_hand_average(tiny_store):
    from ravine import problems

    with Store(tiny_store) as s:
        rows = {(r["problem"], r["members_of"]): r for r in ensemble_table(s)}
        best = best_settings(Results.from_store(s), "blobs", "sgd")
        problem = problems.get("ravine_test_blobs:blobs")
        probs, accs = [], []
        for t in best["trials"]:
            model = problem.model()
            model.load_state_dict(torch.load(io.BytesIO(s.model(t["id"])), weights_only=True))
            with torch.no_grad():
                out = model(problem.x_val)
            probs.append(torch.softmax(out, -1))
            accs.append((out.argmax(-1) == problem.y_val).float().mean().item())
    avg = sum(probs) / len(probs)
    row = rows["blobs", "sgd"]
    assert row["members"] == 2
    assert row["member_val_metric_mean"] == pytest.approx(sum(accs) / len(accs))
    assert row["ensemble_val_metric"] == pytest.approx(
        (avg.argmax(-1) == problem.y_val).float().mean().item()
    )
    nll = -torch.log(avg[torch.arange(len(avg)), problem.y_val]).mean().item()
    assert row["ensemble_val_loss"] == pytest.approx(nll, rel=1e-5)
    assert rows["blobs", "all optimizers"]["members"] == 4


def test_csv_and_parquet_exports_hold_every_row(tiny_store, tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    with Store(tiny_store) as s:
        trials = s.trials()
        metrics = s.metrics()
        export(s, tmp_path / "csv", "csv")
        export(s, tmp_path / "pq", "parquet")
    n_rows = sum(len(v) for v in metrics.values())
    with open(tmp_path / "csv" / "trials.csv") as f:
        t_rows = list(csv.DictReader(f))
    with open(tmp_path / "csv" / "metrics.csv") as f:
        m_rows = list(csv.DictReader(f))
    assert len(t_rows) == len(trials) and len(m_rows) == n_rows
    first = trials[0]
    assert float(t_rows[0]["hp.lr"]) == first["config"]["hyperparameters"]["lr"]
    assert json.loads(t_rows[0]["versions"])["torch"] == torch.__version__
    m0 = [r for r in m_rows if int(r["trial_id"]) == first["id"]]
    assert [float(r["val_loss"]) for r in m0] == pytest.approx(
        [r["val_loss"] for r in metrics[first["id"]]]
    )
    table = pa.read_table(tmp_path / "pq" / "metrics.parquet").to_pydict()
    assert len(table["step"]) == n_rows
    assert table["val_metric"][: len(m0)] == pytest.approx(
        [r["val_metric"] for r in metrics[first["id"]]]
    )
    assert pa.read_table(tmp_path / "pq" / "trials.parquet").num_rows == len(trials)


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


def find_browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


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


def test_cli_run_status_report_export(user_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = tiny_spec(seeds=[0], optimizers=[{"name": "sgd", "lr": [0.1, 0.3]}, "adam"])
    toml = (
        'name = "cli"\nseeds = [0]\nbudget = { epochs = 1 }\nbatch_size = 30\n'
        '[[problems]]\nname = "ravine_test_blobs:blobs"\n'
        '[[optimizers]]\nname = "sgd"\nlr = [0.1, 0.3]\n[[optimizers]]\nname = "adam"\n'
    )
    (tmp_path / "s.toml").write_text(toml)
    runner = CliRunner()
    r = runner.invoke(main, ["study", "run", "s.toml", "--store", "cli.db", "--out", "r.html"])
    assert r.exit_code == 0, r.output
    assert "best setting" in r.output and (tmp_path / "r.html").exists()
    assert re.search(r"ravine_test_blobs:blobs\s+sgd\s+lr=0\.[13]", r.output)
    assert "batched: 2 trials of ravine_test_blobs:blobs sgd" in r.output
    r = runner.invoke(main, ["study", "run", "s.toml", "--store", "alone.db", "--no-batch"])
    assert r.exit_code == 0 and "batched" not in r.output
    with Store(tmp_path / "cli.db") as a, Store(tmp_path / "alone.db") as b:
        batched_envs = [t["environment"].get("batch") for t in a.trials()]
        assert [e["trials"] if e else 1 for e in batched_envs] == [2, 2, 1]
        assert all("batch" not in t["environment"] for t in b.trials())
    r = runner.invoke(main, ["study", "status", "cli.db"])
    assert r.exit_code == 0 and "done      3" in r.output
    r = runner.invoke(main, ["study", "export", "cli.db", "--format", "csv", "--out", "exp"])
    assert r.exit_code == 0 and (tmp_path / "exp" / "metrics.csv").exists()
    r = runner.invoke(main, ["study", "report", "cli.db", "--out", "again.html"])
    assert r.exit_code == 0 and (tmp_path / "again.html").exists()
    # a rerun finds nothing to do and repeats nothing
    r = runner.invoke(main, ["study", "run", "s.toml", "--store", "cli.db", "--no-report"])
    assert r.exit_code == 0 and "3 already finished" in r.output
    with Store(tmp_path / "cli.db") as s:
        assert all(t["attempts"] == 1 for t in s.trials())
    # a malformed spec is a clean error naming the key
    (tmp_path / "bad.toml").write_text(toml.replace("lr = [0.1, 0.3]", "lr = -1"))
    r = runner.invoke(main, ["study", "run", "bad.toml"])
    assert r.exit_code != 0 and "optimizers[0].lr" in r.output
    r = runner.invoke(main, ["study", "run"])
    assert r.exit_code != 0 and "--example" in r.output
    assert spec["name"] == "tiny"
