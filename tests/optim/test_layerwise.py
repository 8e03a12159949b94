"""LAMB and LARS against timm's ``Lamb`` and ``Lars`` over 200 float64 steps on four shapes
(where timm is installed: see support/catalog/layerwise.py for how it is loaded), and first
steps worked by hand, the papers' forms included."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from support.catalog.layerwise import has_timm, timm_optimizer
from support.parity import run_both

timm = pytest.mark.skipif(
    not has_timm(),
    reason="timm is not installed (pip install --no-deps -r requirements-references.txt)",
)


@timm
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"always_adapt": False},
        {"always_adapt": False, "weight_decay": 0.0},
        {"decoupled_weight_decay": True, "weight_decay": 0.1},
        {"trust_clip": True, "grad_averaging": False, "bias_correction": False},
        {"weight_decay": 0.0, "betas": (0.8, 0.99), "eps": 1e-8},
    ],
)
def test_lamb_matches_timm_over_200_steps(kwargs) -> None:
    theirs = {
        "decoupled_decay" if k == "decoupled_weight_decay" else k: v for k, v in kwargs.items()
    }
    theirs = {"always_adapt": True, "max_grad_norm": None, **theirs}
    lamb = timm_optimizer("lamb", "Lamb")
    ours, ref = run_both(
        lambda g: ro.LAMB(g, **kwargs),
        lambda g: lamb(g, **theirs),
        {"lr": 1e-2},
        {"lr": 3e-3, "weight_decay": 0.05},
        rtol=1e-10,
    )
    ps = [p for g in ours.param_groups for p in g["params"]]
    qs = [q for g in ref.param_groups for q in g["params"]]
    for p, q in zip(ps, qs, strict=True):
        for key, theirs_key in (("m", "exp_avg"), ("v", "exp_avg_sq")):
            torch.testing.assert_close(
                ours.state[p][key], ref.state[q][theirs_key], rtol=1e-9, atol=0
            )


@timm
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"momentum": 0.9, "weight_decay": 1e-3},
        {"momentum": 0.9, "nesterov": True},
        {"momentum": 0.8, "dampening": 0.3, "trust_clip": True, "weight_decay": 0.01},
        {"always_adapt": False, "momentum": 0.5},
    ],
)
def test_lars_matches_timm_over_200_steps(kwargs) -> None:
    lars = timm_optimizer("lars", "Lars")
    run_both(
        lambda g: ro.LARS(g, **kwargs),
        lambda g: lars(g, **{"always_adapt": True, **kwargs}),
        {"lr": 0.5},
        {"lr": 0.1, "trust_coeff": 0.01},
    )


# p = (3, 4), ||p|| = 5; g = (1, -2), ||g|| = sqrt(5)
P, GRAD = (3.0, 4.0), (1.0, -2.0)


def _one_step(cls, **kwargs) -> torch.Tensor:
    x = torch.nn.Parameter(torch.tensor(P, dtype=torch.float64))
    opt = cls([x], **kwargs)
    x.grad = torch.tensor(GRAD, dtype=torch.float64)
    opt.step()
    return x.detach()


def test_lamb_first_step_by_hand() -> None:
    # t = 1, bias-corrected: m_hat = g, v_hat = g^2, r = g / (|g| + eps) + lam p
    eps, lam, lr = 1e-6, 0.01, 0.1
    r = torch.tensor([1 / (1 + eps) + lam * 3, -2 / (2 + eps) + lam * 4], dtype=torch.float64)
    expected = torch.tensor(P, dtype=torch.float64) - lr * 5 / r.norm() * r
    torch.testing.assert_close(_one_step(ro.LAMB, lr=lr), expected, rtol=1e-14, atol=0)


def test_lamb_trust_clip_and_no_adaptation_by_hand() -> None:
    # ratio 5 / ||r|| ~ 3.5 is clipped to 1 (LAMBC); without decay and always_adapt: Adam
    r = torch.tensor([1 / (1 + 1e-6), -2 / (2 + 1e-6)], dtype=torch.float64)
    clipped = _one_step(ro.LAMB, lr=0.1, weight_decay=0.0, trust_clip=True)
    torch.testing.assert_close(clipped, torch.tensor(P, dtype=torch.float64) - 0.1 * r)
    adam = _one_step(ro.LAMB, lr=0.1, weight_decay=0.0, always_adapt=False)
    torch.testing.assert_close(adam, torch.tensor(P, dtype=torch.float64) - 0.1 * r)


def test_lars_first_step_by_hand() -> None:
    # local = eta ||p|| / (||g|| + lam ||p|| + eps); p -= gamma local (g + lam p)
    eta, lam, gamma = 1e-3, 0.1, 2.0
    local = eta * 5 / (5**0.5 + lam * 5 + 1e-8)
    step = torch.tensor([1 + lam * 3, -2 + lam * 4], dtype=torch.float64) * local
    x = _one_step(ro.LARS, lr=gamma, weight_decay=lam)
    torch.testing.assert_close(x, torch.tensor(P, dtype=torch.float64) - gamma * step)


def test_lars_papers_lr_inside_the_momentum_by_hand_under_a_changing_lr() -> None:
    """The paper's Algorithm 1: v <- m v + gamma_t local_t (g + lam w), w <- w - v. timm's
    form keeps gamma outside the buffer: the two agree at a constant gamma only."""
    m, lam, eta = 0.9, 0.01, 1e-3
    lrs = (1.0, 1.0, 0.1, 0.1)
    runs = {}
    for paper in (True, False):
        x = torch.nn.Parameter(torch.tensor(P, dtype=torch.float64))
        opt = ro.LARS([x], lr=1.0, momentum=m, weight_decay=lam, lr_in_velocity=paper)
        for lr in lrs:
            opt.param_groups[0]["lr"] = lr
            x.grad = torch.sin(x.detach())
            opt.step()
        runs[paper] = x.detach()
    w, v = torch.tensor(P, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    for lr in lrs:
        g = torch.sin(w)
        local = eta * w.norm() / (g.norm() + lam * w.norm() + 1e-8)
        v = m * v + lr * local * (g + lam * w)
        w = w - v
    torch.testing.assert_close(runs[True], w, rtol=1e-14, atol=0)
    assert not torch.allclose(runs[False], w, rtol=1e-6, atol=0)


def test_both_are_per_tensor_rules() -> None:
    assert ro.LAMB.elementwise is False and ro.LARS.elementwise is False
    with pytest.raises(ValueError, match="lr must be a number"):
        ro.LAMB([torch.nn.Parameter(torch.ones(2, 3))], lr=torch.full((2, 1), 0.1))
