"""Adafactor against ``torch.optim.Adafactor`` over 200 float64 steps on four shapes (its
factored and unfactored state included), and the paper's form (eps1 in the moments, the
optional momentum) on a first step worked by hand from Shazeer and Stern's Algorithm 4."""

from __future__ import annotations

import copy

import pytest
import torch

import ravine.optim as ro
from support.parity import run_both

TORCH_KEYS = ("row_var", "col_var", "variance")


@pytest.mark.parametrize(
    ("kwargs", "first", "second"),
    [
        ({}, {"lr": 1e-2}, {"lr": 2e-2, "beta2_decay": -0.6, "d": 2.0}),
        ({"weight_decay": 0.1}, {"lr": 5e-3}, {"lr": 1e-2, "eps": (1e-4, 1e-2)}),
        ({"maximize": False, "eps": (1e-6, 1e-3)}, {"lr": 1e-2}, {"lr": 3e-3, "d": 1.5}),
    ],
)
def test_matches_torch_over_200_steps_with_its_state(kwargs, first, second) -> None:
    ours, ref = run_both(
        lambda g: ro.Adafactor(g, **kwargs),
        lambda g: torch.optim.Adafactor(g, **kwargs),
        first,
        second,
    )
    ps = [p for g in ours.param_groups for p in g["params"]]
    qs = [q for g in ref.param_groups for q in g["params"]]
    for p, q in zip(ps, qs, strict=True):
        assert sorted(ours.state[p]) == sorted(ref.state[q])
        for key in TORCH_KEYS:
            if key in ref.state[q]:  # torch's means are squared norms over n: 1e-12 apart
                ours_value, ref_value = ours.state[p][key], ref.state[q][key]
                torch.testing.assert_close(ours_value, ref_value, rtol=1e-10, atol=0)


def test_state_is_factored_for_matrices_and_batched_over_leading_dimensions() -> None:
    params = [torch.nn.Parameter(torch.ones(s)) for s in ((5, 3), (2, 3, 4), (3,), ())]
    opt = ro.Adafactor(params)
    for p in params:
        p.grad = torch.ones_like(p)
    opt.step()
    shapes = [{k: tuple(v.shape) for k, v in opt.state[p].items() if k != "step"} for p in params]
    assert shapes == [
        {"row_var": (5, 1), "col_var": (1, 3)},
        {"row_var": (2, 3, 1), "col_var": (2, 1, 4)},
        {"variance": (3,)},
        {"variance": ()},
    ]
    assert ro.Adafactor.elementwise is False


# G = [[1, 2], [3, 4]] at X = all ones, t = 1 (so 1 - b2_1 = 1): row sums of G^2 R = (5, 25),
# column sums C = (10, 20), sum(R) = 30, V = R C / 30 = [[5/3, 10/3], [25/3, 50/3]] and
# U = G / sqrt(V), U^2 = [[3/5, 6/5], [27/25, 24/25]]; RMS(U) = sqrt(0.96) < d = 1: no
# clipping. alpha_1 = max(eps2, RMS(X) = 1) min(0.01, 1) = 0.01.
G = [[1.0, 2.0], [3.0, 4.0]]
U = torch.tensor([[3 / 5, 6 / 5], [27 / 25, 24 / 25]], dtype=torch.float64).sqrt()


def _first_step(**kwargs) -> torch.Tensor:
    x = torch.nn.Parameter(torch.ones(2, 2, dtype=torch.float64))
    opt = ro.Adafactor([x], **kwargs)
    x.grad = torch.tensor(G, dtype=torch.float64)
    opt.step()
    return x.detach()


def test_first_step_by_hand() -> None:
    torch.testing.assert_close(_first_step(), 1 - 0.01 * U, rtol=1e-14, atol=0)


def test_the_papers_form_first_step_by_hand() -> None:
    # eps1 = 1e-30 inside the moments (negligible here) and momentum b1 = 0.9 of the scaled
    # step: m_1 = (1 - 0.9) alpha_1 U, X_1 = X_0 - m_1
    x = _first_step(eps=(1e-30, 1e-3), eps_in_moments=True, beta1=0.9)
    torch.testing.assert_close(x, 1 - 0.1 * 0.01 * U, rtol=1e-14, atol=0)


def test_eps1_placement_matters_where_gradients_are_small() -> None:
    # G = 1e-3 everywhere, eps1 = 1e-4: the paper's V = G^2 + eps1 = 1.000001e-4 gives
    # U = 1e-3 / sqrt(1.000001e-4) ~ 0.1; torch's max(sqrt(V), eps1) leaves U = 1 (then RMS 1).
    for inside, expected in ((True, 1e-3 / (1e-6 + 1e-4) ** 0.5), (False, 1.0)):
        x = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
        opt = ro.Adafactor([x], eps=(1e-4, 1e-3), eps_in_moments=inside)
        x.grad = torch.full((3,), 1e-3, dtype=torch.float64)
        opt.step()
        torch.testing.assert_close(
            x.detach(), torch.full((3,), 1 - 0.01 * expected, dtype=torch.float64)
        )


def test_loads_torchs_state_dict_and_continues_as_torch() -> None:
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    b = torch.nn.Parameter(a.detach().clone())
    ref = torch.optim.Adafactor([a], weight_decay=0.1)
    for _ in range(5):
        a.grad = torch.sin(3 * a.detach())
        ref.step()
    b.data.copy_(a.detach())
    ours = ro.Adafactor([b], weight_decay=0.1)
    ours.load_state_dict(copy.deepcopy(ref.state_dict()))  # not its live step
    for _ in range(5):
        for p, opt in ((a, ref), (b, ours)):
            p.grad = torch.sin(3 * p.detach())
            opt.step()
    torch.testing.assert_close(b.detach(), a.detach(), rtol=1e-13, atol=0)
