"""The progress display: its ETA on a fake clock, its throttled redraws on a terminal, and
plain lines, one per finished item, anywhere else."""

from __future__ import annotations

import io
import math

import pytest

from ravine.progress import Progress, format_seconds
from support.clock import Clock


def test_eta_is_the_work_left_over_this_runs_rate():
    clock = Clock()
    bar = Progress(total=100, unit="steps", stream=io.StringIO(), clock=clock)
    assert bar.eta() == math.inf and bar.rate() is None  # no work yet: unknown
    clock.tick(10)
    bar.update(20)
    assert bar.rate() == pytest.approx(2.0) and bar.eta() == pytest.approx(40.0)
    clock.tick(30)  # slower now: 10 more in 30 s, the rate is over the whole run
    bar.update(10)
    assert bar.rate() == pytest.approx(30 / 40) and bar.eta() == pytest.approx(70 / 0.75)
    bar.update(completed=100)
    assert bar.eta() == 0.0
    bar.update(0, total=200)  # more work found (a study's next stage)
    assert bar.eta() == pytest.approx(100 / (100 / 40))


def test_work_done_before_the_display_started_does_not_count_as_fast():
    """A resumed study starts with trials already finished: they are not this run's work."""
    clock = Clock()
    bar = Progress(total=10, stream=io.StringIO(), clock=clock, completed=8)
    clock.tick(60)
    assert bar.eta() == math.inf
    bar.update(1)
    assert bar.eta() == pytest.approx(60.0)  # one item a minute, one left
    clock.tick(5)
    bar.restart(completed=1)  # start measuring anew
    clock.tick(4)
    bar.update(2)
    assert bar.rate() == pytest.approx(0.5) and bar.eta() == pytest.approx(14.0)


def test_a_terminal_is_redrawn_a_few_times_a_second_at_most():
    clock, out = Clock(), io.StringIO()
    bar = Progress(
        total=1000, description="race", stream=out, terminal=True, clock=clock, min_interval=0.25
    )
    for _ in range(1000):  # 1000 updates over 10 seconds
        clock.tick(0.01)
        bar.update(1)
    assert 36 <= bar.draws <= 41  # about 4 a second, not 1000
    bar.close()
    text = out.getvalue()
    assert "race" in text and "1000/1000" in text and "\x1b[" in text  # drawn in place


def test_lines_appear_above_the_bar_on_a_terminal():
    out = io.StringIO()
    with Progress(total=2, stream=out, terminal=True, clock=Clock()) as bar:
        bar.update(1)
        bar.line("first: done [x]")  # printed as is, not read as markup
    assert "first: done [x]\n" in out.getvalue()


def test_elsewhere_only_one_line_per_finished_item():
    clock, out = Clock(), io.StringIO()
    with Progress(total=3, stream=out, clock=clock) as bar:  # a StringIO is no terminal
        assert not bar.terminal
        for name in ("a", "b", "c"):
            for _ in range(50):
                clock.tick(0.1)
                bar.update(1 / 50)
            bar.line(f"{name}: done, ETA {format_seconds(bar.eta())}")
    assert out.getvalue().splitlines() == ["a: done, ETA 10s", "b: done, ETA 5s", "c: done, ETA 0s"]
    assert bar.draws == 0


def test_format_seconds():
    assert [format_seconds(s) for s in (4.4, 65, 3725, math.inf)] == ["4s", "1m05s", "1h02m", "?"]


def test_warm_up_updates_are_not_measured():
    """A first step that compiles for 30 s does not make the ETA hours."""
    clock = Clock()
    bar = Progress(total=1000, stream=io.StringIO(), clock=clock, warmup=1)
    clock.tick(30)
    bar.update(1)
    assert bar.eta() == math.inf  # nothing measured yet
    clock.tick(0.1)
    bar.update(10)
    assert bar.eta() == pytest.approx(989 * 0.01)
