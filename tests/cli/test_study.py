"""``ravine study run|status|report|export`` end to end on a tiny user problem."""

from __future__ import annotations

import re

from click.testing import CliRunner

from ravine.cli import main
from ravine.study import Store
from support.study import tiny_spec, write_blobs


def test_cli_run_status_report_export(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(write_blobs(tmp_path)))
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
        batched_envs = [t.environment.get("batch") for t in a.trials()]
        assert [e["trials"] if e else 1 for e in batched_envs] == [2, 2, 1]
        assert all("batch" not in t.environment for t in b.trials())
    r = runner.invoke(main, ["study", "status", "cli.db"])
    assert r.exit_code == 0 and "done      3" in r.output
    r = runner.invoke(main, ["study", "export", "cli.db", "--format", "csv", "--out", "exp"])
    assert r.exit_code == 0 and (tmp_path / "exp" / "cli.metrics.csv").exists()
    r = runner.invoke(main, ["study", "report", "cli.db", "--out", "again.html"])
    assert r.exit_code == 0 and (tmp_path / "again.html").exists()
    # a rerun finds nothing to do and repeats nothing
    r = runner.invoke(main, ["study", "run", "s.toml", "--store", "cli.db", "--no-report"])
    assert r.exit_code == 0 and "3 already finished" in r.output
    with Store(tmp_path / "cli.db") as s:
        assert all(t.attempts == 1 for t in s.trials())
    # a malformed spec is a clean error naming the key
    (tmp_path / "bad.toml").write_text(toml.replace("lr = [0.1, 0.3]", "lr = -1"))
    r = runner.invoke(main, ["study", "run", "bad.toml"])
    assert r.exit_code != 0 and "optimizers[0].lr" in r.output
    r = runner.invoke(main, ["study", "run"])
    assert r.exit_code != 0 and "--example" in r.output
    assert spec["name"] == "tiny"


FLAKY = """
import os
from ravine_test_blobs import blobs


def flaky(marker):
    problem = blobs(n=60)
    build = problem.model

    def model():
        if os.path.exists(marker):
            raise RuntimeError("the flaky model is broken today")
        return build()

    problem.model = model
    return problem
"""


def _flaky_spec(tmp_path, extra: str = "") -> str:
    marker = tmp_path / "broken"
    (tmp_path / "ravine_test_flaky.py").write_text(FLAKY)
    return (
        f'name = "flaky"\nbudget = {{ epochs = 1 }}\nbatch_size = 30\n{extra}'
        f'[[problems]]\nname = "ravine_test_flaky:flaky"\noptions = {{ marker = "{marker}" }}\n'
        '[[optimizers]]\nname = "sgd"\nlr = [0.1]\n'
    )


def test_a_failed_trial_says_why_everywhere_and_is_retried(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(write_blobs(tmp_path)))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.toml").write_text(_flaky_spec(tmp_path))
    (tmp_path / "broken").write_text("")
    runner = CliRunner()
    why = "RuntimeError: the flaky model is broken today"
    r = runner.invoke(main, ["study", "run", "f.toml", "--store", "f.db", "--out", "f.html"])
    assert r.exit_code == 0, r.output
    assert f"failed ({why})" in r.output
    assert why in (tmp_path / "f.html").read_text()
    r = runner.invoke(main, ["study", "status", "f.db"])
    assert why in r.output and "--retry-failed" in r.output
    (tmp_path / "broken").unlink()
    r = runner.invoke(main, ["study", "run", "f.toml", "--store", "f.db", "--no-report"])
    assert r.exit_code == 0 and "1 already finished" in r.output  # a plain rerun keeps it
    r = runner.invoke(
        main, ["study", "run", "f.toml", "--store", "f.db", "--no-report", "--retry-failed"]
    )
    assert r.exit_code == 0, r.output
    with Store(tmp_path / "f.db") as s:
        assert [(t.status, t.attempts, t.reason) for t in s.trials()] == [("done", 2, "")]


def test_a_device_this_machine_lacks_is_refused_before_any_trial(tmp_path, monkeypatch):
    import torch

    monkeypatch.syspath_prepend(str(write_blobs(tmp_path)))
    monkeypatch.chdir(tmp_path)
    missing = ["cuda:7", "tpu"]
    missing += [] if torch.cuda.is_available() else ["cuda"]
    missing += [] if torch.backends.mps.is_available() else ["mps"]
    for device in missing:
        (tmp_path / "d.toml").write_text(_flaky_spec(tmp_path, f'device = "{device}"\n'))
        r = CliRunner().invoke(main, ["study", "run", "d.toml", "--store", "d.db"])
        assert r.exit_code == 1 and "device:" in r.output and device in r.output, r.output
        assert "Traceback" not in r.output
        assert not (tmp_path / "d.db").exists()


def test_a_binary_or_non_utf8_spec_is_refused_naming_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bin.toml").write_bytes(b'name = "x"\n\x00\x01\x02')
    (tmp_path / "latin.toml").write_bytes('name = "caf\u00e9"\n'.encode("latin-1"))
    for name in ("bin.toml", "latin.toml"):
        r = CliRunner().invoke(main, ["study", "run", name])
        assert r.exit_code == 1 and "Traceback" not in r.output, r.output
        assert f"{name} is not a TOML text file" in r.output


def _refused_without_a_store(tmp_path, toml: str, *args: str):
    (tmp_path / "e.toml").write_text(toml)
    r = CliRunner().invoke(main, ["study", "run", "e.toml", "--store", "e.db", *args])
    assert r.exit_code == 1 and "Traceback" not in r.output, r.output
    assert not any(p.name.startswith("e.db") for p in tmp_path.iterdir())
    return " ".join(r.output.split())


def test_errors_before_any_trial_are_one_paragraph_and_leave_no_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    head = 'name = "e"\n[[optimizers]]\nname = "sgd"\n[[problems]]\n'
    out = _refused_without_a_store(tmp_path, head + 'name = "moons"\noptions = { n = -5 }\n')
    assert "problems[0].options.n:" in out
    missing = tmp_path / "no-such-folder"
    out = _refused_without_a_store(
        tmp_path, head + f'name = "mnist"\noptions = {{ path = "{missing}" }}\n'
    )
    assert "problems[0].options.path:" in out and "no-such-folder" in out
    out = _refused_without_a_store(tmp_path, head + 'name = "nowhere_module:make"\n')
    assert "problems[0].name:" in out and "PYTHONPATH" in out
    out = _refused_without_a_store(
        tmp_path,
        head + 'name = "moons"\noptions = { n = 100 }\n',
        "--executor",
        "ray",
        "--address",
        "auto",
    )
    assert "no Ray cluster could be reached" in out and "ray start --head" in out


class _FakeStore:
    """What ``summary_lines`` reads of a store: one finished problem, sgd at three lrs."""

    def __init__(self):
        from ravine.study.records import Interval, MetricRow, ProblemSpec, TrialConfig
        from ravine.study.store import StoredTrial

        self._trials, self._metrics = [], {}
        for i, (lr, final) in enumerate([(0.01, 0.5), (0.1, 0.6), (1.0, 0.9)]):
            config = TrialConfig(
                ProblemSpec("p", {}, "P"), "sgd", "sgd", {"lr": lr}, 0, Interval("steps", 10),
                8, Interval("steps", 10), schedules={"lr": "cosine:10"},
            )  # fmt: skip
            self._trials.append(StoredTrial(i, f"h{i}", config, "grid", "done"))
            self._metrics[i] = [MetricRow(10, 1.0, 0.1, final, 0.1, final, lr, 1.0)]

    def trials(self, status=None):
        return self._trials

    def problem_info(self):
        return {"P": {"target": None, "higher_is_better": True}}

    def metrics(self, ids):
        return self._metrics


def test_status_summary_shows_schedules_and_grid_edges():
    from ravine.cli.study import summary_lines

    text = "\n".join(summary_lines(_FakeStore()))
    assert "lr=1 [lr=cosine:10] (lr at grid edge)" in text
