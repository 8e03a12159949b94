"""What a running study shows: its bar counts a running batch as its trials, and a line per
finished trial names it, its status and the time left."""

from __future__ import annotations

import io

import pytest

from ravine.study.display import StudyProgress
from ravine.study.records import EpochEvent, TrialConfig, TrialResult
from support.clock import Clock

CONFIG = {
    "problem": {"name": "ravine_test_blobs:blobs", "options": {}, "label": "blobs"},
    "optimizer": {"name": "sgd", "label": "sgd"},
    "hyperparameters": {"lr": 0.1},
    "seed": 0,
    "budget": {"steps": 10},
    "batch_size": 30,
    "eval_every": {"steps": 5},
}


def test_a_running_batch_counts_as_its_trials():
    """The study's bar: the finished share of a running batch of T trials is T times the
    share of one, and trials finished before the run do not speed up the ETA."""
    clock, out = Clock(), io.StringIO()
    prog = StudyProgress(out, clock=clock)
    prog.counts(done=10, total=30)  # 10 finished in an earlier run
    config = TrialConfig.from_dict(CONFIG)
    clock.tick(10)
    prog.epoch(config, EpochEvent(1, 2, 5, 10, 0.5), trials=4)  # a batch of 4, half way
    assert prog.bar.completed == 12 and prog.bar.eta() == pytest.approx(18 / (2 / 10))
    clock.tick(10)
    prog.trial(config, TrialResult("done", steps=10, wall_time=20.0), done=14, total=30)
    line = out.getvalue().splitlines()[-1]
    assert line.startswith("[14/30 trials] blobs sgd lr=0.1 seed=0: done in 20.0s")
    assert line.endswith("elapsed 20s, ETA 1m20s")  # 4 trials in 20 s, 16 left
