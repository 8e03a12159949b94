"""1cycle and cyclic schedules (ravine.schedules.cycles) equal to torch's OneCycleLR and
CyclicLR, learning rate and momentum."""

from __future__ import annotations

import numpy as np
import pytest
from torch.optim import lr_scheduler as tls

from ravine import schedules as S
from support.schedules import STEPS, run_ravine, run_torch


@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_matches_torch_lr_and_momentum(three_phase, anneal):
    def make(o):
        return tls.OneCycleLR(
            o,
            max_lr=0.4,
            total_steps=STEPS,
            pct_start=0.25,
            anneal_strategy=anneal,
            three_phase=three_phase,
            base_momentum=0.85,
            max_momentum=0.95,
        )

    kw = {"momentum": 0.9}
    expected = run_torch(make, STEPS - 1, lr=0.4, keys=("lr", "momentum"), **kw)
    ours = {
        "lr": S.one_cycle(STEPS, pct_start=0.25, anneal=anneal, three_phase=three_phase),
        "momentum": S.one_cycle(
            STEPS,
            peak=0.85,
            start=0.95,
            end=0.95,
            pct_start=0.25,
            anneal=anneal,
            three_phase=three_phase,
        ),
    }
    got = run_ravine(ours, STEPS - 1, lr=0.4, keys=("lr", "momentum"), **kw)
    # Same operations in the same order as OneCycleLR: equal, not merely close.
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("mode", "gamma"), [("triangular", 1.0), ("triangular2", 1.0), ("exp_range", 0.998)]
)
def test_cyclic_matches_torch_lr_and_momentum(mode, gamma):
    def make(o):
        return tls.CyclicLR(
            o,
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=70,
            step_size_down=130,
            mode=mode,
            gamma=gamma,
            base_momentum=0.8,
            max_momentum=0.9,
        )

    kw = {"momentum": 0.9}
    expected = run_torch(make, keys=("lr", "momentum"), **kw)
    ours = {
        "lr": S.cyclic(0.01, 0.1, 70, 130, mode=mode, gamma=gamma),
        "momentum": S.cyclic(0.9, 0.8, 70, 130, mode=mode, gamma=gamma),
    }
    got = run_ravine(ours, keys=("lr", "momentum"), **kw)
    np.testing.assert_array_equal(got, expected)
