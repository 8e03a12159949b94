"""reduce_on_plateau (ravine.schedules.plateau): torch's ReduceLROnPlateau bit for bit, its
state in checkpoints, and the metric reaching it wherever it sits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import ravine.optim as ro
from ravine import schedules as S
from support.schedules import LR0, STEPS, run_ravine, run_torch, sgd


def _plateau_metrics(seed: int = 0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(STEPS)
    base = np.maximum(1.0 - t / 250, 0.3) + 0.2 * (t > 600) * np.minimum((t - 600) / 300, 1)
    return (base + 0.02 * rng.standard_normal(STEPS)).tolist()


@pytest.mark.parametrize(
    "kw",
    [
        {"factor": 0.5, "patience": 5},
        {"factor": 0.5, "patience": 3, "cooldown": 4, "min_lr": 2e-4, "threshold": 1e-3},
        {"factor": 0.3, "patience": 0, "threshold": 0.01, "threshold_mode": "abs"},
        {"factor": 0.7, "patience": 2, "mode": "max", "min_lr": 1e-3},
        {"factor": 0.9, "patience": 0, "eps": 5e-3},
    ],
)
def test_reduce_on_plateau_matches_torch(kw):
    metrics = _plateau_metrics()
    if kw.get("mode") == "max":
        metrics = [-m for m in metrics]
    ours_kw = dict(kw)
    if "min_lr" in ours_kw:
        ours_kw["min_value"] = ours_kw.pop("min_lr")
    expected = run_torch(lambda o: tls.ReduceLROnPlateau(o, **kw), metrics=metrics)
    got = run_ravine({"lr": S.reduce_on_plateau(**ours_kw)}, metrics=metrics)
    assert len(np.unique(expected)) > 3  # the metric does trigger several reductions
    np.testing.assert_array_equal(got, expected)


def test_state_dict_holds_plateau_state():
    opt = sgd()
    plateau = S.reduce_on_plateau(0.5, patience=0)
    sched = S.Scheduler(opt, {"lr": plateau})
    for m in [1.0, 1.0, 1.0]:
        opt.step()
        sched.step(m)
    state = sched.state_dict()
    assert state["last_step"] == 3
    assert state["schedules"]["lr"][0]["reductions"] == 2
    fresh = S.Scheduler(sgd(), {"lr": S.reduce_on_plateau(0.5, patience=0)})
    fresh.load_state_dict(state)
    assert fresh.values() == [{"lr": LR0 * 0.25}]


def test_plateau_needs_the_metric():
    sched = S.Scheduler(sgd(), {"lr": S.reduce_on_plateau()})
    with pytest.raises(ValueError, match="needs the metric"):
        sched.step()
    with pytest.raises(ValueError, match="one number"):
        sched.step(torch.ones(3))
    sched.step(torch.tensor(1.0))
    assert sched.last_step == 1


def test_batched_plateau_and_tensor_initial_values_resume():
    # Tensor initial lr [T, 1]: each trial's plateau reductions follow torch's float rule
    # (new = max(old * factor, min); kept only when old - new > eps) on its own value.
    lr0 = torch.tensor([[0.1], [1e-3], [2e-8]], dtype=torch.float64)
    plateau = S.reduce_on_plateau(0.5, patience=0, min_value=1e-4)
    for _ in range(4):  # the first sets the best; the next three are plateaus
        plateau.observe(1.0)
    got = plateau(0, lr0)
    for i, v in enumerate(lr0[:, 0].tolist()):
        for _ in range(3):
            new = max(v * 0.5, 1e-4)
            v = new if v - new > 1e-8 else v
        assert got[i, 0].item() == v

    x = torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float64))
    sched = S.Scheduler(ro.SGD([x], lr=lr0.clone()), {"lr": S.cosine(20)})
    for _ in range(7):
        sched.step()
    state = sched.state_dict()
    other = ro.SGD([x], lr=torch.full((3, 1), 5.0, dtype=torch.float64))
    sched2 = S.Scheduler(other, {"lr": S.cosine(20)})  # built on a different initial value
    sched2.load_state_dict(state)
    assert torch.equal(sched2.values()[0]["lr"], sched.values()[0]["lr"])
    assert torch.equal(sched2.values()[0]["lr"], lr0 * (1 + math.cos(math.pi * 7 / 20)) / 2)


def test_metric_reaches_a_plateau_inside_any_composite():
    for make in (
        lambda p: S.warmup(2, then=p),
        lambda p: S.join([S.constant(), p], [2]),
        lambda p: 0.5 * p,
        lambda p: S.cosine(100) * p,
    ):
        plateau = S.reduce_on_plateau(0.5, patience=0)
        sched = S.Scheduler(sgd(), {"lr": make(plateau)})
        with pytest.raises(ValueError, match="needs the metric"):
            sched.step()
        for _ in range(3):
            sched.step(1.0)
        assert plateau.reductions == 2
    shared = S.reduce_on_plateau(0.5, patience=0)  # observed once per step, wherever it is
    sched = S.Scheduler(sgd(), {"lr": S.cosine(10) * shared, "momentum": 0.9 * shared})
    for _ in range(3):
        sched.step(1.0)
    assert shared.reductions == 2
