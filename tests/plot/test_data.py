"""The numbers behind the race figures: the landscape on a grid, loss gaps, sensitivity."""

from __future__ import annotations

import pytest
import torch

from ravine import landscapes, plot


def test_surface_grid_values():
    f = landscapes.get("booth")
    g = plot.surface_grid(f, n=11, levels=7)
    assert g.X.shape == g.Z.shape == (11, 11)
    i, j = 3, 8
    x, y = float(g.X[i, j]), float(g.Y[i, j])
    assert float(g.Z[i, j]) == pytest.approx((x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2)
    assert g.log and len(g.levels) == 7 and bool((g.levels.diff() > 0).all())
    r = plot.surface_grid(landscapes.get("rosenbrock", dim=4), n=5)  # other coords at 1
    assert float(r.Z.min()) >= 0


def test_loss_gaps_and_sensitivity_data(result):
    gaps = plot.loss_gaps(result)
    torch.testing.assert_close(gaps["adam"], result["adam"].losses)  # f* = 0 for Beale
    s = plot.sensitivity(result)
    assert s.lrs["sgd"].tolist() == [1e-3, 1e-2]
    torch.testing.assert_close(s.center["sgd"], result["sgd"].losses[:, 0, 0, -1])
    assert s.diverged["sgd"].tolist() == [0.0, 0.0]
