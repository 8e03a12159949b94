"""The results store: atomic claims, conditional completion, stale claims taken back."""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import time
from pathlib import Path

from ravine.study.records import Interval, MetricRow, ProblemSpec, TrialConfig, TrialResult
from ravine.study.store import Store, config_hash


def config(i: int) -> TrialConfig:
    return TrialConfig(
        problem=ProblemSpec("p", {}, "p"),
        optimizer="sgd",
        optimizer_label="sgd",
        hyperparameters={"lr": 0.1 * (i + 1)},
        seed=0,
        budget=Interval("steps", 3),
        batch_size=8,
        eval_every=Interval("steps", 3),
    )


ROW = MetricRow(0, 0.0, 1.0, 0.5, 1.1, 0.4, 0.1, 0.01)


def result(status: str = "done") -> TrialResult:
    return TrialResult(status, [ROW], 3, 0.5, None, b"weights", {"versions": {}, "device": "cpu"})


def test_add_is_idempotent_by_config_hash(tmp_path):
    with Store(tmp_path / "s.db") as s:
        assert s.add_trials([config(0), config(1)]) == 2
        assert s.add_trials([config(1), config(2)]) == 1
        assert s.counts()["pending"] == 3
        hashes = [t.hash for t in s.trials()]
        assert hashes == [config_hash(config(i)) for i in range(3)]
        # key order does not change the identity of a trial
        shuffled = dict(reversed(list(config(0).to_dict().items())))
        assert config_hash(shuffled) == config_hash(config(0))


def test_claims_are_exclusive_and_completion_is_conditional(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as a, Store(path) as b:
        a.add_trials([config(i) for i in range(5)])
        got_a = a.claim("host:1:a", 3)
        got_b = b.claim("host:1:b", 3)
        ids_a, ids_b = {i for i, _ in got_a}, {i for i, _ in got_b}
        assert len(ids_a) == 3 and len(ids_b) == 2 and not ids_a & ids_b
        assert b.claim("host:1:b", 1) == []  # nothing pending, claims are fresh
        tid = min(ids_a)
        assert not b.complete(tid, "host:1:b", result())  # not b's trial: nothing written
        assert b.metrics([tid]) == {}
        assert a.complete(tid, "host:1:a", result())
        assert a.metrics([tid])[tid][0].val_metric == 0.4
        assert a.model(tid) == b"weights"
        t = {x.id: x for x in a.trials()}[tid]
        assert t.status == "done" and t.attempts == 1 and t.steps == 3


def test_a_batch_is_claimed_by_its_ids(tmp_path):
    """A runner claims the batch it chose: exactly those trials still free, none twice."""
    path = tmp_path / "s.db"
    with Store(path) as a, Store(path) as b:
        a.add_trials([config(i) for i in range(5)])
        assert [i for i, _ in a.claim("host:1:a", ids=[4, 2])] == [4, 2]
        got = b.claim("host:1:b", ids=[1, 2, 3, 4])  # 2 and 4 are a's
        assert [i for i, _ in got] == [1, 3] and got[0][1] == config(0)
        assert b.claim("host:1:b", ids=[]) == []
        assert a.counts()["running"] == 4 and a.counts()["pending"] == 1


def test_stale_and_dead_claims_are_taken_back(tmp_path):
    path = tmp_path / "s.db"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    with Store(path) as s:
        s.add_trials([config(0), config(1)])
        [(t0, _)] = s.claim(f"{socket.gethostname()}:{dead.pid}:x", 1)  # a runner that died
        [(t1, _)] = s.claim("otherhost:1:y", 1)  # alive elsewhere, beating
        again = s.claim("me:2:z", 2, stale_after=60)
        assert [i for i, _ in again] == [t0]
        s.conn.execute("UPDATE trials SET heartbeat = ? WHERE id = ?", (time.time() - 100, t1))
        again = s.claim("me:2:z", 2, stale_after=60)
        assert [i for i, _ in again] == [t1]
        attempts = {t.id: t.attempts for t in s.trials()}
        assert attempts == {t0: 2, t1: 2}
        # the original owner of t1 can no longer record it
        assert not s.complete(t1, "otherhost:1:y", result())


def test_release_returns_claims(tmp_path):
    with Store(tmp_path / "s.db") as s:
        s.add_trials([config(0)])
        [(t, _)] = s.claim("r", 1)
        s.release("r", [t])
        assert s.counts()["pending"] == 1


def test_queries_by_stage_and_final_rows(tmp_path):
    """What the protocols ask of the store: a stage's counts and finished trials, and each
    trial's last metric row."""
    with Store(tmp_path / "s.db") as s:
        s.add_trials([config(0), config(1)], stage="tune")
        s.add_trials([config(2)], stage="final")
        assert s.counts(stage="tune")["pending"] == 2 and s.counts(stage="final")["pending"] == 1
        [(tid, got)] = s.claim("r", 1)
        assert got == config(0)
        later = ROW._replace(step=3, val_metric=0.9)
        assert s.complete(tid, "r", TrialResult("done", [ROW, later], 3))
        assert s.counts(stage="tune") == {**s.counts(stage="tune"), "pending": 1, "done": 1}
        [done] = s.trials("done", stage="tune")
        assert done.id == tid and done.config == config(0) and done.seed == 0
        assert done.optimizer == "sgd" and done.hyperparameters == {"lr": 0.1}
        assert s.trials(stage="final")[0].config == config(2)
        assert s.final_rows([tid, tid + 1]) == {tid: later}
        assert s.metrics([tid])[tid] == [ROW, later]
        assert s.problem_info() == {}


def test_a_store_written_before_the_typed_records_loads_reports_and_resumes(tmp_path):
    """``data/v1_store.db`` was written by ravine before the typed records (see
    ``data/make_v1_store.py``): a two-stage study stopped after 3 of its 4 tuning trials.
    It loads, reports, and resumes: the last tuning trial and the reruns of each optimizer's
    best setting run, the finished ones are kept, and every trial has the config hash the
    earlier ravine gave it (so a store may be resumed by either)."""
    import shutil
    import sys

    from ravine.report import write_report
    from ravine.study import Results, run_study, summarize

    data = Path(__file__).with_name("data")
    path = tmp_path / "v1.db"
    shutil.copy(data / "v1_store.db", path)
    with Store(path) as s:
        before = {t.id: t for t in s.trials()}
        assert [t.status for t in before.values()] == ["done"] * 3 + ["pending"]
        assert {r["optimizer"] for r in summarize(Results.from_store(s))} == {"sgd", "adam"}
    assert write_report(path, tmp_path / "r.html").read_text().count("<img") == 3
    sys.path.insert(0, str(data))
    try:
        from make_v1_store import SPEC
    finally:
        sys.path.remove(str(data))
    run_study(SPEC, path, progress=False)
    with Store(path) as s:
        after = {t.id: t for t in s.trials()}
    for i, t in before.items():
        if t.status == "done":
            assert after[i].finished == t.finished and after[i].attempts == 1
    assert [t.stage for t in after.values()] == ["tune"] * 4 + ["final"] * 2
    assert all(t.status == "done" for t in after.values())
    assert {t.hash for t in after.values()} == V1_HASHES


# the six trials of data/make_v1_store.py's study, as the earlier ravine hashed them when it
# ran the study to the end
V1_HASHES = {
    "15d86deba45dc07a9d007cfe15f82e7b5fa2f3af0ba702803c09d355933d48db",
    "4bc5237e3f3e6ed6972fcc5da0a83a69eb5520c5959743fd65f7c1c1af7178b7",
    "5b9e9cfd5ac1c711a131384adba4189e47f417aeb07fd4a54cf303adc2489e8b",
    "678c877d373e593e351a23d5646ef7c5efd705d462f13566dc03966569908a1d",
    "a0e84ae41acd8ccf0c9890407d04812a6fcec9bb73053282295df608e6c8a5bc",
    "8ada9c21df63b294925f7f76e9c908886131cc321eb702588c8b824ab496b86d",
}


def test_drivers_opening_one_new_store_at_once_all_get_it(tmp_path):
    """Drivers opening one new store at the same moment (switching a new file to WAL takes
    a lock SQLite's busy timeout does not cover): each waits its turn, none fails."""
    import threading

    for k in range(15):
        path = tmp_path / f"new{k}.db"
        start, errors = threading.Barrier(6), []

        def open_store(path=path, start=start, errors=errors):
            start.wait()
            try:
                Store(path, timeout=10).close()
            except Exception as err:  # collected: an assertion in a thread would be lost
                errors.append(err)

        threads = [threading.Thread(target=open_store) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


def test_a_store_without_the_estimated_lr_column_loads_and_gains_it_on_write(tmp_path):
    """``data/v1_store.db`` predates ``estimated_lr``: its rows read it as None, reading
    changes nothing, and the first result written adds the column."""
    import shutil
    import sqlite3

    path = tmp_path / "v1.db"
    shutil.copy(Path(__file__).with_name("data") / "v1_store.db", path)

    def columns() -> set[str]:
        with contextlib.closing(sqlite3.connect(path)) as conn:
            return {r[1] for r in conn.execute("PRAGMA table_info(metrics)")}

    assert "estimated_lr" not in columns()
    with Store(path) as s:
        rows = s.metrics()
        assert rows and all(math.isnan(r.estimated_lr) for rs in rows.values() for r in rs)
        tid = next(iter(rows))
        assert s.final_rows([tid])[tid] == rows[tid][-1]
    assert "estimated_lr" not in columns()
    with Store(path) as s:
        [(tid, _)] = s.claim("r")
        row = ROW._replace(estimated_lr=0.25)
        assert s.complete(tid, "r", TrialResult("done", [row], steps=0))
        assert s.metrics([tid])[tid] == [row]
    assert "estimated_lr" in columns()
