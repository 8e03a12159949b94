"""Helpers for the study tests: a tiny user problem written as a module, small specs, and the
fixtures the study, report and command-line tests share (import them into a conftest)."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

BLOBS = textwrap.dedent(
    '''
    """Gaussian blobs: a user problem for the tests, built from torch alone."""
    import torch
    from torch import nn

    from ravine.problems import Problem


    def blobs(n=240, classes=3, features=5, hidden=16, log=None, data_seed=0, spread=2.0,
              mse=False):
        g = torch.Generator().manual_seed(data_seed)
        centers = spread * torch.randn(classes, features, generator=g)
        y = torch.randint(classes, (n,), generator=g)
        x = centers[y] + torch.randn(n, features, generator=g)
        split = n * 3 // 4

        def model():
            if log is not None:  # one line per model built: counts how often trials ran
                with open(log, "a") as f:
                    f.write("built\\n")
            return nn.Sequential(nn.Linear(features, hidden), nn.Tanh(), nn.Linear(hidden, classes))

        extra = {}
        if mse:  # squared error on one-hot targets: gradient descent blows up when lr is large
            extra["loss"] = lambda out, y: ((out - nn.functional.one_hot(y, classes)) ** 2).mean()
        return Problem(
            name="blobs", model=model, **extra, x_train=x[:split], y_train=y[:split],
            x_val=x[split:], y_val=y[split:], target=0.9,
        )
    '''
)

SRC = str(Path(__file__).resolve().parents[2] / "src")


def child_env(user_module: Path) -> dict[str, str]:
    """Environment for a child Python that imports this checkout and the user module."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([SRC, str(user_module), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


def tiny_spec(**overrides) -> dict:
    spec = {
        "name": "tiny",
        "seeds": [0, 1],
        "budget": {"epochs": 2},
        "batch_size": 30,
        "problems": [{"name": "ravine_test_blobs:blobs"}],
        "optimizers": [
            {"name": "sgd", "lr": {"log": [1e-2, 1.0, 3]}},
            {"name": "adam", "lr": [1e-2]},
        ],
    }
    spec.update(overrides)
    return spec


def write_blobs(folder: Path) -> Path:
    """Write ``ravine_test_blobs.py`` into ``folder``; returns the folder."""
    (folder / "ravine_test_blobs.py").write_text(BLOBS)
    return folder


_SHARED: dict[str, Path] = {}  # one user module and one tiny study per test session


@pytest.fixture(scope="session")
def user_module(tmp_path_factory) -> Path:
    """Folder holding ``ravine_test_blobs.py``, put on sys.path and PYTHONPATH."""
    if "user_module" not in _SHARED:
        folder = write_blobs(tmp_path_factory.mktemp("usermod"))
        sys.path.insert(0, str(folder))
        _SHARED["user_module"] = folder
    return _SHARED["user_module"]


@pytest.fixture(scope="session")
def tiny_store(user_module, tmp_path_factory) -> Path:
    """A finished tiny study: blobs and two-moons problems, SGD (3 lrs) and Adam, 2 seeds
    (run once per session, however many test folders ask for it)."""
    if "tiny_store" not in _SHARED:
        from ravine.study import run_study

        path = tmp_path_factory.mktemp("tiny") / "tiny.db"
        spec = tiny_spec(
            problems=[
                {"name": "ravine_test_blobs:blobs", "label": "blobs"},
                {
                    "name": "moons",
                    "options": {"n": 200, "hidden": 8},
                    "label": "moons",
                    "target": 0.8,
                },
            ]
        )
        run_study(spec, path, progress=False)
        _SHARED["tiny_store"] = path
    return _SHARED["tiny_store"]
