"""``ravine.race``: the function and the package, a plan built and run."""

from __future__ import annotations

import sys

import pytest
import torch

import ravine
from ravine.race import RacePlan, race, run
from ravine.race.runner import costed, work_cost


def test_ravine_race_is_callable_and_import_stays_light():
    import subprocess

    assert ravine.race("booth", ["sgd"], steps=3)["sgd"].positions.shape == (1, 1, 1, 4, 2)
    from ravine import race as module

    assert callable(module) and module.race is race
    code = "import sys, ravine; print('matplotlib' in sys.modules, 'sklearn' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(__import__("pathlib").Path(ravine.__file__).parent.parent)},
    )
    assert out.stdout.split() == ["False", "False"]


def test_race_is_its_plan_run_and_progress_counts_the_plan_s_work():
    optimizers = {"sgd": {}, "torch-sgd": {"optimizer": torch.optim.SGD}}
    kwargs = {"lrs": [0.01, 1.0], "starts": [[0.0, 0.0], [1.0, 1.0]], "steps": 30}
    done = []
    raced = race("booth", optimizers, progress=done.append, **kwargs)
    plan = RacePlan.build("booth", optimizers, **kwargs)
    again = run(plan)
    assert sum(done) == plan.work == 30 * (4 + 4)  # one trajectory at a time stops early
    assert (raced["torch-sgd"].diverged_step[1] > 0).all()  # lr 1 leaves the box
    for label in optimizers:
        torch.testing.assert_close(
            raced[label].positions, again[label].positions, rtol=0, atol=0, equal_nan=True
        )


def test_costed_progress_counts_a_batched_step_once_and_sums_to_the_work_cost():
    """A batched entry's step advances all its trajectories at once: one cost unit, not n."""
    optimizers = {"sgd": {}, "torch-sgd": {"optimizer": torch.optim.SGD}}
    plan = RacePlan.build("booth", optimizers, lrs=[0.01, 0.02, 0.03], steps=20)
    assert work_cost(plan) == 20 * 1 + 20 * 3  # batched: steps; one at a time: steps x n
    done: list[float] = []
    run(plan, progress=costed(plan, done.append))
    assert sum(done) == pytest.approx(work_cost(plan))
    assert done[:20] == [1.0] * 20 and done[20:] == [1.0] * 60


def test_costed_counts_the_fast_entries_first_as_they_run():
    """The entries of the fast path advance together before the others: the cost units
    reported while they run are theirs, even when a slower entry comes first in the plan."""
    steps = 10
    optimizers = {"bfgs": {}, "sgd": {"lr": [0.01, 0.02, 0.05, 0.1]}, "adam": {}}
    plan = RacePlan.build("booth", optimizers, starts=[[0.0, 0.0], [1.0, 1.0]], steps=steps)
    units, before = [], []
    count = costed(plan, units.append)

    def progress(n):
        before.append(len(units))
        count(n)

    run(plan, progress)
    fast_calls = 2 * steps  # one per fast entry and step
    assert sum(units[: before[fast_calls]]) == pytest.approx(2 * steps)
    assert sum(units) == pytest.approx(work_cost(plan))
