"""The string form (ravine.schedules.grammar): parse gives the same schedules as the
functions, clear errors, and every name listed by `ravine list schedules`."""

from __future__ import annotations

import pytest

from ravine import schedules as S


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cosine:1000", S.cosine(1000)),
        ("cos:100:final=0.01", S.cosine(100, 0.01)),
        ("linear:0.5:0.99:200", S.linear(0.5, 0.99, 200)),
        ("step:30:0.1", S.step_decay(30, 0.1)),
        ("multistep:30,80:0.5", S.multi_step([30, 80], 0.5)),
        ("exp:0.99", S.exponential(0.99)),
        ("invtime:0.01:0.5", S.inverse_time(0.01, 0.5)),
        ("poly:500:2", S.polynomial(500, 2.0)),
        (
            "onecycle:400:pct_start=0.25:anneal=linear",
            S.one_cycle(400, pct_start=0.25, anneal="linear"),
        ),
        ("cyclic:0.01:0.1:50", S.cyclic(0.01, 0.1, 50)),
        ("cyclic:none:0.1:50:mode=triangular2", S.cyclic(None, 0.1, 50, mode="triangular2")),
        ("constant:0.9", S.constant(0.9)),
        ("warmup:100", S.warmup(100)),
        ("warmup:100>cosine:900", S.warmup(100, then=S.cosine(900))),
    ],
)
def test_parse_gives_the_same_schedule(spec, expected):
    s = S.parse(spec)
    assert s.relative == expected.relative
    for t in (0, 1, 37, 99, 100, 101, 450, 999, 1000, 1500):
        assert s(t, 0.3) == expected(t, 0.3), (spec, t)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "non-empty"),
        ("foo:3", "unknown schedule 'foo'"),
        ("cosine", "missing a required argument: 'total'"),
        ("cosine:0", "invalid total=0"),
        ("cosine:12.5", "invalid total=12.5"),
        ("step:10:-0.1", "invalid factor=-0.1"),
        ("exp:-0.9", "invalid gamma=-0.9"),
        ("linear:0.5:0.99", "STEPS"),
        ("cosine:10:bogus=1", "unexpected keyword argument 'bogus'"),
        ("exp:0.9>cosine:10", "no natural end"),
        ("cosine:10:", "empty argument"),
        ("onecycle:100:anneal=sine", "invalid anneal='sine'"),
        ("cosine:100>", "empty schedule name"),
        ("cosine:10@0>constant", "positive integer"),
    ],
)
def test_parse_errors_are_clear(spec, message):
    with pytest.raises(ValueError, match=r"schedule|grammar") as err:
        S.parse(spec)
    assert message in str(err.value)


def test_ravine_list_schedules_shows_every_name_and_its_form():
    from click.testing import CliRunner

    from ravine.cli import main

    result = CliRunner().invoke(main, ["list", "schedules"])
    assert result.exit_code == 0, result.output
    for name in S.NAMES:
        assert S.usage(name) in result.output
    # Every listed form parses back when its required arguments are filled in.
    assert S.parse("cosine:100")(50) == pytest.approx(0.5)
