"""examples/adabelief_vs_adam.py: the counts of good and diverged learning rates, and the
median final gap they are read from, against hand computations."""

from __future__ import annotations

import math

import adabelief_vs_adam as ex
import pytest
import torch

import ravine
from ravine.plot.data import sensitivity


def test_counts_and_best_gap_by_hand():
    gaps = torch.tensor([1e-7, 1e-3, 0.5, math.inf])
    assert ex.counts(gaps, torch.tensor([0.0, 0.25, 0.5, 1.0])) == [2, 1, 1]
    assert ex.best_gap(gaps) == pytest.approx(1e-7)
    assert ex.best_gap(torch.tensor([math.inf, math.nan])) == math.inf


def test_the_median_final_gap_is_the_landscapes_loss_at_the_final_points():
    starts = [[1.0, 1.5], [-1.0, 1.0], [2.0, -1.0]]
    result = ravine.race("beale", list(ex.NAMES), lrs=[0.01, 0.1], starts=starts, steps=20)
    land = result.landscape
    s = sensitivity(result)
    for name in ex.NAMES:
        for i in range(2):
            ends = result[name].positions[i, :, 0, -1]  # [start, dim] after the last step
            by_hand = sorted(float(land.loss(p)) - land.global_minimum.value for p in ends)[1]
            assert float(s.center[name][i]) == pytest.approx(by_hand, rel=1e-12)
