"""The schedule protocol (ravine.schedules.base): what each schedule declares (its arguments,
the values it pins, its length) gives the same relative flag, length and repr as the
functions document."""

from __future__ import annotations

import pytest
import torch

from ravine import schedules as S


@pytest.mark.parametrize(
    ("schedule", "relative", "length", "text"),
    [
        (S.constant(), True, None, "constant()"),
        (S.constant(0.3), False, None, "constant(value=0.3)"),
        (S.step_decay(3, 0.5), True, None, "step_decay(every=3, factor=0.5)"),
        (S.multi_step([5, 2]), True, None, "multi_step(milestones=(2, 5), factor=0.1)"),
        (S.exponential(0.9, init=1.0), False, None, "exponential(gamma=0.9, init=1)"),
        (S.inverse_time(0.1), True, None, "inverse_time(k=0.1, power=1)"),
        (S.cosine(10), True, 10, "cosine(total=10, final=0)"),
        (S.polynomial(5, 2.0), True, 5, "polynomial(total=5, power=2, final=0)"),
        (
            S.linear(0.5, 0.9, 10),
            False,
            10,
            "linear(start=0.5, end=0.9, steps=10, relative=False)",
        ),
        (
            S.linear(1, 0.1, 5, relative=True),
            True,
            5,
            "linear(start=1, end=0.1, steps=5, relative=True)",
        ),
        (S.warmup(5), True, 5, "warmup(steps=5, start=0)"),
        (
            S.warmup(10, then=S.linear(0.1, 0.2, 4)),
            False,
            14,
            "warmup(steps=10, then=linear(start=0.1, end=0.2, steps=4, relative=False), start=0)",
        ),
        (
            S.one_cycle(100),
            True,
            100,
            "one_cycle(total=100, pct_start=0.3, anneal='cos', three_phase=False)",
        ),
        (
            S.one_cycle(100, peak=1.0),
            False,
            100,
            "one_cycle(total=100, peak=1, pct_start=0.3, anneal='cos', three_phase=False)",
        ),
        (
            S.cyclic(0.1, None, 3),
            True,
            None,
            "cyclic(low=0.1, up=3, down=3, mode='triangular', gamma=1)",
        ),
        (
            S.cyclic(0.1, 0.2, 3),
            False,
            None,
            "cyclic(low=0.1, high=0.2, up=3, down=3, mode='triangular', gamma=1)",
        ),
        (
            S.reduce_on_plateau(),
            True,
            None,
            "reduce_on_plateau(factor=0.1, patience=10, mode='min')",
        ),
        (
            S.join([S.constant(), S.cosine(4)], [4]),
            True,
            8,
            "join(schedules=[constant(), cosine(total=4, final=0)], boundaries=(4,))",
        ),
        (0.5 * S.cosine(3), True, 3, "(0.5 * cosine(total=3, final=0))"),
        (
            S.constant(2.0) * S.step_decay(2),
            False,
            None,
            "(constant(value=2) * step_decay(every=2, factor=0.1))",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_declared_arguments_give_relative_length_and_repr(schedule, relative, length, text):
    assert schedule.relative is relative
    assert schedule.length == length
    assert repr(schedule) == text


def test_a_schedule_of_ones_own_needs_only_at():
    class HalfLife(S.Schedule):
        def at(self, t, initial):
            return initial * 0.5 ** (t / 10)

    s = HalfLife()
    assert (s.relative, s.length, s.needs_metric) == (True, None, False)
    assert s(10, 4.0) == 2.0
    assert repr(s) == "half_life()"
    assert (3 * s)(0, 1.0) == 3.0
    p = torch.nn.Parameter(torch.zeros(2))
    sched = S.Scheduler(torch.optim.SGD([p], lr=0.4), {"lr": s})
    for _ in range(10):
        sched.step()
    assert sched.values() == [{"lr": 0.2}]
