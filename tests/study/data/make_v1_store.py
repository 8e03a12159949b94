"""Writes ``v1_store.db``: a study store as ravine wrote it before the typed records (schema
version 1, trial configs as JSON), stopped part way so that a test can load, report on and
resume it. Run once with the ravine of that time on the path; the file is committed.

    python tests/study/data/make_v1_store.py
"""

from pathlib import Path

from ravine.study import run_study

SPEC = {
    "name": "v1",
    "seeds": [0, 1],
    "budget": {"steps": 6},
    "batch_size": 50,
    "eval_every": {"steps": 3},
    "protocol": {"kind": "two_stage"},
    "problems": [{"name": "moons", "options": {"n": 100, "hidden": 4}, "target": 0.8}],
    "optimizers": [
        {"name": "sgd", "lr": [0.05, 0.5]},
        {"name": "adam", "lr": "log:1e-3:1e-2:2", "schedules": {"lr": "cosine:6"}},
    ],
}

if __name__ == "__main__":
    path = Path(__file__).with_name("v1_store.db")
    path.unlink(missing_ok=True)
    run_study(SPEC, path, progress=False, max_trials=3)
