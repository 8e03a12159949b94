"""The schedule figure draws the schedule's values, step by step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ravine import schedules as S
from ravine.plot.schedules import plot_schedule


def test_plot_draws_the_values_and_saves_a_png(tmp_path):
    out = tmp_path / "sched.png"
    fig = plot_schedule(
        {"lr": "warmup:10>cosine:90", "momentum": S.linear(0.5, 0.99, 40)},
        100,
        out=out,
        initial={"lr": 0.1},
    )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    lr_ax, mom_ax = fig.axes
    (lr_line,) = lr_ax.get_lines()
    xs, ys = lr_line.get_data()
    assert list(xs) == list(range(101))
    expected = [0.1 * t / 10 for t in range(10)] + [
        0.1 * (1 + math.cos(math.pi * (t - 10) / 90)) / 2 for t in range(10, 101)
    ]
    np.testing.assert_allclose(ys, expected, rtol=1e-12, atol=1e-15)
    (mom_line,) = mom_ax.get_lines()
    np.testing.assert_allclose(
        mom_line.get_ydata(), [0.5 + 0.49 * min(t, 40) / 40 for t in range(101)], rtol=1e-12
    )
    assert mom_ax.get_ylabel() == "momentum"


def test_relative_without_initial_is_labelled_a_multiplier_and_trials_get_curves(tmp_path):
    peaks = torch.tensor([[0.3], [0.1], [0.03]])
    fig = plot_schedule(
        {"lr": S.one_cycle(50, peak=peaks), "decay": S.exponential(0.9)},
        50,
        out=tmp_path / "s.svg",
        log=True,
    )
    lr_ax, decay_ax = fig.axes
    assert len(lr_ax.get_lines()) == 3
    assert max(lr_ax.get_lines()[0].get_ydata()) == pytest.approx(0.3, rel=1e-6)
    assert "initial value" in decay_ax.get_ylabel()
    assert decay_ax.get_yscale() == "log"
    np.testing.assert_allclose(decay_ax.get_lines()[0].get_ydata(), 0.9 ** np.arange(51))
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")


def test_plot_rejects_bad_input():
    with pytest.raises(ValueError, match="steps"):
        plot_schedule({"lr": S.cosine(10)}, 0)
    with pytest.raises(ValueError, match="non-empty"):
        plot_schedule({}, 10)
    with pytest.raises(ValueError, match="unknown schedule"):
        plot_schedule({"lr": "sine:10"}, 10)
