"""MADGRAD against the authors' ``madgrad`` package and AdEMAMix against the paper's
Algorithm 1 written out by hand: 200 steps in float64 on parameters of four shapes in two
param groups with their own hyperparameters; parameters agree to 1e-12 relative (1e-11
where MADGRAD runs without momentum: the package then recomputes x0 from theta each step,
ravine keeps it, and the package's rounding drifts to about 1.3e-12 by step 200)."""

from __future__ import annotations

import math

import pytest

import ravine.optim as ro
from support.catalog.modern2 import ADEMAMIX_DEFAULTS, ademamix_paper
from support.catalog.references import hand
from support.parity import run_both

madgrad = pytest.importorskip("madgrad")

STEPS = 200
RTOL = 1e-12


def _run_both(ours_factory, ref_factory, first: dict, second: dict, rtol=RTOL) -> None:
    run_both(ours_factory, ref_factory, first, second, steps=STEPS, rtol=rtol)


@pytest.mark.parametrize("foreach", [False, None])
@pytest.mark.parametrize(
    ("kwargs", "first", "second", "rtol"),
    [
        ({}, {"lr": 1e-2}, {"lr": 3e-3, "momentum": 0.5}, RTOL),
        ({}, {"lr": 1e-2, "momentum": 0.0}, {"lr": 2e-2, "eps": 1e-4}, 1e-11),
        ({}, {"lr": 1e-2}, {"lr": 0.0}, RTOL),
        ({"weight_decay": 1e-2}, {"lr": 1e-2}, {"lr": 5e-3}, RTOL),
    ],
    ids=["momenta", "no-momentum-eps", "zero-lr", "coupled-decay"],
)
def test_madgrad_matches_the_authors_package(kwargs, first, second, rtol, foreach) -> None:
    _run_both(
        lambda groups: ro.MADGRAD(groups, foreach=foreach, **kwargs),
        lambda groups: madgrad.MADGRAD(groups, **kwargs),
        first,
        second,
        rtol,
    )


def test_madgrad_paper_lr_is_the_package_at_lr_minus_eps() -> None:
    """eps_in_lr=False: lam_t = eta sqrt(t), the package's at lr = eta - eps."""
    eps = 1e-6
    _run_both(
        lambda groups: ro.MADGRAD(groups, eps_in_lr=False),
        lambda groups: madgrad.MADGRAD([{**g, "lr": g["lr"] - eps} for g in groups]),
        {"lr": 1e-2},
        {"lr": 3e-3, "momentum": 0.5},
    )


@pytest.mark.parametrize("foreach", [False, None])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"alpha": 5.0, "alpha_warmup": 120, "beta3_warmup": 150},
        {"weight_decay": 0.1, "beta3": 0.999},
    ],
    ids=["defaults", "warmups", "decoupled-decay"],
)
def test_ademamix_matches_the_papers_algorithm(kwargs, foreach) -> None:
    _run_both(
        lambda groups: ro.AdEMAMix(groups, foreach=foreach, **kwargs),
        lambda groups: hand(ademamix_paper, **ADEMAMIX_DEFAULTS)(groups, **kwargs),
        {"lr": 1e-3},
        {"lr": 3e-3, "betas": (0.8, 0.99)},
    )


def test_ademamix_beta3_warmup_starts_at_beta1_and_ends_at_beta3() -> None:
    from ravine.optim.learning_rate_free import ademamix_schedules

    assert ademamix_schedules(1, 0.9, 0.9999, 5.0, 100, 100) == (0.0, pytest.approx(0.9))
    alpha, beta3 = ademamix_schedules(51, 0.9, 0.9999, 5.0, 100, 100)
    assert alpha == 2.5
    # half-life 1 / -ln(beta) halfway between those of b1 and b3
    assert -1 / math.log(beta3) == pytest.approx((-1 / math.log(0.9) - 1 / math.log(0.9999)) / 2)
    assert ademamix_schedules(101, 0.9, 0.9999, 5.0, 100, 100) == (5.0, 0.9999)
