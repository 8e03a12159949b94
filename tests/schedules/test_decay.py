"""The one-piece schedules (ravine.schedules.decay) against torch.optim.lr_scheduler,
closed-form formulas and numpy loops of the optimizers they drive."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

import ravine.optim as ro
from ravine import schedules as S
from support.schedules import LR0, STEPS, run_ravine, run_torch

# torch's StepLR, ExponentialLR, CosineAnnealingLR, LinearLR and PolynomialLR update the lr
# recursively (lr_t from lr_{t-1}); ravine evaluates the closed form. They agree to rounding:
CLOSE = {"rtol": 1e-11, "atol": 1e-15}


# --------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize(
    ("torch_make", "ours"),
    [
        (lambda o: tls.StepLR(o, step_size=30, gamma=0.7), S.step_decay(30, 0.7)),
        (lambda o: tls.StepLR(o, step_size=1, gamma=0.995), S.step_decay(1, 0.995)),
        (
            lambda o: tls.MultiStepLR(o, milestones=[100, 250, 250, 700], gamma=0.3),
            S.multi_step([100, 250, 250, 700], 0.3),
        ),
        (lambda o: tls.ExponentialLR(o, gamma=0.996), S.exponential(0.996)),
        (lambda o: tls.CosineAnnealingLR(o, T_max=STEPS), S.cosine(STEPS)),
        (
            lambda o: tls.CosineAnnealingLR(o, T_max=STEPS, eta_min=1e-3),
            S.cosine(STEPS, final=1e-3),
        ),
        (
            lambda o: tls.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=300),
            S.linear(0.25, 1.0, 300, relative=True),
        ),
        (
            lambda o: tls.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=300),
            S.warmup(300, start=0.25 * LR0),
        ),
        (
            lambda o: tls.LinearLR(o, start_factor=1.0, end_factor=0.05, total_iters=600),
            S.linear(1.0, 0.05, 600, relative=True),
        ),
        (lambda o: tls.PolynomialLR(o, total_iters=800, power=2.0), S.polynomial(800, 2.0)),
        (lambda o: tls.PolynomialLR(o, total_iters=STEPS, power=1.0), S.polynomial(STEPS)),
    ],
    ids=[
        "StepLR",
        "StepLR-every-step",
        "MultiStepLR",
        "ExponentialLR",
        "CosineAnnealingLR",
        "CosineAnnealingLR-eta_min",
        "LinearLR",
        "LinearLR-as-warmup",
        "LinearLR-decay",
        "PolynomialLR-2",
        "PolynomialLR-1",
    ],
)
def test_matches_torch_scheduler_step_by_step(torch_make, ours):
    expected = run_torch(torch_make)
    got = run_ravine({"lr": ours})
    assert got.shape == (STEPS + 1, 1)
    np.testing.assert_allclose(got, expected, **CLOSE)
    # The pure function gives the same values as the scheduler applied them.
    np.testing.assert_array_equal(got[:, 0], [ours(t, LR0) for t in range(STEPS + 1)])


def test_inverse_time_is_lr0_over_one_plus_kt():
    k, lr0 = 0.05, 0.3
    s = S.inverse_time(k)
    for t in range(STEPS + 1):
        assert s(t, lr0) == lr0 / (1 + k * t)
        assert s(t) == 1 / (1 + k * t)
    half = S.inverse_time(k, power=0.5)
    for t in (0, 1, 17, 999):
        assert half(t, lr0) == pytest.approx(lr0 / math.sqrt(1 + k * t), rel=1e-15)
    # Driving SGD: theta_{t+1} = theta_t - lr0 / (1 + k t) * A theta_t, written out in numpy.
    a = np.array([1.0, 0.3, 2.0])
    x = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = ro.SGD([x], lr=lr0)
    sched = S.Scheduler(opt, {"lr": s})
    ref = np.ones(3)
    for t in range(200):
        opt.zero_grad()
        (0.5 * (torch.from_numpy(a) * x * x).sum()).backward()
        opt.step()
        sched.step()
        ref = ref - lr0 / (1 + k * t) * a * ref
    np.testing.assert_allclose(x.detach().numpy(), ref, rtol=1e-13, atol=0)


# --------------------------------------------------------------------------- momentum


A = np.array([[2.0, 0.3], [0.3, 0.5]])
B = np.array([1.0, -0.5])


def _quadratic(x: torch.Tensor) -> torch.Tensor:
    a, b = torch.from_numpy(A), torch.from_numpy(B)
    return 0.5 * x @ a @ x - b @ x


def _run_momentum(schedules, steps, lr, mu, lr_in_velocity=True):
    x = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    opt = ro.Momentum([x], lr=lr, momentum=mu, lr_in_velocity=lr_in_velocity)
    sched = S.Scheduler(opt, schedules) if schedules else None
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        _quadratic(x).backward()
        opt.step()
        if sched:
            sched.step()
        path.append(x.detach().numpy().copy())
    return np.array(path)


def test_momentum_annealing_follows_the_formula():
    steps, lr = 300, 0.05

    def mu(t):  # momentum 0.5 -> 0.99 linearly over 200 steps, then held
        return 0.5 + (0.99 - 0.5) * min(t, 200) / 200

    got = _run_momentum({"momentum": S.linear(0.5, 0.99, 200)}, steps, lr, mu=0.5)
    theta, v = np.array([3.0, -2.0]), np.zeros(2)
    ref = [theta.copy()]
    for t in range(steps):  # v <- mu_t v - lr g; theta <- theta + v   (step t uses mu(t))
        g = A @ theta - B
        v = mu(t) * v - lr * g
        theta = theta + v
        ref.append(theta.copy())
    np.testing.assert_allclose(got, np.array(ref), rtol=1e-12, atol=1e-13)
    fixed = _run_momentum(None, steps, lr, mu=0.5)
    assert np.abs(got - fixed).max() > 1e-2  # annealing really changes the trajectory


def test_momentum_conventions_differ_under_an_lr_schedule_as_the_math_predicts():
    steps, lr0, mu = 120, 0.1, 0.9

    def lr(t):  # halve every 25 steps
        return lr0 * 0.5 ** (t // 25)

    sched = {"lr": S.step_decay(25, 0.5)}
    classic = _run_momentum(sched, steps, lr0, mu, lr_in_velocity=True)
    torch_form = _run_momentum({"lr": S.step_decay(25, 0.5)}, steps, lr0, mu, False)

    # The two recurrences, written out.
    th_a, v = np.array([3.0, -2.0]), np.zeros(2)
    th_b, b = th_a.copy(), np.zeros(2)
    ref_a, ref_b = [th_a.copy()], [th_b.copy()]
    for t in range(steps):
        v = mu * v - lr(t) * (A @ th_a - B)  # v <- mu v - lr_t g;  theta <- theta + v
        th_a = th_a + v
        b = mu * b + (A @ th_b - B)  # b <- mu b + g;  theta <- theta - lr_t b
        th_b = th_b - lr(t) * b
        ref_a.append(th_a.copy())
        ref_b.append(th_b.copy())
    np.testing.assert_allclose(classic, np.array(ref_a), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(torch_form, np.array(ref_b), rtol=1e-12, atol=1e-13)
    # Identical until the first decay, different after it.
    np.testing.assert_allclose(classic[:26], torch_form[:26], rtol=1e-12, atol=1e-13)
    assert np.abs(classic[27:] - torch_form[27:]).max() > 1e-3

    # torch.optim.SGD(momentum) + StepLR uses the second form.
    x = torch.nn.Parameter(torch.tensor([3.0, -2.0], dtype=torch.float64))
    opt = torch.optim.SGD([x], lr=lr0, momentum=mu)
    steplr = tls.StepLR(opt, step_size=25, gamma=0.5)
    path = [x.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        _quadratic(x).backward()
        opt.step()
        steplr.step()
        path.append(x.detach().numpy().copy())
    np.testing.assert_allclose(torch_form, np.array(path), rtol=1e-12, atol=1e-13)


def test_momentum_conventions_with_a_constant_gradient_closed_form():
    # f(theta) = c . theta has g = c at every step, so each step is a closed-form sum:
    #   classic:  theta_{t+1} - theta_t = -c sum_{j<=t} mu^{t-j} lr_j
    #   torch:    theta_{t+1} - theta_t = -c lr_t sum_{j<=t} mu^{t-j}
    c, mu, steps = torch.tensor([1.0, -2.0], dtype=torch.float64), 0.8, 40
    lr = S.exponential(0.9)
    lrs = [lr(t, 0.2) for t in range(steps)]
    for lr_in_velocity in (True, False):
        x = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
        opt = ro.Momentum([x], lr=0.2, momentum=mu, lr_in_velocity=lr_in_velocity)
        sched = S.Scheduler(opt, {"lr": lr})
        for t in range(steps):
            before = x.detach().clone()
            opt.zero_grad()
            (c @ x).backward()
            opt.step()
            sched.step()
            weights = [mu ** (t - j) for j in range(t + 1)]
            if lr_in_velocity:
                coef = sum(w * lrs[j] for j, w in enumerate(weights))
            else:
                coef = lrs[t] * sum(weights)
            torch.testing.assert_close(x.detach() - before, -coef * c, rtol=1e-12, atol=0)
