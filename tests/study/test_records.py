"""The typed records: a trial config reads and writes the stored JSON unchanged (so its hash,
the trial's identity, is stable), resolves its optimizer once, and a result's rows are
metric rows with named fields."""

from __future__ import annotations

import json
import math

import pytest

import ravine.optim.registry as registry
import ravine.study.spec as spec_module
from ravine.study import run_study, run_trial
from ravine.study.protocols import first_stage
from ravine.study.records import (
    METRIC_COLUMNS,
    EpochEvent,
    Interval,
    MetricRow,
    TrialConfig,
    TrialResult,
    trial_score,
)
from ravine.study.schema import SCHEMA
from ravine.study.spec import Spec
from ravine.study.store import config_hash
from support.study import tiny_spec

# a trial config exactly as the store has always kept it (the JSON of a released store)
STORED = {
    "batch_size": 50,
    "budget": {"steps": 6},
    "device": "cpu",
    "eval_every": {"steps": 3},
    "hyperparameters": {"betas": [0.9, 0.99], "lr": 0.001},
    "optimizer": {"label": "adam", "name": "adam"},
    "problem": {
        "label": "moons(hidden=4,n=100)",
        "name": "moons",
        "options": {"hidden": 4, "n": 100},
        "target": 0.8,
    },
    "save_model": True,
    "schedules": {"lr": "cosine:6"},
    "seed": 0,
    "threads": 1,
}


def test_a_stored_config_reads_into_fields_and_writes_back_unchanged():
    config = TrialConfig.from_dict(STORED)
    assert config.problem.label == "moons(hidden=4,n=100)" and config.problem.target == 0.8
    assert config.hyperparameters == {"betas": (0.9, 0.99), "lr": 0.001}  # tuples, as built
    assert config.budget == Interval("steps", 6) and config.budget.steps(per_epoch=2) == 6
    assert Interval("epochs", 3).steps(per_epoch=4) == 12
    assert config.to_dict() == STORED
    assert json.loads(json.dumps(config.to_dict())) == STORED
    assert config_hash(config) == config_hash(STORED)
    assert TrialConfig.of(config) is config and TrialConfig.of(STORED) == config


def test_protocol_configs_keep_the_stored_form():
    """A config made from a spec writes every field the store has always held."""
    spec = Spec.from_dict(tiny_spec(seeds=[0]), check_problems=False)
    _, configs = first_stage(spec)
    for c in configs:
        data = c.to_dict()
        assert set(data) == set(STORED)
        assert TrialConfig.from_dict(data) == c


def test_the_optimizer_is_resolved_once_per_trial(monkeypatch, user_module):
    calls = []
    resolve = registry.resolve
    monkeypatch.setattr(registry, "resolve", lambda name: calls.append(name) or resolve(name))
    result = run_trial({**STORED, "problem": {"name": "ravine_test_blobs:blobs", "label": "b"}})
    assert result.status == "done", result.error
    assert calls == ["adam"]


@pytest.mark.parametrize("batch", [True, False], ids=["batched", "one-at-a-time"])
def test_a_study_resolves_each_optimizer_once_per_trial(monkeypatch, user_module, tmp_path, batch):
    """Once per optimizer entry (the spec's check) and once per trial, however many times
    the driver groups, batches and describes the trial."""
    calls = []
    resolve = registry.resolve
    counted = lambda name: calls.append(name) or resolve(name)  # noqa: E731
    monkeypatch.setattr(registry, "resolve", counted)
    monkeypatch.setattr(spec_module, "resolve", counted)
    spec = tiny_spec(seeds=[0, 1], budget={"steps": 2})  # sgd: 3 lrs, adam: 1 lr
    run_study(spec, tmp_path / "s.db", progress=False, batch=batch)
    assert sorted(calls) == sorted(["sgd", "adam"] + ["sgd"] * 6 + ["adam"] * 2)


def test_metric_rows_have_named_fields_in_the_stored_column_order():
    row = MetricRow(6, 1.0, 0.5, 0.8, 0.6, 0.75, 0.1, 2.5)
    assert METRIC_COLUMNS == (
        "step",
        "epoch",
        "train_loss",
        "train_metric",
        "val_loss",
        "val_metric",
        "lr",
        "wall_time",
        "estimated_lr",
    )
    assert row.val_metric == row[METRIC_COLUMNS.index("val_metric")] == 0.75
    assert row._asdict()["lr"] == 0.1
    assert math.isnan(row.estimated_lr)  # optional: rows of eight values still build
    for column in METRIC_COLUMNS:  # the store's metrics table has each column
        assert f"    {column} " in SCHEMA
    assert EpochEvent(1, 2, 6, 12, 0.75).val_metric == 0.75


def test_trial_result_fields_and_score():
    rows = [
        MetricRow(0, 0.0, 1.0, 0.1, 1.0, 0.1, 0.1, 0.0),
        MetricRow(6, 1.0, 0.5, 0.8, 0.6, 0.9, 0.1, 1.0),
    ]
    done = TrialResult("done", rows, steps=6)
    assert done.final is rows[-1] and done.val_metric == 0.9
    assert trial_score("done", done.final) == 0.9
    assert trial_score("diverged", done.final) is None
    assert trial_score("done", None) is None
    assert trial_score("done", rows[-1]._replace(val_metric=math.nan)) is None
    failed = TrialResult.failed(RuntimeError("boom"))
    assert failed.status == "failed" and failed.error == "RuntimeError: boom" and not failed.rows
    assert math.isnan(failed.val_metric)
