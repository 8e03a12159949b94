"""The results store: atomic claims, conditional completion, stale claims taken back."""

from __future__ import annotations

import subprocess
import sys
import time

from ravine.study.store import Store, config_hash


def config(i: int) -> dict:
    return {
        "problem": {"name": "p", "options": {}, "label": "p"},
        "optimizer": {"name": "sgd", "label": "sgd"},
        "hyperparameters": {"lr": 0.1 * (i + 1)},
        "seed": 0,
    }


def result(rows=((0, 0.0, 1.0, 0.5, 1.1, 0.4, 0.1, 0.01),), status="done"):
    return {
        "status": status,
        "rows": list(rows),
        "steps": 3,
        "wall_time": 0.5,
        "error": None,
        "model": b"weights",
        "environment": {"versions": {}, "device": "cpu"},
    }


def test_add_is_idempotent_by_config_hash(tmp_path):
    with Store(tmp_path / "s.db") as s:
        assert s.add_trials([config(0), config(1)]) == 2
        assert s.add_trials([config(1), config(2)]) == 1
        assert s.counts()["pending"] == 3
        hashes = [t["hash"] for t in s.trials()]
        assert hashes == [config_hash(config(i)) for i in range(3)]
        # key order does not change the identity of a trial
        shuffled = dict(reversed(list(config(0).items())))
        assert s.add_trials([shuffled]) == 0


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
        assert a.metrics([tid])[tid][0]["val_metric"] == 0.4
        assert a.model(tid) == b"weights"
        t = {x["id"]: x for x in a.trials()}[tid]
        assert t["status"] == "done" and t["attempts"] == 1 and t["steps"] == 3


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
        attempts = {t["id"]: t["attempts"] for t in s.trials()}
        assert attempts == {t0: 2, t1: 2}
        # the original owner of t1 can no longer record it
        assert not s.complete(t1, "otherhost:1:y", result())


def test_release_returns_claims(tmp_path):
    with Store(tmp_path / "s.db") as s:
        s.add_trials([config(0)])
        [(t, _)] = s.claim("r", 1)
        s.release("r", [t])
        assert s.counts()["pending"] == 1
