"""examples/_claims.py: the numbers every claim's verdict is read from (final values, first
crossings, means and spreads), against values worked by hand."""

from __future__ import annotations

import math
import statistics

import pytest
from _claims import final, first_reach, mean_curve, mean_sd, seed_summary

from ravine.study import MetricRow, TrialResult


def rows(accuracies: list[float]) -> list[MetricRow]:
    return [
        MetricRow(5 * i, i / 4, 2.0 - a, a, 2.1 - a, a, 0.1, 0.0) for i, a in enumerate(accuracies)
    ]


def test_first_reach_is_the_step_of_the_first_crossing_either_way():
    r = rows([0.1, 0.5, 0.95, 0.9, 0.97])
    assert first_reach(r, 0.95) == 10
    assert first_reach(r, 0.99) is None
    assert first_reach(r, 1.2, column="train_loss", higher=False) == 10  # 2 - 0.95 <= 1.2


def test_final_reads_the_last_row_and_marks_a_diverged_trial():
    done = TrialResult("done", rows=rows([0.2, 0.6]))
    assert final(done, "val_metric") == pytest.approx(0.6)
    assert final(done, "train_loss") == pytest.approx(1.4)
    diverged = TrialResult("diverged", rows=rows([0.2, 0.6]))
    assert final(diverged, "train_loss") == math.inf
    assert math.isnan(final(diverged, "val_metric"))


def test_mean_sd_is_the_sample_spread():
    assert mean_sd([1.0, 2.0, 4.0]) == pytest.approx((7 / 3, statistics.stdev([1, 2, 4])))
    assert mean_sd([3.0]) == (3.0, 0.0)


def test_mean_curve_and_seed_summary_by_hand():
    a, b = rows([0.2, 0.9, 0.96]), rows([0.4, 0.95, 0.98])
    steps, means = mean_curve([a, b], "val_metric")
    assert steps == [0, 5, 10]
    assert means == pytest.approx([0.3, 0.925, 0.97])
    text = seed_summary([TrialResult("done", rows=a), TrialResult("done", rows=b)], 0.95)
    loss = mean_sd([2.0 - 0.96, 2.0 - 0.98])
    assert text.split() == [
        f"{loss[0]:.4f}",
        "±",
        f"{loss[1]:.4f}",
        "0.9700",
        "±",
        "0.0141",
        "[10,",
        "5]",
    ]
