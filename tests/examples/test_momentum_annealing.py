"""examples/momentum_annealing.py: the annealed momentum is the linear ramp stated, and the
trials it runs take it (a ramp held at 0.5 gives fixed 0.5's numbers exactly)."""

from __future__ import annotations

import momentum_annealing as ex
import pytest

from ravine.schedules import parse


@pytest.mark.parametrize("label,end", [("0.5 -> 0.9", 0.9), ("0.5 -> 0.99", 0.99)])
def test_the_ramp_by_hand(label, end):
    ramp = parse(ex.VARIANTS[label][1])
    for t in (0, 1, 57, ex.RAMP, ex.RAMP + 50):
        assert ramp(t, 0.123) == pytest.approx(0.5 + (end - 0.5) * min(t, ex.RAMP) / ex.RAMP)


def test_the_trial_applies_the_momentum_schedule(monkeypatch):
    monkeypatch.setattr(ex, "STEPS", 10)
    monkeypatch.setitem(ex.VARIANTS, "held 0.5", (0.9, "linear:0.5:0.5:5"))
    fixed = ex.run("fixed 0.5", 0.03, 0)
    held = ex.run("held 0.5", 0.03, 0)
    ramp = ex.run("0.5 -> 0.99", 0.03, 0)
    assert [r.train_loss for r in held.rows] == [r.train_loss for r in fixed.rows]
    assert ramp.rows[0].train_loss == fixed.rows[0].train_loss
    assert ramp.rows[-1].train_loss != fixed.rows[-1].train_loss
