"""``ravine.race``: the function and the package, a plan built and run."""

from __future__ import annotations

import sys

import torch

import ravine
from ravine.race import RacePlan, race, run


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
