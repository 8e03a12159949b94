"""The study JSON the study page draws: the numbers of ravine.study.summary, a version that
changes only when trials move, and a store left byte for byte as it was."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("starlette")

from starlette.testclient import TestClient

from ravine.explore.app import create_app
from ravine.report.interactive import jsonable
from ravine.study import Store
from ravine.study.summary import Results, sensitivity, summarize


@pytest.fixture
def client(tiny_store):
    return TestClient(create_app([tiny_store]))


def test_the_study_json_is_ravine_study_summary(client, tiny_store):
    body = client.get("/api/studies/0").json()
    with Store(tiny_store) as s:
        results = Results.from_store(s)
        assert body["counts"] == s.counts()
        assert [t["id"] for t in body["trials"]] == [t.id for t in s.trials()]
        assert [t["status"] for t in body["trials"]] == [t.status for t in s.trials()]
    assert body["name"] == "tiny" and body["file"] == tiny_store.name
    assert body["summary"] == jsonable(summarize(results))
    assert [p["name"] for p in body["problems"]] == results.problems()
    for p in body["problems"]:
        assert p["sensitivity"] == jsonable(sensitivity(results, p["name"], "lr"))
        sens = p["figures"]["sensitivity"]["data"]
        assert {t["name"] for t in sens} == set(results.optimizers(p["name"]))
        sgd = next(t for t in sens if t["name"] == "sgd")
        rows = [r for r in p["sensitivity"] if r["optimizer"] == "sgd"]
        assert sgd["x"] == [r["lr"] for r in rows]
        assert sgd["y"] == [r["val_metric_mean"] for r in rows]
        curves = p["figures"]["curves"]["data"]
        assert {t["legendgroup"] for t in curves} == set(results.optimizers(p["name"]))


def test_a_trial_answers_its_rows_and_curves(client, tiny_store):
    with Store(tiny_store) as s:
        t = s.trials()[0]
        rows = s.metrics([t.id])[t.id]
    body = client.get(f"/api/studies/0/trials/{t.id}").json()
    assert body["trial"]["id"] == t.id and body["hyperparameters"] == t.hyperparameters
    assert [r["val_metric"] for r in body["rows"]] == [r.val_metric for r in rows]
    val = next(d for d in body["figure"]["data"] if d["name"] == "val metric")
    assert val["y"] == [r.val_metric for r in rows]


def test_since_the_same_version_nothing_is_sent(client):
    first = client.get("/api/studies/0").json()
    again = client.get("/api/studies/0", params={"since": first["version"]}).json()
    assert again == {"unchanged": True, "version": first["version"]}
    stale = client.get("/api/studies/0", params={"since": "old"}).json()
    assert stale["version"] == first["version"] and "summary" in stale


def test_a_finished_trial_changes_the_version_and_the_numbers(live_store):
    path, finish = live_store
    client = TestClient(create_app([path]))
    before = client.get("/api/studies/0").json()
    total = before["counts"]["pending"]
    assert total > 3 and before["counts"]["done"] == 0 and before["summary"] == []
    finish(3)
    after = client.get("/api/studies/0", params={"since": before["version"]}).json()
    assert after["version"] != before["version"]
    assert after["counts"]["done"] == 3 and after["counts"]["pending"] == total - 3
    with Store(path) as s:
        assert after["summary"] == jsonable(summarize(Results.from_store(s)))


def test_serving_leaves_the_store_byte_identical(tiny_store, tmp_path):
    path = tmp_path / "served.db"
    path.write_bytes(tiny_store.read_bytes())
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    client = TestClient(create_app([path]))
    for url in ("/api/studies", "/api/studies/0", "/api/studies/0/trials/1", "/study"):
        assert client.get(url).status_code == 200
    assert path.read_bytes() == tiny_store.read_bytes()
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["served.db"]


def test_find_stores_offers_only_stores(tiny_store, tmp_path):
    from ravine.explore.studies import find_stores

    (tmp_path / "a.db").write_bytes(tiny_store.read_bytes())
    (tmp_path / "b.db").write_text("not a store")
    (tmp_path / "c.txt").write_bytes(tiny_store.read_bytes())
    assert [p.name for p in find_stores(tmp_path)] == ["a.db"]
    assert (tmp_path / "b.db").read_text() == "not a store"
