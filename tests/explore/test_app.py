"""The explorer's API: its JSON checked against ravine.race called directly, bad requests
answered 4xx with a JSON error, and no file served outside the page's own assets."""

from __future__ import annotations

import json
import math
import warnings

import pytest
import torch

pytest.importorskip("starlette")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is what it tests with
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import ravine
from ravine.explore.app import create_app
from support.streamed import check_against

RACE = {
    "landscape": "rosenbrock",
    "starts": [[-1.5, 2.0], [0.5, -0.5]],
    "steps": 60,
    "optimizers": [
        {"name": "sgd", "hyperparameters": {"lr": 0.001}},
        {"name": "adam", "hyperparameters": {"lr": 0.05, "betas": [0.8, 0.99]}},
        {"name": "momentum", "label": "fan", "lr_grid": {"low": 1e-4, "high": 1e-2, "n": 3}},
    ],
}


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app(), raise_server_exceptions=False)


def reference():
    return ravine.race(
        "rosenbrock",
        {
            "sgd": {"lr": 0.001},
            "adam": {"lr": 0.05, "betas": (0.8, 0.99)},
            "fan": {"optimizer": "momentum", "lr": [1e-4 * 10**k for k in range(3)]},
        },
        starts=RACE["starts"],
        steps=60,
    )


def close(sent, expected: torch.Tensor) -> None:
    got = torch.tensor([[math.nan if v is None else v for v in row] for row in sent])
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-6, atol=1e-12, equal_nan=True)


def check_runs(runs, result) -> None:
    assert [r["label"] for r in runs] == ["sgd", "adam", "fan"]
    for run in runs:
        ref = result[run["label"]]
        assert run["lrs"] == pytest.approx(ref.lrs)
        assert run["outcome"] == [
            ref.outcome_names()[i * 2 : i * 2 + 2] for i in range(len(ref.lrs))
        ]
        for i in range(len(ref.lrs)):
            for k in range(2):
                close(run["paths"][i][k], ref.positions[i, k, 0])
                close([run["losses"][i][k]], ref.losses[i, k, 0][None])


def test_race_json_matches_ravine_race(client):
    reply = client.post("/api/race?stream=0", json=RACE)
    assert reply.status_code == 200
    body = reply.json()
    assert body["steps"] == 60 and body["starts"] == RACE["starts"]
    check_runs(body["runs"], reference())


def test_race_streams_chunks_then_outcomes(client):
    with client.stream("POST", "/api/race", json=RACE) as reply:
        lines = [json.loads(line) for line in reply.iter_lines() if line]
    kinds = [m["type"] for m in lines]
    assert kinds[0] == "race" and kinds[-4:] == ["run", "run", "run", "done"]
    assert set(kinds[1:-4]) == {"chunk"} and len(kinds) - 5 == 2  # steps 1-20, 21-60
    check_against(lines[:-1], reference())


def test_moons_batch_size_changes_the_noise(client):
    def path(batch):
        body = {
            "landscape": "moons",
            "options": {"batch_size": batch},
            "steps": 30,
            "optimizers": [{"name": "sgd"}],
        }
        reply = client.post("/api/race?stream=0", json=body)
        assert reply.status_code == 200
        return reply.json()["runs"][0]["paths"][0][0]

    ref = ravine.race(ravine.landscapes.get("moons", batch_size=4), "sgd", steps=30)
    close(path(4), ref["sgd"].positions[0, 0, 0])
    assert path(4) != path(64)


def test_landscapes_and_their_grids(client):
    names = [item["name"] for item in client.get("/api/landscapes").json()["landscapes"]]
    assert "rosenbrock" in names and "moons" in names
    land = client.get("/api/landscapes/rosenbrock").json()
    assert land["log"] and land["minima"][0]["location"] == pytest.approx([1.0, 1.0])
    assert len(land["x"]) == len(land["z"][0]) and len(land["y"]) == len(land["z"])
    # log-spaced: z is log10(f - f*), so the levels span decades
    assert land["levels"][-1] / max(land["levels"][0], 1e-300) > 1e3
    saddle = client.get("/api/landscapes/himmelblau").json()
    assert len(saddle["saddles"]) == 4 and not client.get("/api/landscapes/saddle").json()["log"]


def test_optimizers_have_controls_from_the_registry(client):
    listed = {o["name"]: o for o in client.get("/api/optimizers/rosenbrock").json()["optimizers"]}
    assert "adam" in listed and "gauss_newton" in listed and "kfac" not in listed
    adam = {c["name"]: c for c in listed["adam"]["controls"]}
    assert adam["lr"]["kind"] == "log" and adam["lr"]["default"] == listed["adam"]["lr"]
    assert adam["betas"] == {
        "name": "betas",
        "default": [0.9, 0.999],
        "kind": "betas",
        "count": 2,
        "high": 0.9999,
    }
    assert adam["amsgrad"]["kind"] == "switch" and adam["eps"]["kind"] == "log"
    assert {c["name"]: c["kind"] for c in listed["momentum"]["controls"]}["momentum"] == "linear"
    moons = {o["name"] for o in client.get("/api/optimizers/moons").json()["optimizers"]}
    assert "kfac" in moons


BAD = [
    ({"landscape": "nope", "optimizers": [{"name": "sgd"}]}, 400, "landscape"),
    ({"landscape": "rosenbrock", "optimizers": [{"name": "nope"}]}, 400, "optimizers"),
    ({"landscape": "rosenbrock", "optimizers": []}, 400, "optimizers"),
    (
        {
            "landscape": "rosenbrock",
            "optimizers": [{"name": "adam", "hyperparameters": {"betas": [0.9, 1.5]}}],
        },
        400,
        "optimizers.betas",
    ),
    (
        {"landscape": "rosenbrock", "optimizers": [{"name": "sgd", "hyperparameters": {"lr": -1}}]},
        400,
        "optimizers.lr",
    ),
    (
        {
            "landscape": "rosenbrock",
            "optimizers": [{"name": "sgd", "hyperparameters": {"nope": 1}}],
        },
        400,
        "optimizers.nope",
    ),
    ({"landscape": "rosenbrock", "steps": 10**6, "optimizers": [{"name": "sgd"}]}, 400, "steps"),
    ({"landscape": "rosenbrock", "steps": "10", "optimizers": [{"name": "sgd"}]}, 400, "steps"),
    (
        {"landscape": "rosenbrock", "starts": [[1, 2, 3]], "optimizers": [{"name": "sgd"}]},
        400,
        "starts",
    ),
    (
        {"landscape": "rosenbrock", "starts": [[99, 0]], "optimizers": [{"name": "sgd"}]},
        400,
        "starts",
    ),
    (
        {"landscape": "rosenbrock", "starts": [[0, 0]] * 9, "optimizers": [{"name": "sgd"}]},
        400,
        "starts",
    ),
    (
        {"landscape": "moons", "options": {"batch_size": 0}, "optimizers": [{"name": "sgd"}]},
        400,
        "options",
    ),
    (
        {"landscape": "moons", "options": {"n_samples": 10**9}, "optimizers": [{"name": "sgd"}]},
        400,
        "options",
    ),
    (
        {"landscape": "rosenbrock", "options": {"dim": 3}, "optimizers": [{"name": "sgd"}]},
        400,
        "options",
    ),
    ({"landscape": "rosenbrock", "optimizers": [{"name": "kfac"}]}, 400, "optimizers"),
    (
        {
            "landscape": "rosenbrock",
            "optimizers": [{"name": "lbfgs", "hyperparameters": {"max_iter": 10**6}}],
        },
        400,
        "max_iter",
    ),
    (
        {"landscape": "rosenbrock", "optimizers": [{"name": "sgd", "schedules": {"lr": "nope:1"}}]},
        400,
        "schedules",
    ),
    (
        {
            "landscape": "rosenbrock",
            "optimizers": [{"name": "sgd", "lr_grid": {"low": 1, "high": 0.1, "n": 4}}],
        },
        400,
        "lr_grid",
    ),
    (
        {
            "landscape": "rosenbrock",
            "steps": 2000,
            "starts": [[0, 0]] * 8,
            "optimizers": [{"name": "sgd", "lr_grid": {"low": 1e-4, "high": 1, "n": 32}}],
        },
        413,
        "steps",
    ),
    (
        {
            "landscape": "rosenbrock",
            "steps": 2000,
            "starts": [[0, 0]] * 8,
            "optimizers": [{"name": "newton", "lr_grid": {"low": 0.1, "high": 1, "n": 2}}],
        },
        413,
        "steps",
    ),
    ([1, 2], 400, None),
]


@pytest.mark.parametrize(("body", "status", "field"), BAD)
def test_bad_race_requests_get_a_json_4xx(client, body, status, field):
    reply = client.post("/api/race", json=body)
    assert reply.status_code == status, reply.text[:300]
    assert reply.headers["content-type"] == "application/json"
    assert reply.json()["field"] == field and "Traceback" not in reply.text


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("POST", "/api/race", 400),  # not JSON
        ("GET", "/api/race", 405),
        ("GET", "/api/landscapes/nope", 400),
        ("GET", "/api/landscapes/moons?batch_size=abc", 400),
        ("GET", "/api/optimizers/nope", 400),
        ("POST", "/api/download/exe", 400),
        ("GET", "/assets/app.py", 404),
        ("GET", "/assets/..%2Fapp.py", 404),
        ("GET", "/assets/%2e%2e/requests.py", 404),
        ("GET", "/assets/index.html", 404),
        ("GET", "/static/explore.js", 404),
        ("GET", "/../../pyproject.toml", 404),
    ],
)
def test_bad_requests_and_foreign_files_get_4xx(client, method, url, status):
    reply = client.request(method, url, content=b"{not json")
    assert reply.status_code == status
    assert "error" in reply.json() and "Traceback" not in reply.text


def test_oversized_body_is_refused(client):
    reply = client.post("/api/race", content=b" " * 70_000)
    assert reply.status_code == 413


def test_page_and_its_assets_are_served_with_no_outside_source(client):
    page = client.get("/")
    assert (
        page.status_code == 200 and "connect-src 'self'" in page.headers["content-security-policy"]
    )
    assert "http://" not in page.text and "https://" not in page.text
    scripts = ("page.js", "explore-race.js", "explore-draw.js", "explore.js")
    for name in (*scripts, "explore.css", "plotly.min.js"):
        reply = client.get(f"/assets/{name}")
        assert reply.status_code == 200 and len(reply.content) > 500
        assert f'src="/assets/{name}"' in page.text or not name.endswith(".js")
    for name in scripts:
        assert "https://" not in client.get(f"/assets/{name}").text


@pytest.mark.parametrize("fmt", ["png", "gif"])
def test_download_is_drawn_by_the_race_plotting_code(client, fmt):
    body = {**RACE, "steps": 20, "optimizers": RACE["optimizers"][:2]}
    reply = client.post(f"/api/download/{fmt}?frames=4", json=body)
    assert reply.status_code == 200, reply.text[:300]
    magic = {"png": b"\x89PNG", "gif": b"GIF8"}[fmt]
    assert reply.content.startswith(magic)
    assert f"ravine-rosenbrock.{fmt}" in reply.headers["content-disposition"]


def test_mp4_without_ffmpeg_is_a_clear_503(client, monkeypatch):
    import ravine.plot

    def missing():
        raise RuntimeError("MP4 output needs the ffmpeg binary")

    monkeypatch.setattr(ravine.plot, "bundled_ffmpeg", missing)
    reply = client.post("/api/download/mp4", json=RACE)
    assert reply.status_code == 503 and "ffmpeg" in reply.json()["error"]


def test_a_stale_race_over_http_ends_early(server):
    import httpx

    big = {**RACE, "steps": 2000, "starts": [[-1.5, 2.0]] * 8}
    page = {"X-Ravine-Client": "stale-test"}
    http = httpx.Client(base_url=server, timeout=60)
    with http, http.stream("POST", "/api/race", json=big, headers=page) as old:
        lines = old.iter_lines()
        assert json.loads(next(lines))["type"] == "race"
        assert json.loads(next(lines))["done"] == 20
        newer = http.post("/api/race?stream=0", json=RACE, headers=page)
        rest = [json.loads(line) for line in lines if line]
    assert newer.status_code == 200 and len(newer.json()["runs"]) == 3
    assert rest[-1]["type"] == "cancelled"
    assert all(m["type"] == "chunk" and m["done"] < 2000 for m in rest[:-1])


def test_the_server_warms_up_as_it_starts():
    app = create_app(warm=True)
    with TestClient(app):  # runs the lifespan: the warm-up starts in the background
        assert app.state.warmed.wait(120)
    assert not create_app().state.warmed.is_set()  # off unless asked
