"""examples/lr_decay.py: the schedules decay as its docstring states, and the tuned learning
rate it reports is the one with the best final validation accuracy on the tuning seed."""

from __future__ import annotations

import copy

import lr_decay as ex
import pytest
from _claims import study

from ravine.schedules import parse


def test_the_decay_factors_by_hand():
    step, exp, inv = (parse(ex.SCHEDULES[k]) for k in ("step", "exponential", "1/t"))
    assert [step(t) for t in (0, 399, 400, 799, 800)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    assert exp(1000) == pytest.approx(0.01, rel=1e-3)
    assert inv(1000) == pytest.approx(0.05, rel=1e-2)
    assert inv(10) == pytest.approx(1 / (1 + 0.019 * 10))


def test_chosen_is_the_best_lr_on_the_tuning_seed(tmp_path):
    spec = copy.deepcopy(ex.SPEC)
    spec.update(budget={"steps": 6}, eval_every={"steps": 6}, seeds=[0, 1])
    spec["problems"] = [{"name": "moons"}]
    for entry in spec["optimizers"]:
        entry["lr"] = [0.01, 0.3]
    store, results = study(spec, tmp_path)
    picked = ex.chosen(results, "moons")
    for label, (hps, runs) in picked.items():
        tuned = [t for t in results.select("moons", label) if t.seed == 0]
        best = max(tuned, key=lambda t: results.rows(t)[-1].val_metric)
        assert hps["lr"] == best.hyperparameters["lr"]
        assert len(runs) == 2
    store.close()
