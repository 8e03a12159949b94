"""Ensembles of a study's saved models against a hand average of their probabilities."""

from __future__ import annotations

import io

import pytest
import torch

from ravine.study import Results, Store, best_settings
from ravine.study.ensemble import ensemble_table


def test_ensemble_matches_a_hand_average(tiny_store):
    from ravine import problems

    with Store(tiny_store) as s:
        rows = {(r["problem"], r["members_of"]): r for r in ensemble_table(s)}
        best = best_settings(Results.from_store(s), "blobs", "sgd")
        problem = problems.get("ravine_test_blobs:blobs")
        probs, accs = [], []
        for t in best["trials"]:
            model = problem.model()
            model.load_state_dict(torch.load(io.BytesIO(s.model(t.id)), weights_only=True))
            with torch.no_grad():
                out = model(problem.x_val)
            probs.append(torch.softmax(out, -1))
            accs.append((out.argmax(-1) == problem.y_val).float().mean().item())
    avg = sum(probs) / len(probs)
    row = rows["blobs", "sgd"]
    assert row["members"] == 2
    assert row["member_val_metric_mean"] == pytest.approx(sum(accs) / len(accs))
    assert row["ensemble_val_metric"] == pytest.approx(
        (avg.argmax(-1) == problem.y_val).float().mean().item()
    )
    nll = -torch.log(avg[torch.arange(len(avg)), problem.y_val]).mean().item()
    assert row["ensemble_val_loss"] == pytest.approx(nll, rel=1e-5)
    assert rows["blobs", "all optimizers"]["members"] == 4
