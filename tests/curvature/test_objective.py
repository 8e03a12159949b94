"""ravine.curvature.objective: the objects accepted as objectives and the errors for others."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ravine import curvature as C


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def test_landscape_objects_and_errors():
    class Landscape:
        def loss(self, x):
            return (x[..., 0] ** 2 + 3 * x[..., 1] ** 2).sum()

    H = C.hessian(Landscape(), torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(H, torch.diag(torch.tensor([2.0, 6.0])))
    with pytest.raises(TypeError, match="objective"):
        C.hessian(nn.Linear(2, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="x is required"):
        C.hessian(rosenbrock)
    with pytest.raises(ValueError, match="mode"):
        C.hvp(rosenbrock, torch.ones(2), torch.ones(2), mode="sideways")
    with pytest.raises(TypeError, match="output_loss"):
        C.ggn_vp(rosenbrock, torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match="k="):
        C.top_eigenpairs(rosenbrock, 3, torch.ones(2))
