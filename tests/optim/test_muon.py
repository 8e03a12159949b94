"""Muon (ravine.optim.muon) against torch.optim.Muon on matrices and torch.optim.AdamW on
the rest, 200 steps in float64 on tall, wide and square matrices and a vector in two param
groups; the Newton-Schulz iteration against its polynomial written out."""

from __future__ import annotations

import math

import pytest
import torch

import ravine.optim as ro
from ravine.optim.muon import newton_schulz
from support.catalog.matrix import TorchMuonAdamW
from support.parity import assert_close, make_params, run_pair

STEPS = 200
RTOL = 1e-12
SHAPES = ((7, 3), (3, 7), (5, 5), (4,), (6, 4), ())


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert_close(actual, expected, what, RTOL)


def _groups(params, first: dict, second: dict) -> list[dict]:
    return [{"params": params[:3], **first}, {"params": params[3:], **second}]


def _run(ours, ref, ours_params, ref_params):
    def state(p, q):
        _close(ours.state[p]["m"], ref.state[q]["exp_avg"], "m")
        if p.dim() != 2:
            _close(ours.state[p]["v"], ref.state[q]["exp_avg_sq"], "v")

    run_pair(ours, ref, ours_params, ref_params, STEPS, RTOL, state)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"nesterov": False, "adjust_lr_fn": "match_rms_adamw"},
        {"ns_steps": 3, "ns_coefficients": (2.0, -1.5, 0.5), "eps": 1e-6},
    ],
    ids=["defaults", "plain-momentum-moonlight", "coefficients"],
)
def test_muon_matches_torch_muon_and_adamw(options) -> None:
    first = {"lr": 2e-2, "weight_decay": 0.05}
    second = {"lr": 5e-3, "weight_decay": 0.0, "momentum": 0.9}
    ours_params, ref_params = make_params(SHAPES), make_params(SHAPES)
    ours = ro.Muon(_groups(ours_params, first, second), **options)
    ref = TorchMuonAdamW(_groups(ref_params, first, second), (0.9, 0.95), 1e-10, **options)
    _run(ours, ref, ours_params, ref_params)


def test_fallback_betas_and_eps_reach_adamw() -> None:
    first, second = {"lr": 1e-2, "weight_decay": 0.1}, {"lr": 3e-3, "weight_decay": 0.01}
    ours_params, ref_params = make_params(SHAPES), make_params(SHAPES)
    ours = ro.Muon(_groups(ours_params, first, second), adamw_betas=(0.8, 0.99), adamw_eps=1e-8)
    ref = TorchMuonAdamW(_groups(ref_params, first, second), (0.8, 0.99), 1e-8)
    _run(ours, ref, ours_params, ref_params)


def test_without_fallback_non_matrices_are_refused_as_torch_does() -> None:
    with pytest.raises(ValueError, match=r"shape \(4,\).*fallback=None"):
        ro.Muon(make_params(((3, 2), (4,))), fallback=None)
    with pytest.raises(ValueError, match="only supports 2D"):
        torch.optim.Muon(make_params(((3, 2), (4,))))
    opt = ro.Muon(make_params(((3, 2),)), fallback=None)
    with pytest.raises(ValueError, match="shape"):
        opt.add_param_group({"params": make_params(((2,),))})
    assert len(opt.param_groups) == 1


def _newton_schulz_by_hand(x: torch.Tensor, a: float, b: float, c: float, k: int) -> torch.Tensor:
    """X0 = x / |x|_F on its wide side; X <- a X + b (X X^T) X + c (X X^T)^2 X, k times."""
    wide = x.T if x.shape[0] > x.shape[1] else x
    y = wide / torch.linalg.matrix_norm(wide)
    for _ in range(k):
        s = y @ y.T
        y = a * y + b * s @ y + c * s @ s @ y
    return y.T if x.shape[0] > x.shape[1] else y


@pytest.mark.parametrize("shape", [(7, 3), (3, 7), (5, 5)])
def test_newton_schulz_is_its_polynomial_and_nearly_orthogonalises(shape) -> None:
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    coefficients = (3.4445, -4.7750, 2.0315)
    out = newton_schulz(x, coefficients, 5, 1e-7, None)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, _newton_schulz_by_hand(x, *coefficients, 5), rtol=1e-12, atol=0)
    singular = torch.linalg.svdvals(out)
    assert bool(((singular > 0.6) & (singular < 1.25)).all()), singular
    # the classic cubic (1.5, -0.5, 0) converges to U V^T itself
    u, _, vh = torch.linalg.svd(x, full_matrices=False)
    exact = newton_schulz(x, (1.5, -0.5, 0.0), 60, 1e-7, None)
    torch.testing.assert_close(exact, u @ vh, rtol=0, atol=1e-10)


def test_param_precision_option_runs_newton_schulz_in_float64() -> None:
    """ns_dtype='param': one step is theta - lr r NS(u) with NS in float64, written out."""
    (p,) = make_params(((6, 4),))
    g = torch.randn(6, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    start = p.detach().clone()
    opt = ro.Muon([p], lr=0.1, weight_decay=0.0, ns_dtype="param", nesterov=False)
    p.grad = g.clone()
    opt.step()
    u = 0.05 * g  # m = (1 - 0.95) g
    expected = start - 0.1 * math.sqrt(6 / 4) * _newton_schulz_by_hand(u, 3.4445, -4.775, 2.0315, 5)
    torch.testing.assert_close(p.detach(), expected, rtol=1e-12, atol=0)


def test_registered_and_not_elementwise() -> None:
    info = ro.registry.resolve("muon")
    assert info.cls is ro.Muon and not info.elementwise
    assert info.defaults["momentum"] == 0.95 and info.defaults["fallback"] == "adamw"
