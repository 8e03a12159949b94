"""Shampoo (ravine.optim.shampoo) and its matrix helpers (ravine.optim.preconditioners):
200 float64 steps against pytorch-optimizer's ``Shampoo`` and ``ScalableShampoo`` on a
vector, tall, wide and square matrix and a 4-D conv-like tensor in two param groups, and
the conventions no package has (Adam grafting, epsilon on the eigenvalues, merged dims)
against the paper's formulas worked here with scipy's matrix powers."""

from __future__ import annotations

import pytest
import torch
from pytorch_optimizer import Shampoo as ShampooPackage
from scipy.linalg import fractional_matrix_power

import ravine
import ravine.optim as ro
from ravine.optim.preconditioners import merge_small_dims, preconditioned_shape
from support.catalog.preconditioned import scalable_shampoo

SHAPES = [(5,), (6, 3), (3, 7), (4, 4), (3, 2, 2, 2)]
STEPS = 200


def trajectory(make, shapes=SHAPES, steps=STEPS):
    """Parameters after ``steps`` steps on a smooth nonconvex gradient field, every
    parameter with a gradient at each step; groups: the first two shapes, the rest."""
    gen = torch.Generator().manual_seed(0)
    scale = [torch.randn(*s, generator=gen, dtype=torch.float64) for s in shapes]
    params = [
        torch.nn.Parameter(torch.randn(*s, generator=gen, dtype=torch.float64)) for s in shapes
    ]
    opt = make([{"params": params[:2]}, {"params": params[2:], "lr": 3e-3}])
    for k in range(steps):
        for p, a in zip(params, scale, strict=True):
            p.grad = torch.sin(p.detach() * a + 0.1 * k) + 0.3 * p.detach()
        opt.step()
    return [p.detach() for p in params], opt


def assert_close(ours, ref, rtol):
    for i, (a, b) in enumerate(zip(ours, ref, strict=True)):
        err = float((a - b).abs().max() / b.abs().max())
        assert err <= rtol, f"parameter {i} of shape {tuple(b.shape)}: relative error {err:.2e}"


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({}, {}),
        ({"weight_decay": 0.1}, {"weight_decay": 0.1}),
        (
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"weight_decay": 0.1, "weight_decouple": True},
        ),
        (
            {"update_interval": 3, "initial_root": "zero", "eps": 1e-4},
            {"preconditioning_compute_steps": 3, "matrix_eps": 1e-4},
        ),
    ],
    ids=["paper", "l2", "decoupled", "interval"],
)
def test_matches_pytorch_optimizer_shampoo(ours, theirs):
    """The package takes its roots by SVD, ravine by eigh: equal for these symmetric
    matrices up to rounding times their condition number (the vector's 5 x 5 statistic,
    from eps = 1e-6 up, is ill-conditioned: 5e-9 apart after 200 steps with L2)."""
    a, _ = trajectory(lambda g: ro.Shampoo(g, lr=1e-2, **ours))
    b, _ = trajectory(lambda g: ShampooPackage(g, lr=1e-2, **theirs))
    assert_close(a, b, 1e-7)


@pytest.mark.parametrize("graft", ["none", "sgd", "adagrad", "rmsprop"])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("average", [False, True])
def test_matches_scalable_shampoo(graft, nesterov, average):
    """EMA statistics, grafting, (Nesterov, averaged) momentum, a start step and an interval;
    the (3, 7) matrix exceeds the size limit and takes the graft's direction."""
    kw = {
        "momentum": 0.9, "beta2": 0.99, "graft": graft, "nesterov": nesterov,
        "momentum_average": average, "start_preconditioning": 5, "update_interval": 3,
        "precondition_1d": False, "max_preconditioner_dim": 6, "weight_decay": 0.01,
        "decoupled_weight_decay": True,
    }  # fmt: skip
    a, _ = trajectory(lambda g: ro.Shampoo(g, lr=1e-2, **kw))
    b, _ = trajectory(lambda g: scalable_shampoo(g, lr=1e-2, **kw))
    assert_close(a, b, 1e-10)


def root(m, r):
    return torch.from_numpy(fractional_matrix_power(m.numpy(), -1.0 / r).real)


def test_first_step_of_a_matrix_is_the_papers_formula():
    """theta_1 = theta_0 - lr (eps I + G G^T)^(-1/4) G (eps I + G^T G)^(-1/4)."""
    g = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    p = torch.nn.Parameter(torch.zeros(4, 3, dtype=torch.float64))
    p.grad = g.clone()
    opt = ro.Shampoo([p], lr=0.5, eps=1e-3)
    opt.step()
    eye = torch.eye(4, dtype=torch.float64), torch.eye(3, dtype=torch.float64)
    left, right = 1e-3 * eye[0] + g @ g.T, 1e-3 * eye[1] + g.T @ g
    expected = -0.5 * root(left, 4) @ g @ root(right, 4)
    torch.testing.assert_close(p.detach(), expected, rtol=1e-10, atol=1e-12)


def test_eps_on_the_eigenvalues_and_the_exponent_override():
    """eps_root: R = (L + e I)^(-1/r) with L's sum starting at 0; r from exponent_override;
    a vector: (e I + g g^T)^(-1/2) g with r = 2."""
    g = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    opt = ro.Shampoo([p], lr=1.0, eps=0.0, eps_root=1e-2, exponent_override=2)
    for _ in range(2):
        p.grad = g.clone()
        opt.step()
    first = root(1e-2 * torch.eye(3, dtype=torch.float64) + torch.outer(g, g), 2) @ g
    second = root(1e-2 * torch.eye(3, dtype=torch.float64) + 2 * torch.outer(g, g), 2) @ g
    torch.testing.assert_close(p.detach(), -(first + second), rtol=1e-10, atol=1e-12)


def test_adam_graft_takes_adams_norm():
    """|step| = lr |g / (sqrt(v / (1 - b2)) + e)| at t = 1, v = (1 - b2) g^2: lr |sign(g)|."""
    gen = torch.Generator().manual_seed(2)
    g = torch.randn(5, 4, dtype=torch.float64, generator=gen)
    p = torch.nn.Parameter(torch.zeros(5, 4, dtype=torch.float64))
    opt = ro.Shampoo([p], lr=0.1, graft="adam", beta2=0.9, graft_eps=0.0)
    p.grad = g.clone()
    opt.step()
    torch.testing.assert_close(p.detach().norm(), 0.1 * torch.tensor(20.0).sqrt().double())
    assert not torch.allclose(p.detach(), -0.1 * g.sign())  # Shampoo's direction, Adam's norm


def test_a_tensor_above_the_size_limit_takes_the_graft_direction():
    g = torch.randn(3, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    p = torch.nn.Parameter(torch.zeros(3, 20, dtype=torch.float64))
    opt = ro.Shampoo([p], lr=0.1, graft="adagrad", graft_eps=0.0, max_preconditioner_dim=10)
    p.grad = g.clone()
    opt.step()
    assert not any(k.startswith("L") for k in opt.state[p])
    torch.testing.assert_close(p.detach(), -0.1 * g.sign(), rtol=1e-12, atol=1e-14)


def test_merging_small_dims():
    assert merge_small_dims((1, 2, 512, 1, 2048, 1, 3, 4), 1024) == (1024, 2048, 12)
    assert merge_small_dims((2, 3, 4, 5), 16) == (6, 4, 5)
    assert merge_small_dims((3, 4), 100) == (12,)
    kw = {"max_dim": 16, "merge_dims": True}
    assert preconditioned_shape((2, 3, 4, 5), precondition_1d=False, **kw) == (6, 4, 5)
    assert preconditioned_shape((3, 4), precondition_1d=False, **kw) is None
    assert preconditioned_shape((3, 4), precondition_1d=True, **kw) == (12,)
    p = torch.nn.Parameter(torch.randn(2, 3, 4, 5, dtype=torch.float64))
    opt = ro.Shampoo([p], merge_dims=True, max_preconditioner_dim=16)
    p.grad = torch.randn_like(p)
    opt.step()
    assert [opt.state[p][f"L{i}"].shape[0] for i in range(3)] == [6, 4, 5]


@pytest.mark.parametrize("name", ["shampoo", "soap"])
def test_races_on_a_landscape(name):
    """One instance per trajectory (elementwise False) on [1, 2] parameters, two starts."""
    raced = ravine.race("rosenbrock", [name], steps=300, starts=[(-1.5, 2.0), (0.5, -0.5)])
    losses = raced[name].losses
    assert torch.isfinite(raced[name].positions).all()
    assert (losses[..., -1] < 0.5 * losses[..., 0]).all()
