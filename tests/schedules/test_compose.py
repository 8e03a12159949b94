"""Schedules in sequence and products (ravine.schedules.compose, base): warm-up, join, a * b."""

from __future__ import annotations

import pytest

from ravine import schedules as S


def test_warmup_join_and_products():
    w = S.warmup(10, then=S.cosine(90, final=0.0))
    assert [w(t, 2.0) for t in (0, 5, 10)] == [0.0, 1.0, 2.0]
    assert w(55, 2.0) == pytest.approx(1.0)
    assert w(100, 2.0) == 0.0 and w(5000, 2.0) == 0.0
    j = S.join([S.linear(0.5, 0.9, 100), S.constant(0.9), S.exponential(0.5, init=0.9)], [100, 150])
    assert not j.relative
    assert [j(t) for t in (0, 50, 100, 149, 150, 151)] == [0.5, 0.7, 0.9, 0.9, 0.9, 0.45]
    p = 0.5 * S.exponential(0.5)
    assert p(2, 4.0) == 0.5 * 4.0 * 0.25
    q = S.cosine(10) * S.step_decay(5, 0.1)
    assert q(5, 2.0) == pytest.approx(2.0 * 0.5 * 0.1)
    assert S.parse("warmup:10>cosine:90")(55, 2.0) == pytest.approx(1.0)
    assert S.parse("exp:0.5@2>constant:0.3")(3) == 0.3
    assert S.parse("linear:0.5:0.9:100>constant:0.9").length is None
