"""Fixtures for study tests: a tiny user problem (a ``module:function`` reference written to a
temporary folder, pure torch so subprocesses start fast) and one tiny finished study."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.study import BLOBS, tiny_spec


@pytest.fixture(scope="session")
def user_module(tmp_path_factory) -> Path:
    """Folder holding ``ravine_test_blobs.py``, put on sys.path and PYTHONPATH."""
    folder = tmp_path_factory.mktemp("usermod")
    (folder / "ravine_test_blobs.py").write_text(BLOBS)
    sys.path.insert(0, str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_store(user_module, tmp_path_factory) -> Path:
    """A finished tiny study: blobs and two-moons problems, SGD (3 lrs) and Adam, 2 seeds."""
    from ravine.study import run_study

    path = tmp_path_factory.mktemp("tiny") / "tiny.db"
    spec = tiny_spec(
        problems=[
            {"name": "ravine_test_blobs:blobs", "label": "blobs"},
            {"name": "moons", "options": {"n": 200, "hidden": 8}, "label": "moons", "target": 0.8},
        ]
    )
    run_study(spec, path, progress=False)
    return path
