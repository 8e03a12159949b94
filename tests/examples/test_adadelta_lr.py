"""examples/adadelta_lr.py: the good range of learning rates, by hand."""

from __future__ import annotations

import math

import adadelta_lr as ex
import pytest


def test_good_range_keeps_the_finite_losses_within_the_factor_of_the_best():
    lrs = [0.01, 0.1, 1.0, 10.0, 100.0]
    losses = [2.0, 0.3, 0.1, 0.25, math.inf]
    assert ex.good_range(lrs, losses, 2) == [1.0]
    assert ex.good_range(lrs, losses, 3) == [0.1, 1.0, 10.0]
    assert ex.good_range(lrs, [math.inf] * 5, 2) == []


def test_the_grid_is_half_decades_from_1e_3_to_1e3():
    assert len(ex.LRS) == 13
    assert [math.log10(lr) for lr in ex.LRS] == pytest.approx([-3 + k / 2 for k in range(13)])
