"""The race result: runs with named axes, the summary table and the caption line."""

from __future__ import annotations

import torch

from ravine.race import race


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
