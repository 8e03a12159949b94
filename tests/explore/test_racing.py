"""The streamed race (ravine.explore.racing): its chunks concatenated are the race that
ravine.race computes, called directly, and a newer request from the same page stops it."""

from __future__ import annotations

import pytest

import ravine
from ravine.explore.racing import Tickets, header, messages
from ravine.explore.requests import build_plan
from support.streamed import check_against

STARTS = [[-1.5, 2.0], [0.5, -0.5]]

#: (request, the same race for ravine.race): the fast path with an lr fan and a divergence,
#: a second-order optimizer on the slow path, and mini-batch noise on moons.
CASES = {
    "fast": (
        {
            "landscape": "rosenbrock",
            "starts": STARTS,
            "steps": 50,
            "optimizers": [
                {"name": "sgd", "hyperparameters": {"lr": 0.001}},
                {"name": "sgd", "label": "wild", "hyperparameters": {"lr": 0.01}},
                {"name": "adam", "hyperparameters": {"lr": 0.05, "betas": [0.8, 0.99]}},
                {
                    "name": "momentum",
                    "label": "fan",
                    "lr_grid": {"low": 1e-4, "high": 1e-2, "n": 3},
                },
            ],
        },
        lambda: ravine.race(
            "rosenbrock",
            {
                "sgd": {"lr": 0.001},
                "wild": {"optimizer": "sgd", "lr": 0.01},
                "adam": {"lr": 0.05, "betas": (0.8, 0.99)},
                "fan": {"optimizer": "momentum", "lr": [1e-4 * 10**k for k in range(3)]},
            },
            starts=STARTS,
            steps=50,
        ),
    ),
    "second_order": (
        {
            "landscape": "rosenbrock",
            "starts": STARTS,
            "steps": 30,
            "optimizers": [{"name": "newton", "hyperparameters": {"lr": 0.5}}, {"name": "adam"}],
        },
        lambda: ravine.race(
            "rosenbrock", {"newton": {"lr": 0.5}, "adam": {}}, starts=STARTS, steps=30
        ),
    ),
    "moons_batches": (
        {
            "landscape": "moons",
            "options": {"batch_size": 4},
            "steps": 40,
            "optimizers": [{"name": "sgd"}, {"name": "adam"}],
        },
        lambda: ravine.race(
            ravine.landscapes.get("moons", batch_size=4), ["sgd", "adam"], steps=40
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_chunks_concatenated_are_the_race(case):
    body, reference = CASES[case]
    plan = build_plan(body)
    sent = [header(plan), *messages(plan, every=7, first=3)]
    assert sum(m["type"] == "chunk" for m in sent) > 3
    check_against(sent, reference())


def test_the_wild_sgd_diverges_so_the_blanking_is_tested():
    result = CASES["fast"][1]()
    assert bool((result["wild"].diverged_step >= 0).any())


def test_a_newer_race_cancels_the_older_one_at_its_next_chunk():
    tickets = Tickets()
    old = tickets.take("page")
    stream = messages(build_plan(CASES["fast"][0]), old, every=5, first=5)
    assert next(stream)["done"] == 5
    tickets.take("page")  # the page asked again: the old race ends at its next chunk
    assert list(stream) == []
    other = messages(build_plan(CASES["second_order"][0]), tickets.take("page"), first=2)
    next(other)
    tickets.take("page")  # the slow path stops at its next step, within the chunk
    assert list(other) == []
