"""GaussNewton, NaturalGradient and HessianFree against closed forms."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

import ravine.optim as ro


def _logistic_data(n=30, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = (X[:, 0] - X[:, 1] + 0.5 * torch.randn(n, generator=g) > 0).double()
    return X, y


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("kind", ["true", "empirical"])
def test_natural_gradient_on_logistic_regression_matches_closed_form(kind):
    """Binary logistic regression, theta = (w, b), xb = (x, 1), s = sigmoid(theta . xb):
    g = mean (s - y) xb; true F = mean s (1 - s) xb xb^T; empirical F = mean (s-y)^2 xb xb^T.
    The step is theta <- theta - lr (F + lambda I)^-1 g."""
    X, y = _logistic_data()
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    theta = _flat(model)
    Xb = torch.cat([X, torch.ones(30, 1)], 1)
    s = torch.sigmoid(Xb @ theta)
    g = Xb.T @ (s - y) / 30
    w = s * (1 - s) if kind == "true" else (s - y) ** 2
    F = Xb.T @ (Xb * w[:, None]) / 30
    lam, lr = 1e-6, 0.5
    expected = theta - lr * torch.linalg.solve(F + lam * torch.eye(4), g)

    opt = ro.NaturalGradient(
        model.parameters(),
        lr=lr,
        damping=lam,
        fisher=kind,
        likelihood="bernoulli",
        cg_max_iter=100,
        cg_tol=1e-12,
    )

    def closure():
        z = model(X).squeeze(-1)
        losses = nn.functional.binary_cross_entropy_with_logits(z, y, reduction="none")
        return losses, z

    opt.step(closure)
    torch.testing.assert_close(_flat(model), expected, rtol=1e-8, atol=1e-10)


def test_natural_gradient_multinomial_matches_kronecker_closed_form():
    """Softmax regression: J_n = [I_C (x) x_n^T, I_C] (row-major weight, then bias), so
    F = mean_n J_n^T (diag p_n - p_n p_n^T) J_n; with damping (F is singular along the
    softmax's shift invariance)."""
    g_ = torch.Generator().manual_seed(1)
    X, y = torch.randn(25, 2, generator=g_), torch.randint(0, 3, (25,), generator=g_)
    torch.manual_seed(1)
    model = nn.Linear(2, 3)
    theta = _flat(model)
    W, b = model.weight.detach(), model.bias.detach()
    P = torch.softmax(X @ W.T + b, -1)
    onehot = nn.functional.one_hot(y, 3).double()
    grad = torch.cat([((P - onehot).T @ X / 25).reshape(-1), (P - onehot).mean(0)])
    F = torch.zeros(9, 9)
    for n in range(25):
        J = torch.cat([torch.kron(torch.eye(3), X[n][None]), torch.eye(3)], 1)
        F += J.T @ (torch.diag(P[n]) - torch.outer(P[n], P[n])) @ J / 25
    lam = 1e-2
    expected = theta - torch.linalg.solve(F + lam * torch.eye(9), grad)
    opt = ro.NaturalGradient(model.parameters(), damping=lam, cg_max_iter=200, cg_tol=1e-12)

    def closure():
        z = model(X)
        return nn.functional.cross_entropy(z, y), z

    opt.step(closure)
    torch.testing.assert_close(_flat(model), expected, rtol=1e-7, atol=1e-9)


def test_gauss_newton_on_linear_least_squares_is_one_step():
    torch.manual_seed(2)
    X, Y = torch.randn(30, 3), torch.randn(30, 2)
    model = nn.Linear(3, 2)
    opt = ro.GaussNewton(model.parameters(), damping=0.0, cg_max_iter=100, cg_tol=1e-13)

    def closure():
        z = model(X)
        return nn.functional.mse_loss(z, Y), z

    opt.step(closure)
    Xb = torch.cat([X, torch.ones(30, 1)], 1)
    sol = torch.linalg.lstsq(Xb, Y).solution
    torch.testing.assert_close(model.weight.detach(), sol[:3].T)
    torch.testing.assert_close(model.bias.detach(), sol[3])


def _curve_fit_problem():
    """Nonlinear least squares: fit a exp(-k t) + c (zero residual at a=2, k=1.5, c=0.5)."""
    t = torch.linspace(0, 3, 40)
    target = 2.0 * torch.exp(-1.5 * t) + 0.5
    p = torch.tensor([1.0, 0.5, 0.0], requires_grad=True)

    def closure():
        z = p[0] * torch.exp(-p[1] * t) + p[2]
        return ((z - target) ** 2).mean(), z

    return p, closure


@pytest.mark.parametrize(
    "make",
    [
        lambda p: ro.GaussNewton([p], damping=1e-6),
        lambda p: ro.HessianFree([p], damping=1.0),
    ],
)
def test_gauss_newton_and_hessian_free_solve_nonlinear_least_squares(make):
    p, closure = _curve_fit_problem()
    opt = make(p)
    for _ in range(40):
        opt.step(closure)
    torch.testing.assert_close(p.detach(), torch.tensor([2.0, 1.5, 0.5]), atol=1e-6, rtol=0)


def test_hessian_free_trains_a_small_network_and_adapts_damping():
    torch.manual_seed(3)
    X = torch.randn(64, 2)
    y = (X[:, 0] * X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = ro.HessianFree(model.parameters(), damping=1.0, cg_max_iter=20)

    def closure():
        z = model(X)
        return nn.functional.cross_entropy(z, y), z

    start = float(closure()[0].detach())
    for _ in range(30):
        opt.step(closure)
    end = float(closure()[0].detach())
    assert end < 0.5 * start
    st = opt.state[next(model.parameters())]
    assert float(st["damping"]) != 1.0 and "rho" in st


def test_closure_contract_errors():
    p = torch.zeros(2, requires_grad=True)
    opt = ro.GaussNewton([p])
    with pytest.raises(RuntimeError, match=r"\(loss, outputs\)"):
        opt.step(lambda: (p**2).sum() + p.sum())
    ng = ro.NaturalGradient([p], fisher="empirical")
    with pytest.raises(ValueError, match="per-example"):
        ng.step(lambda: (((p - 1) ** 2).sum(), p * 1.0))
    with pytest.raises(ValueError, match="fisher"):
        ro.NaturalGradient([p], fisher="exact")
    with pytest.raises(ValueError, match="likelihood"):
        ro.NaturalGradient([p], likelihood="poisson")
    for name in ("gauss_newton", "natural_gradient", "hessian_free"):
        assert ro.lookup(name).elementwise is False


@pytest.fixture(scope="module")
def digits():
    """The digits MLP (64-64-10, cross-entropy), in float32."""
    from ravine import problems

    return problems.get("digits_mlp")


def _digits_losses(problem, make, steps):
    torch.manual_seed(0)
    model = problem.model().float()
    opt = make(model.parameters())

    x, y = problem.x_train[:512], problem.y_train[:512]  # a third: the test's time

    def closure():
        z = model(x)
        return problem.loss(z, y), z

    return [float(opt.step(closure)) for _ in range(steps)] + [float(closure()[0].detach())]


@pytest.mark.parametrize("cls", [ro.GaussNewton, ro.NaturalGradient])
def test_defaults_train_a_small_mlp_with_cross_entropy(digits, cls):
    """With their defaults the loss decreases on every one of 20 steps (adaptive damping
    takes no rising step) and ends far below the start; with the damping fixed at its
    default the same run diverges (2.3 to about 1e14 within 8 steps)."""
    losses = _digits_losses(digits, cls, 20)
    assert all(b <= a for a, b in itertools.pairwise(losses)), losses
    assert losses[-1] < 0.25 * losses[0], losses
    fixed = _digits_losses(digits, lambda p: cls(p, adaptive_damping=False), 8)
    assert max(fixed) > 1e3 * fixed[0], fixed


def test_fixed_damping_keeps_the_plain_damped_step_even_when_the_loss_rises():
    """adaptive_damping=False: every step is theta <- theta - lr (G + lambda I)^-1 g with the
    same lambda, the old behaviour; with a step long enough to raise the loss (lr = 8)."""
    X, y = _logistic_data()
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    Xb = torch.cat([X, torch.ones(30, 1)], 1)
    lam, lr = 1e-2, 8.0
    opt = ro.GaussNewton(
        model.parameters(), lr=lr, damping=lam, adaptive_damping=False, cg_max_iter=100,
        cg_tol=1e-12,
    )  # fmt: skip

    def closure():
        z = model(X).squeeze(-1)
        return nn.functional.binary_cross_entropy_with_logits(z, y), z

    theta = _flat(model)
    losses = []
    for _ in range(3):
        s = torch.sigmoid(Xb @ theta)
        g = Xb.T @ (s - y) / 30
        G = Xb.T @ (Xb * (s * (1 - s))[:, None]) / 30
        theta = theta - lr * torch.linalg.solve(G + lam * torch.eye(4), g)
        losses.append(float(opt.step(closure)))
        torch.testing.assert_close(_flat(model), theta, rtol=1e-8, atol=1e-10)
    assert max([*losses[1:], float(closure()[0].detach())]) > losses[0], losses
    assert "damping" not in opt.state[model.weight]
