"""examples/ensemble_vs_best.py: the ensemble's accuracy and loss are those of the averaged
class probabilities of the saved members, computed here by hand."""

from __future__ import annotations

import copy

import ensemble_vs_best as ex
import pytest
import torch
from _claims import study

from ravine.study.ensemble import load_model


def test_ensemble_numbers_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "PROBLEMS", ("moons",))
    spec = copy.deepcopy(ex.SPEC)
    spec.update(budget={"steps": 8}, eval_every={"steps": 8}, seeds=[0, 1, 2])
    spec["problems"] = [{"name": "moons"}]
    store, results = study(spec, tmp_path)
    measured = ex.measure(store, results)["moons"]
    trials = sorted(results.select("moons", "adam"), key=lambda t: t.seed)
    probs, by_member = [], []
    for t in trials:
        problem, model = load_model(store, t)
        with torch.no_grad():
            p = torch.softmax(model(problem.x_val), dim=-1)
        probs.append(p)
        by_member.append(float((p.argmax(1) == problem.y_val).float().mean()))
    mean = torch.stack(probs).mean(0)
    acc = float((mean.argmax(1) == problem.y_val).float().mean())
    nll = float(-mean[torch.arange(len(mean)), problem.y_val].log().mean())
    assert [a for _, a in measured["members"]] == pytest.approx(by_member)
    assert measured["ensemble"]["ensemble_val_metric"] == pytest.approx(acc)
    assert measured["ensemble"]["ensemble_val_loss"] == pytest.approx(nll, rel=1e-5)
    assert measured["ensemble"]["member_val_metric_best"] == pytest.approx(max(by_member))
    store.close()
