"""RMSProp's optax options written out by hand over a few steps, on one coordinate."""

from __future__ import annotations

import math

import pytest
import torch

import ravine.optim as ro


def _run(grads, lrs, **options):
    x = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = ro.RMSProp([x], lr=lrs[0], decay=0.5, eps=1e-8, momentum=0.5, **options)
    out = []
    for g, lr in zip(grads, lrs, strict=True):
        opt.param_groups[0]["lr"] = lr
        x.grad = torch.tensor([g], dtype=torch.float64)
        opt.step()
        out.append(x.item())
    return out


GRADS, LRS = (1.0, -2.0, 0.5), (0.1, 0.2, 0.05)


def _d(s):
    return 1 / (math.sqrt(s) + 1e-8)


def test_nesterov_steps_lr_times_mu_b_plus_d() -> None:
    # s1 = .5, d1 = 1/sqrt(.5); b1 = d1; x1 = -.1 (.5 b1 + d1)
    # s2 = .25 + 2 = 2.25, d2 = -2/1.5; b2 = .5 b1 + d2; x2 = x1 - .2 (.5 b2 + d2)
    d1 = 1 * _d(0.5)
    x1 = -0.1 * (0.5 * d1 + d1)
    d2 = -2 * _d(2.25)
    b2 = 0.5 * d1 + d2
    x2 = x1 - 0.2 * (0.5 * b2 + d2)
    got = _run(GRADS[:2], LRS[:2], nesterov=True)
    assert got == pytest.approx([x1, x2], rel=1e-14)


def test_lr_in_momentum_keeps_each_step_at_its_own_rate() -> None:
    # b = mu b + lr d; x -= b: the first step keeps lr 0.1 inside b after lr changes
    d1, d2 = _d(0.5), -2 * _d(2.25)
    d3 = 0.5 * _d(0.5 * 2.25 + 0.5 * 0.25)
    b1 = 0.1 * d1
    b2 = 0.5 * b1 + 0.2 * d2
    b3 = 0.5 * b2 + 0.05 * d3
    inside = _run(GRADS, LRS, lr_in_momentum=True)
    assert inside == pytest.approx([-b1, -b1 - b2, -b1 - b2 - b3], rel=1e-14)
    # PyTorch's form, b = mu b + d, x -= lr b, differs once lr changes
    outside = _run(GRADS, LRS)
    assert outside[0] == pytest.approx(inside[0], rel=1e-14)
    assert abs(outside[2] - inside[2]) > 1e-3


def test_initial_scale_and_bias_correction() -> None:
    # s0 = 1; s1 = .5 + .5 = 1 (no bias correction): x1 = -.1 / (1 + 1e-8)
    assert _run((1.0,), (0.1,), initial_scale=1.0)[0] == pytest.approx(-0.1 / (1 + 1e-8), 1e-14)
    # bias correction: s1_hat = .5 / (1 - .5) = 1, so the same first step from s0 = 0
    assert _run((1.0,), (0.1,), bias_correction=True)[0] == pytest.approx(-0.1 / (1 + 1e-8), 1e-14)
    # and without either, s1 = .5: x1 = -.1 / sqrt(.5)
    assert _run((1.0,), (0.1,))[0] == pytest.approx(-0.1 * _d(0.5), 1e-14)
