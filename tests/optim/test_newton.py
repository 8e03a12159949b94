"""Newton, damped Newton, Levenberg-Marquardt, block-diagonal Newton and DiagonalNewton
against closed forms."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

import ravine.optim as ro


def _quadratic(n=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(n, n, generator=g)
    A = m @ m.T + torch.eye(n)
    b = torch.randn(n, generator=g)
    return A, b


def test_newton_minimizes_a_convex_quadratic_in_one_step():
    A, b = _quadratic()
    x = torch.randn(5, requires_grad=True)
    opt = ro.Newton([x])
    opt.step(lambda: 0.5 * x @ A @ x - b @ x)
    torch.testing.assert_close(x.detach(), torch.linalg.solve(A, b))


def test_newton_on_linear_least_squares_model_is_one_step_to_lstsq():
    torch.manual_seed(0)
    X, y = torch.randn(40, 3), torch.randn(40, 2)
    model = nn.Linear(3, 2)
    opt = ro.Newton(model.parameters())
    opt.step(lambda: nn.functional.mse_loss(model(X), y))
    Xb = torch.cat([X, torch.ones(40, 1)], 1)
    sol = torch.linalg.lstsq(Xb, y).solution  # [4, 2]
    torch.testing.assert_close(model.weight.detach(), sol[:3].T)
    torch.testing.assert_close(model.bias.detach(), sol[3])


def test_damped_newton_direction_and_convergence_on_logistic_regression():
    torch.manual_seed(1)
    X = torch.randn(50, 3)
    y = (X @ torch.tensor([1.0, -2.0, 0.5]) + 0.3 * torch.randn(50) > 0).double()
    w = torch.zeros(3, requires_grad=True)

    def loss():
        return nn.functional.binary_cross_entropy_with_logits(X @ w, y) + 0.01 * w @ w

    opt = ro.Newton([w], damping=0.5)
    # one step = -(H + 0.5 I)^-1 g with the closed-form logistic Hessian
    s = torch.sigmoid(X @ w.detach())
    g = X.T @ (s - y) / 50 + 0.02 * w.detach()
    H = X.T @ (X * (s * (1 - s))[:, None]) / 50 + 0.02 * torch.eye(3)
    expected = w.detach() - torch.linalg.solve(H + 0.5 * torch.eye(3), g)
    opt.step(loss)
    torch.testing.assert_close(w.detach(), expected)
    damped = ro.Newton([w], line_search_fn="backtracking")
    for _ in range(15):
        damped.step(loss)
    (grad,) = torch.autograd.grad(loss(), w)
    assert grad.norm() < 1e-10


def test_newton_refuses_large_models_with_a_clear_error():
    model = nn.Linear(100, 50)  # 5050 parameters
    with pytest.raises(ValueError, match=r"5050 parameters exceed max_params=4096") as err:
        ro.Newton(model.parameters())
    for alternative in ("solver='cg'", "HessianFree", "LBFGS", "KFAC", "DiagonalNewton"):
        assert alternative in str(err.value)
    ro.Newton(model.parameters(), solver="cg")  # matrix-free: no limit
    ro.Newton(model.parameters(), max_params=6000)


def test_newton_validation_and_closure_errors():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="damping"):
        ro.Newton([p], damping=-1.0)
    with pytest.raises(ValueError, match="solver"):
        ro.Newton([p], solver="qr")
    opt = ro.Newton([p])
    with pytest.raises(RuntimeError, match="closure"):
        opt.step()

    def backward_closure():
        loss = (p**2).sum() + p.sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="without calling backward"):
        opt.step(backward_closure)
    assert ro.Newton.elementwise is False
    assert ro.lookup("newton") is ro.Newton


def test_levenberg_marquardt_damping_follows_the_reduction_ratio():
    A, b = _quadratic(4, seed=2)
    x = torch.zeros(4, requires_grad=True)
    opt = ro.LevenbergMarquardt([x], damping=1.0)
    # on a quadratic the model is exact: rho = 1 > 3/4, so lambda shrinks by 2/3 each step
    for k in range(1, 4):
        opt.step(lambda: 0.5 * x @ A @ x - b @ x)
        st = opt.state[x]
        assert float(st["rho"]) == pytest.approx(1.0, abs=1e-9)
        assert float(st["damping"]) == pytest.approx((2 / 3) ** k)


def test_levenberg_marquardt_rejects_bad_steps_and_converges_on_rosenbrock():
    x = torch.tensor([-1.2, 1.0], requires_grad=True)

    def rosen():
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    opt = ro.LevenbergMarquardt([x], damping=1e-3)
    values = []
    for _ in range(100):
        opt.step(rosen)
        values.append(float(rosen().detach()))
    assert all(b <= a + 1e-15 for a, b in itertools.pairwise(values))  # monotone
    torch.testing.assert_close(x.detach(), torch.ones(2), atol=1e-6, rtol=0)


def test_block_newton_on_a_block_separable_quadratic_is_one_step():
    A1, b1 = _quadratic(3, seed=3)
    A2, b2 = _quadratic(2, seed=4)
    u = torch.zeros(3, requires_grad=True)
    v = torch.zeros(2, requires_grad=True)
    opt = ro.BlockDiagonalNewton([u, v], damping=1e-12)
    opt.step(lambda: 0.5 * u @ A1 @ u - b1 @ u + 0.5 * v @ A2 @ v - b2 @ v)
    torch.testing.assert_close(u.detach(), torch.linalg.solve(A1, b1))
    torch.testing.assert_close(v.detach(), torch.linalg.solve(A2, b2))


def test_block_newton_is_saddle_free():
    """On f = x^2 - y^2 Newton jumps to the saddle; |H| moves downhill in y instead."""
    p = torch.tensor([1.0, 0.5], requires_grad=True)
    ro.BlockDiagonalNewton([p], damping=1e-12).step(lambda: p[0] ** 2 - p[1] ** 2)
    torch.testing.assert_close(p.detach(), torch.tensor([0.0, 1.0]))
    q = torch.tensor([1.0, 0.5], requires_grad=True)
    ro.Newton([q]).step(lambda: q[0] ** 2 - q[1] ** 2)
    torch.testing.assert_close(q.detach(), torch.zeros(2))


def test_block_newton_validates_its_blocks_by_name():
    p = torch.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=r"invalid blocks='layer'; allowed: one of 'tensor'"):
        ro.BlockDiagonalNewton([p], blocks="layer")
    with pytest.raises(ValueError, match=r"a block of 3 parameters exceeds max_block=2"):
        ro.BlockDiagonalNewton([p], blocks="group", max_block=2)
    ro.BlockDiagonalNewton([p], blocks="tensor", max_block=3)


def test_diagonal_newton_first_step_on_a_diagonal_quadratic():
    """For a diagonal H, z * Hz = diag(H) exactly (z_i^2 = 1), so the bias-corrected first
    AdaHessian step is p - lr g / (|diag H| + eps)."""
    d = torch.tensor([0.5, 2.0, 10.0])
    p = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
    p0 = p.detach().clone()
    opt = ro.DiagonalNewton([p], lr=0.1, eps=1e-4)
    opt.step(lambda: 0.5 * (d * p * p).sum())
    torch.testing.assert_close(p.detach(), p0 - 0.1 * (d * p0) / (d + 1e-4))
    # and on the quadratic it converges (each coordinate at the same rate)
    for _ in range(300):
        opt.step(lambda: 0.5 * (d * p * p).sum())
    assert p.detach().abs().max() < 1e-2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_diagonal_newton_resumes_with_the_same_probes(dtype):
    """The Hutchinson probes come from the optimizer's generator, whose state travels in the
    state_dict: a run stopped, serialized and resumed in an optimizer built with another seed
    draws the same probes and so repeats the uninterrupted run bit for bit. (torch casts
    state tensors to the parameter's dtype on loading; the byte state survives the cast.)"""
    import io

    g = torch.Generator().manual_seed(2)
    x, y = (
        torch.randn(12, 3, generator=g, dtype=dtype),
        torch.randn(12, 1, generator=g, dtype=dtype),
    )

    def model():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(dtype)

    def train(m, opt, steps):
        for _ in range(steps):
            opt.step(lambda: ((m(x) - y) ** 2).mean())

    straight = model()
    train(straight, ro.DiagonalNewton(straight.parameters(), lr=0.05), 10)

    first = model()
    opt = ro.DiagonalNewton(first.parameters(), lr=0.05)
    train(first, opt, 4)
    saved = opt.state_dict()["state"][0]["generator"]
    assert saved.dtype == torch.uint8
    torch.testing.assert_close(saved, opt._generator.get_state(), rtol=0, atol=0)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = model()
    opt = ro.DiagonalNewton(resumed.parameters(), lr=0.05, seed=7)
    resumed.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["opt"])
    train(resumed, opt, 6)
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    # a state saved before any step restarts the probes from the seed
    other = model()
    fresh = ro.DiagonalNewton(other.parameters(), lr=0.05)
    train(other, fresh, 3)  # moves its generator on
    other.load_state_dict(model().state_dict())
    fresh.load_state_dict(ro.DiagonalNewton(model().parameters(), lr=0.05).state_dict())
    train(other, fresh, 10)
    for p, q in zip(straight.parameters(), other.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
