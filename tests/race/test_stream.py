"""``ravine.race.stream``: the paths so far after each chunk, the race's own numbers, the
measured result with the last chunk, and no work after the consumer stops."""

from __future__ import annotations

import pytest
import torch

import ravine
from ravine.race import PlanError, RacePlan, run, run_stream, stream

OPTIMIZERS = {"sgd": {"lr": [1e-4, 1e-3]}, "adam": {}, "bfgs": {}}
STARTS = [[-1.0, 1.0], [0.5, 0.5]]


def test_chunks_grow_to_the_race_s_result():
    chunks = list(stream("beale", OPTIMIZERS, starts=STARTS, steps=45, every=20, first=5))
    assert [(c.done, c.begin) for c in chunks] == [(5, 0), (25, 6), (45, 26)]
    assert [c.result is None for c in chunks] == [True, True, False]
    whole = ravine.race("beale", OPTIMIZERS, starts=STARTS, steps=45)
    for label, want in whole.runs.items():
        for c in chunks:
            assert c.positions[label].shape == (*want.positions.shape[:-2], c.done + 1, 2)
            torch.testing.assert_close(
                c.positions[label],
                want.positions[..., : c.done + 1, :],
                rtol=0,
                atol=0,
                equal_nan=True,
            )
            losses = c.losses[label]
            assert losses.shape == c.positions[label].shape[:-1]
            torch.testing.assert_close(
                losses, want.losses[..., : c.done + 1], rtol=1e-12, atol=1e-12, equal_nan=True
            )
        got = chunks[-1].result[label]
        for field in ("positions", "losses", "grad_norms", "outcome", "diverged_step"):
            torch.testing.assert_close(
                getattr(got, field), getattr(want, field), rtol=0, atol=0, equal_nan=True
            )


def test_a_closed_stream_stops_stepping():
    done = []
    plan = RacePlan.build("booth", OPTIMIZERS, starts=STARTS, steps=100)
    chunks = run_stream(plan, every=10, progress=done.append)
    assert next(chunks).done == 10
    chunks.close()
    assert 0 < sum(done) < plan.work / 5
    assert next(run_stream(plan, every=200)).result is not None  # one chunk: all of it
    assert run(plan)["adam"].positions.shape[-2] == 101


def test_arguments_are_checked_when_the_stream_is_made():
    with pytest.raises(PlanError, match="steps"):
        stream("booth", ["sgd"], steps=-1)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="every must be"):
            stream("booth", ["sgd"], steps=5, every=bad)


def test_chunks_may_be_asked_for_from_other_threads():
    """A web server's pool resumes a stream on any of its threads: no grad mode or other
    thread-local state is held between chunks."""
    from concurrent.futures import ThreadPoolExecutor

    plan = RacePlan.build("beale", OPTIMIZERS, starts=STARTS, steps=30)
    chunks = run_stream(plan, every=7)
    with ThreadPoolExecutor(3) as pool:
        got = []
        while not got or got[-1].result is None:
            got.append(pool.submit(next, chunks).result())
    assert torch.is_grad_enabled()
    want = run(plan)
    torch.testing.assert_close(
        got[-1].result["bfgs"].positions, want["bfgs"].positions, rtol=0, atol=0, equal_nan=True
    )
