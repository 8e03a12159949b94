"""examples/adam_bias_correction.py: the step sizes it measures are ravine's Adam's, and they
equal the hand formulas of the four bias-correction variants."""

from __future__ import annotations

import math

import adam_bias_correction as ex
import pytest


@pytest.mark.parametrize("betas", [(0.9, 0.999), (0.8, 0.99)])
def test_first_step_sizes_equal_the_hand_formulas(betas):
    b1, b2 = betas
    lr = 1e-3
    by_hand = {
        "both": lr,
        "neither": lr * (1 - b1) / math.sqrt(1 - b2),
        "m only": lr / math.sqrt(1 - b2),
        "v only": lr * (1 - b1),
    }
    for variant, size in by_hand.items():
        assert ex.step_sizes(variant, lr, 1, betas)[0] == pytest.approx(size, rel=1e-8)


@pytest.mark.parametrize("variant", ex.VARIANTS)
def test_measured_step_sizes_follow_the_formula_at_every_step(variant):
    sizes = ex.step_sizes(variant, 1e-3, 60)
    expected = [ex.formula(variant, 1e-3, t) for t in range(1, 61)]
    assert sizes == pytest.approx(expected, rel=1e-8)
