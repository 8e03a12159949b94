"""Bad schedule arguments (ravine.schedules.checks): each error names the schedule, the
argument and what is allowed."""

from __future__ import annotations

import pytest
import torch

from ravine import schedules as S


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: S.step_decay(0, 0.1), "step_decay: invalid every=0; allowed: a positive"),
        (lambda: S.step_decay(10, -0.5), "step_decay: invalid factor=-0.5"),
        (lambda: S.multi_step([10, -5], 0.1), "invalid milestones=-5"),
        (lambda: S.multi_step([], 0.1), "milestones is empty"),
        (lambda: S.exponential(-1.0), "invalid gamma=-1.0"),
        (
            lambda: S.exponential(torch.tensor([[0.9], [-0.1]])),
            "invalid gamma=a tensor holding -0.1",
        ),
        (lambda: S.inverse_time(-0.1), "invalid k=-0.1"),
        (lambda: S.cosine(-5), "invalid total=-5"),
        (lambda: S.cosine(10, final=float("nan")), "invalid final=nan"),
        (lambda: S.polynomial(10, power=0.0), "invalid power=0.0"),
        (lambda: S.linear(0.5, 0.9, 0), "invalid steps=0"),
        (lambda: S.warmup(0), "invalid steps=0"),
        (lambda: S.warmup(10, then=0.5), "invalid then=0.5"),
        (lambda: S.one_cycle(100, pct_start=1.5), "invalid pct_start=1.5"),
        (lambda: S.one_cycle(2, pct_start=0.3), "empty phase"),
        (lambda: S.cyclic(0.1, 1.0, up=0), "invalid up=0"),
        (lambda: S.cyclic(0.1, 1.0, 5, mode="sine"), "invalid mode='sine'"),
        (lambda: S.join([S.constant()], [5]), "need 0 boundaries"),
        (lambda: S.join([S.constant(), S.constant(), S.constant()], [5, 5]), "strictly"),
        (lambda: S.reduce_on_plateau(factor=1.5), "invalid factor=1.5"),
        (lambda: S.reduce_on_plateau(patience=-1), "invalid patience=-1"),
        (lambda: S.cosine(10)(-1), "invalid step=-1"),
    ],
)
def test_bad_schedule_arguments(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)
