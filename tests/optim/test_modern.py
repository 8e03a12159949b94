"""RAdam, NAdamW, Lion and Adan (ravine.optim.modern) against their references, 200 steps
in float64 on parameters of four shapes in two param groups: torch.optim.RAdam and NAdam,
the ``lion-pytorch`` and ``adan-pytorch`` packages, and, for the conventions no package
follows, the update written out here from the paper or the authors' code.

Parameters and state must agree to 1e-12 relative (of the largest reference entry) at every
step: the rules compute the same formulas, in places in another order of operations."""

from __future__ import annotations

import math

import pytest
import torch
from adan_pytorch import Adan as AdanPackage
from lion_pytorch import Lion as LionPackage

import ravine.optim as ro
from support.parity import assert_close, make_params, run_pair

STEPS = 200
RTOL = 1e-12
SHAPES = ((6, 5), (5,), (3, 2, 4), ())


def _run_pair(ours_factory, ref_factory, first: dict, second: dict, state=()) -> None:
    """Both optimizers for STEPS steps over twin parameters in two groups (``first``,
    ``second``); parameters (and state keys ``state``: pairs of ravine's key and the
    reference's) compared after every step."""
    ours_params, ref_params = make_params(SHAPES), make_params(SHAPES)

    def groups(params: list[torch.nn.Parameter]) -> list[dict]:
        return [{"params": params[:2], **first}, {"params": params[2:], **second}]

    ours, ref = ours_factory(groups(ours_params)), ref_factory(groups(ref_params))

    def same_state(p: torch.Tensor, q: torch.Tensor) -> None:
        for ours_key, ref_key in state:
            assert_close(ours.state[p][ours_key], ref.state[q][ref_key], ours_key, RTOL)

    run_pair(ours, ref, ours_params, ref_params, STEPS, RTOL, same_state)


M_V = (("m", "exp_avg"), ("v", "exp_avg_sq"))


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
def test_radam_matches_torch(decoupled: bool, foreach: bool) -> None:
    first = {"lr": 1e-2, "weight_decay": 0.05}
    second = {"lr": 3e-2, "betas": (0.8, 0.99), "eps": 1e-6}
    _run_pair(
        lambda g: ro.RAdam(g, decoupled_weight_decay=decoupled, foreach=foreach),
        lambda g: torch.optim.RAdam(g, decoupled_weight_decay=decoupled),
        first,
        second,
        M_V,
    )


def test_radam_paper_threshold_follows_algorithm_2() -> None:
    """With threshold=4 the rectified step starts where rho_t > 4 (Liu et al., Algorithm 2);
    torch's 5 starts one step later at b2 = 0.9 (rho_5 = 4.58). The paper has no eps; as
    torch, eps is added to sqrt(v) before the bias correction."""
    lr, (b1, b2), eps = 0.01, (0.9, 0.9), 1e-8
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64))
    opt = ro.RAdam([p], lr=lr, betas=(b1, b2), eps=eps, threshold=4.0)
    x, m, v = (
        p.detach().clone(),
        torch.zeros(3, dtype=torch.float64),
        torch.zeros(3, dtype=torch.float64),
    )
    rho_inf = 2 / (1 - b2) - 1
    rectified = []
    for t in range(1, 30):
        opt.zero_grad()
        (torch.cos(p) * p).sum().backward()
        g = torch.cos(x) - torch.sin(x) * x
        opt.step()
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        rho = rho_inf - 2 * t * b2**t / (1 - b2**t)
        m_hat = m / (1 - b1**t)
        if rho > 4:
            r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
            x = x - lr * r * m_hat * math.sqrt(1 - b2**t) / (v.sqrt() + eps)
            rectified.append(t)
        else:
            x = x - lr * m_hat
        assert_close(p.detach(), x, f"step {t}", RTOL)
    assert rectified[0] == 5


def test_nadamw_is_torchs_nadam_with_decoupled_decay() -> None:
    first = {"lr": 1e-2, "weight_decay": 0.1}
    second = {"lr": 2e-2, "betas": (0.8, 0.99), "momentum_decay": 0.01}
    _run_pair(
        ro.NAdamW,
        lambda g: torch.optim.NAdam(g, weight_decay=1e-2, decoupled_weight_decay=True),
        first,
        second,
        (*M_V, ("mu_product", "mu_product")),
    )


def test_nadamw_is_registered_with_decoupled_decay() -> None:
    opt = ro.get("nadamw", make_params(SHAPES))
    assert type(opt) is ro.NAdamW
    assert opt.defaults["decoupled_weight_decay"] is True and opt.defaults["weight_decay"] == 1e-2


@pytest.mark.parametrize("foreach", [False, True])
def test_lion_matches_lion_pytorch(foreach: bool) -> None:
    first = {"lr": 1e-3, "weight_decay": 0.5}
    second = {"lr": 3e-3, "betas": (0.8, 0.98)}
    _run_pair(
        lambda g: ro.Lion(g, foreach=foreach), LionPackage, first, second, (("m", "exp_avg"),)
    )


def test_lion_coupled_decay_adds_l2_before_the_sign() -> None:
    lr, (b1, b2), wd = 0.01, (0.9, 0.99), 0.3
    p = torch.nn.Parameter(torch.tensor([0.7, -1.2, 0.05], dtype=torch.float64))
    opt = ro.Lion([p], lr=lr, weight_decay=wd, decoupled_weight_decay=False)
    x, m = p.detach().clone(), torch.zeros(3, dtype=torch.float64)
    for t in range(1, 50):
        opt.zero_grad()
        (p**4 - p).sum().backward()
        opt.step()
        g = 4 * x**3 - 1 + wd * x
        x = x - lr * torch.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
        assert_close(p.detach(), x, f"step {t}", RTOL)


ADAN_STATE = (("m", "m"), ("v", "v"), ("n", "n"), ("g_prev", "prev_grad"))


@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("decay", [0.0, 0.05])
def test_adan_matches_adan_pytorch(decay: float, foreach: bool) -> None:
    first = {"lr": 1e-2, "proximal_decay": decay}
    second = {"lr": 3e-3, "betas": (0.1, 0.2, 0.05), "eps": 1e-6}
    rename = {"proximal_decay": "weight_decay"}

    def reference(groups):
        return AdanPackage([{rename.get(k, k): v for k, v in g.items()} for g in groups])

    _run_pair(
        lambda g: ro.Adan(g, first_step=False, foreach=foreach),
        reference,
        first,
        second,
        ADAN_STATE,
    )


def test_adan_first_step_follows_the_authors_code() -> None:
    """``first_step=True`` (the default): Xie et al.'s own implementation, whose first step
    takes g_1 into the moments with g_0 = g_1 (d_1 = 0), written out here."""
    lr, (b1, b2, b3), eps, lam = 0.02, (0.02, 0.08, 0.01), 1e-8, 0.1
    p = torch.nn.Parameter(torch.tensor([0.7, -1.2, 2.0], dtype=torch.float64))
    opt = ro.Adan([p], lr=lr, proximal_decay=lam)
    x = p.detach().clone()
    m, v, n = (torch.zeros(3, dtype=torch.float64) for _ in range(3))
    g_prev = None
    for t in range(1, STEPS + 1):
        opt.zero_grad()
        (torch.sin(p) * p**2).sum().backward()
        opt.step()
        g = torch.cos(x) * x**2 + 2 * x * torch.sin(x)
        d = g - (g if g_prev is None else g_prev)
        m = (1 - b1) * m + b1 * g
        v = (1 - b2) * v + b2 * d
        n = (1 - b3) * n + b3 * (g + (1 - b2) * d) ** 2
        c1, c2, c3 = (1 - (1 - b) ** t for b in (b1, b2, b3))
        step = (m / c1 + (1 - b2) * v / c2) / ((n / c3).sqrt() + eps)
        x = (x - lr * step) / (1 + lr * lam)
        g_prev = g
        assert_close(p.detach(), x, f"step {t}", RTOL)


def test_adan_refuses_two_betas() -> None:
    with pytest.raises(ValueError, match=r"a triple \(beta1, beta2, beta3\)"):
        ro.Adan(make_params(SHAPES), betas=(0.02, 0.08))
