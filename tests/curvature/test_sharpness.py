"""ravine.curvature.sharpness against eigvalsh of dense Hessians, in each of its forms."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd.functional import hessian as dense_hessian

from ravine import curvature as C


def test_sharpness_of_a_model(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    top = float(torch.linalg.eigvalsh(dense_hessian(obj.f, obj.x0))[-1])
    assert C.sharpness(model, loss_fn, data) == pytest.approx(top, rel=1e-6)
    with pytest.raises(ValueError, match="loss_fn and data"):
        C.sharpness(model)


def _dense_top_eigenvalue(model, loss_fn, x, y) -> float:
    """lambda_max by torch.linalg.eigvalsh of the dense Hessian of loss_fn(model(x), y) in the
    flat parameters, built with torch.func.functional_call (not ravine's objective)."""
    names = [k for k, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(t):
        pieces = [piece.reshape(shape) for piece, shape in zip(t.split(sizes), shapes, strict=True)]
        out = torch.func.functional_call(model, dict(zip(names, pieces, strict=True)), (x,))
        return loss_fn(out, y)

    return float(torch.linalg.eigvalsh(dense_hessian(f, theta))[-1])


def test_sharpness_of_a_model_on_a_problem():
    """sharpness(model, problem): the problem's loss on its training set, or on a data=
    subset; the same number as the (model, loss_fn, data) form and as eigvalsh."""
    from ravine.problems import Problem

    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(20, 3, generator=g), torch.randint(0, 3, (20,), generator=g)

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))

    problem = Problem("tiny", make, x[:14], y[:14], x[14:], y[14:])
    model = make()
    loss = nn.functional.cross_entropy
    full = _dense_top_eigenvalue(model, loss, x[:14], y[:14])
    assert C.sharpness(model, problem) == pytest.approx(full, rel=1e-6)
    assert C.sharpness(model, loss, (x[:14], y[:14])) == pytest.approx(full, rel=1e-6)
    subset = _dense_top_eigenvalue(model, loss, x[:5], y[:5])
    assert abs(subset - full) > 1e-3 * abs(full)  # the subset is a different loss
    assert C.sharpness(model, problem, data=(x[:5], y[:5])) == pytest.approx(subset, rel=1e-6)
    with pytest.raises(ValueError, match=r"sharpness\(model, problem\)"):
        C.sharpness(model)
    with pytest.raises(TypeError, match="ravine problem"):
        C.sharpness(model, "cross_entropy", (x, y))
    with pytest.raises(ValueError, match="pair"):
        C.sharpness(model, problem, data=x)


def test_sharpness_on_a_builtin_problem_casts_its_data_to_the_model():
    """moons' data are float32; a float64 model is measured in float64 on them."""
    from ravine import problems

    problem = problems.get("moons", n=60, hidden=4)
    assert problem.x_train.dtype == torch.float32
    torch.manual_seed(1)
    model = problem.model().double()
    x, y = problem.x_train.double(), problem.y_train
    expected = _dense_top_eigenvalue(model, problem.loss, x, y)
    assert C.sharpness(model, problem) == pytest.approx(expected, rel=1e-8)
