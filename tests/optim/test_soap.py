"""SOAP (ravine.optim.soap): 200 float64 steps against ``pytorch_optimizer.SOAP`` (a copy
of the authors' code) on a vector, tall, wide and square matrix and 4-D tensors in two
param groups, and its first two steps against the paper's formulas worked here."""

from __future__ import annotations

import pytest
import torch
from pytorch_optimizer import SOAP as SOAPPackage

import ravine.optim as ro

SHAPES = [(5,), (6, 3), (3, 7), (4, 4), (3, 2, 2, 2)]


def trajectory(make, shapes=SHAPES, steps=200):
    gen = torch.Generator().manual_seed(0)
    scale = [torch.randn(*s, generator=gen, dtype=torch.float64) for s in shapes]
    params = [
        torch.nn.Parameter(torch.randn(*s, generator=gen, dtype=torch.float64)) for s in shapes
    ]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 1e-2, "betas": (0.9, 0.99)}]
    opt = make(groups)
    for k in range(steps):
        for p, a in zip(params, scale, strict=True):
            p.grad = torch.sin(p.detach() * a + 0.1 * k) + 0.3 * p.detach()
        opt.step()
    return [p.detach() for p in params]


def error(ours, ref):
    return max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(ours, ref, strict=True))


CASES = {
    "defaults": {},
    "every-step": {"precondition_frequency": 1},
    "vectors": {"precondition_1d": True, "max_precondition_dim": 6, "shampoo_beta": 0.9},
    "normalized": {"normalize_gradient": True, "correct_bias": False, "weight_decay": 0.0},
}


@pytest.mark.parametrize("case", CASES)
def test_matches_pytorch_optimizer_soap(case):
    """With the package's float32 QR (``qr_float32``) ravine gives its numbers."""
    kw = CASES[case]
    ours = trajectory(lambda g: ro.SOAP(g, qr_float32=True, **kw))
    assert error(ours, trajectory(lambda g: SOAPPackage(g, **kw))) <= 1e-10


@pytest.mark.parametrize("data_format", ["channels_first", "channels_last"])
def test_merged_dims_match_the_package(data_format):
    kw = {"merge_dims": True, "max_precondition_dim": 10, "data_format": data_format}
    shapes = [(2, 3, 4, 5), (4, 3, 2, 5)]  # merged to (6, 4, 5) / (10, 3, 4) and so on
    ours = trajectory(lambda g: ro.SOAP(g, qr_float32=True, **kw), shapes)
    assert error(ours, trajectory(lambda g: SOAPPackage(g, **kw), shapes)) <= 1e-10


def test_float64_qr_parts_from_the_package_at_float32_rounding():
    """ravine's default keeps the QR in the parameters' dtype; the package's float32 QR
    then differs by float32 rounding (1e-7), which 200 steps amplify to about 1e-5."""
    err = error(trajectory(lambda g: ro.SOAP(g)), trajectory(lambda g: SOAPPackage(g)))
    assert 1e-12 < err < 1e-4


def test_first_two_steps_are_the_papers_formula():
    """Step 1: GG_L = (1 - b) G G^T, GG_R = (1 - b) G^T G, Q their eigenvectors, no move.
    Step 2 (s = 1): G' = Q_L^T G Q_R, m = (1 - b1) G, v = (1 - b2) G'^2,
    theta -= lr sqrt(1 - b2) / (1 - b1) Q_L [Q_L^T m Q_R / (sqrt(v) + eps)] Q_R^T."""
    gen = torch.Generator().manual_seed(4)
    g1, g2 = (torch.randn(4, 3, dtype=torch.float64, generator=gen) for _ in range(2))
    p = torch.nn.Parameter(torch.zeros(4, 3, dtype=torch.float64))
    b1, b2, b, lr, eps = 0.9, 0.95, 0.8, 0.1, 1e-8
    opt = ro.SOAP([p], lr=lr, betas=(b1, b2), shampoo_beta=b, eps=eps, weight_decay=0.0)
    p.grad = g1.clone()
    opt.step()
    assert torch.equal(p.detach(), torch.zeros(4, 3, dtype=torch.float64))
    state = opt.state[p]
    torch.testing.assert_close(state["GG0"], (1 - b) * g1 @ g1.T)
    for key, gg in (("Q0", (1 - b) * g1 @ g1.T), ("Q1", (1 - b) * g1.T @ g1)):
        q = state[key]
        lam = torch.linalg.eigvalsh(gg).flip(0)  # decreasing
        torch.testing.assert_close(gg @ q, q * lam, atol=1e-12, rtol=1e-10)
    ql, qr = state["Q0"], state["Q1"]
    p.grad = g2.clone()
    opt.step()
    m, v = (1 - b1) * g2, (1 - b2) * (ql.T @ g2 @ qr) ** 2
    step = lr * (1 - b2) ** 0.5 / (1 - b1) * ql @ ((ql.T @ m @ qr) / (v.sqrt() + eps)) @ qr.T
    torch.testing.assert_close(p.detach(), -step, rtol=1e-10, atol=1e-13)


def test_weight_decay_follows_the_step():
    """theta <- (theta - step) (1 - lr lambda): the decay of the authors' code, after."""
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    q = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    decayed, plain = ro.SOAP([p], lr=0.1, weight_decay=0.5), ro.SOAP([q], lr=0.1, weight_decay=0)
    for _ in range(2):
        for x, opt in ((p, decayed), (q, plain)):
            x.grad = torch.tensor([1.0, -1.0, 2.0], dtype=torch.float64)
            opt.step()
    torch.testing.assert_close(p.detach(), q.detach() * (1 - 0.1 * 0.5))
