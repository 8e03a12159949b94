"""ravine.curvature.products against dense matrices from torch.autograd.functional."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.autograd.functional import hessian as dense_hessian
from torch.autograd.functional import jacobian

from ravine import curvature as C


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def quartic(x):
    """A non-quadratic function of 6 variables with couplings (Hessian varies with x)."""
    return (x**4).sum() / 4 + (x[:-1] * x[1:]).sum() + torch.sin(x).sum() + (x @ x) ** 2 / 10


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f", [rosenbrock, quartic])
def test_hvp_matches_dense_hessian(f, mode):
    torch.manual_seed(1)
    n = 2 if f is rosenbrock else 6
    x, v = torch.randn(n), torch.randn(n)
    expected = dense_hessian(f, x) @ v
    torch.testing.assert_close(C.hvp(f, v, x, mode=mode), expected)


def test_dense_hessian_of_a_model(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    expected = dense_hessian(obj.f, obj.x0)
    torch.testing.assert_close(C.hessian(obj), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.hvp(obj, v, mode="forward"), expected @ v)


def test_ggn_matches_jacobian_formula(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    J = jacobian(obj.outputs, obj.x0).reshape(-1, obj.x0.numel())  # [N C, P]
    z = obj.outputs(obj.x0).detach()
    Hz = dense_hessian(lambda t: obj.output_loss(t.reshape(z.shape)), z.reshape(-1))
    expected = J.T @ Hz @ J
    torch.testing.assert_close(C.ggn(obj), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.ggn_vp(obj, v), expected @ v)


def test_true_fisher_equals_formula_and_ggn_for_cross_entropy(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    n = data[0].shape[0]
    Jn = jacobian(obj.outputs, obj.x0)  # [N, C, P]
    p = torch.softmax(obj.outputs(obj.x0).detach(), -1)
    expected = (
        sum(Jn[i].T @ (torch.diag(p[i]) - torch.outer(p[i], p[i])) @ Jn[i] for i in range(n)) / n
    )
    F = C.fisher(obj, kind="true", likelihood="categorical")
    torch.testing.assert_close(F, expected)
    torch.testing.assert_close(F, C.ggn(obj))  # canonical link: Fisher = GGN (Martens 2014)


def test_empirical_fisher_matches_per_example_gradients(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    G = jacobian(obj.per_example, obj.x0)  # [N, P], per-example gradients
    expected = G.T @ G / G.shape[0]
    torch.testing.assert_close(C.fisher(obj, kind="empirical"), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.fisher_vp(obj, v, kind="empirical"), expected @ v)


def test_gaussian_and_bernoulli_fisher():
    torch.manual_seed(2)
    model = nn.Linear(3, 2).double()
    x, y = torch.randn(6, 3), torch.rand(6, 2)
    obj = C.objective(model, nn.functional.mse_loss, (x, y))
    Jn = jacobian(obj.outputs, obj.x0)
    expected = sum(Jn[i].T @ Jn[i] for i in range(6)) / 6
    torch.testing.assert_close(C.fisher(obj, likelihood="gaussian"), expected)
    s = torch.sigmoid(obj.outputs(obj.x0).detach())
    w = s * (1 - s)
    expected_b = sum(Jn[i].T @ torch.diag(w[i]) @ Jn[i] for i in range(6)) / 6
    torch.testing.assert_close(C.fisher(obj, likelihood="bernoulli"), expected_b)
