"""The race result: runs with named axes, the summary table and the caption line."""

from __future__ import annotations

import torch

from ravine.race import race
from ravine.race.measures import OUTCOMES


def test_float32_race_and_summary():
    result = race("rosenbrock", ["adam", "sgd"], lrs=[1e-3, 1e-2], steps=20, dtype=torch.float32)
    assert result["adam"].positions.dtype == torch.float32
    rows = result.summary()
    assert rows[0][:2] == ("optimizer", "lr") and len(rows) == 5
    assert "rosenbrock" in result.settings() and "20 steps" in result.settings()


def test_trajectories_walk_the_grid_and_settings_name_what_varies():
    spec = {"m": {"optimizer": "momentum", "momentum": [0.5, 0.9]}}
    result = race("booth", spec, lrs=[0.01, 0.02], starts=[[0.0, 0.0], [1.0, 1.0]], steps=3)
    run = result["m"]
    walked = list(run.trajectories())
    assert len(walked) == 8 and run.grid_shape == (2, 2, 2, 1)
    where, path = walked[-1]
    assert where == {"lr": 0.02, "momentum": 0.9, "start": [1.0, 1.0], "seed": 0}
    torch.testing.assert_close(path, run.positions[1, 1, 1, 0])
    settings = result.settings()
    assert "m: momentum varies" in settings and "2 starts" in settings
    assert "m 2 lrs 0.01..0.02" in settings


def test_print_of_a_result_is_a_short_summary_not_tensors():
    spec = {"m": {"optimizer": "momentum", "momentum": [0.5, 0.9]}, "adam": {"optimizer": "adam"}}
    result = race("booth", spec, lrs=[0.01, 0.02], starts=[[0.0, 0.0], [1.0, 1.0]], steps=3)
    text = str(result)
    assert text == repr(result) and "tensor" not in text and len(text) < 600
    lines = text.splitlines()
    assert lines[0].startswith("RaceResult on booth") and len(lines) == 3
    m = next(line for line in lines if line.split()[0] == "m")
    assert "momentum, 2 lrs x 2 momentums x 2 starts x 1 seed, 3 steps" in m
    counts = torch.bincount(result["m"].outcome.flatten(), minlength=len(OUTCOMES))
    shown = ", ".join(f"{int(n)} {name}" for name, n in zip(OUTCOMES, counts, strict=True) if n)
    assert m.endswith(shown)
    assert repr(result["adam"]).startswith("Run('adam': adam, 2 lrs x 2 starts x 1 seed")
