"""The catalog's entries for MADGRAD and AdEMAMix (ravine.optim.learning_rate_free), and
AdEMAMix's update written out from the paper's Algorithm 1 (no reference package installs).

MADGRAD's reference, the authors' ``madgrad`` package, counts steps once per optimizer, so
it parts from ravine after the parity test's step without a gradient: its 200-step parity
runs in tests/optim/test_learning_rate_free.py, where every parameter has a gradient."""

from __future__ import annotations

import math

import torch

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same
from .references import hand

__all__ = ["MODERN2", "ademamix_paper"]


def ademamix_paper(p, g, state, t, group):
    # Pagliardini et al. 2024, Algorithm 1, with the warm-ups of their Section 3 read at
    # s = t - 1 steps done: alpha_t = alpha min(s / T_alpha, 1);
    # beta3_t = exp(ln b1 ln b3 / ((1 - s/T3) ln b3 + (s/T3) ln b1)) while s < T3.
    b1, b2 = group["betas"]
    b3, alpha, s = group["beta3"], group["alpha"], t - 1
    if group["alpha_warmup"] and s < group["alpha_warmup"]:
        alpha = alpha * s / group["alpha_warmup"]
    if group["beta3_warmup"] and s < group["beta3_warmup"]:
        f = s / group["beta3_warmup"]
        b3 = math.exp(math.log(b1) * math.log(b3) / ((1 - f) * math.log(b3) + f * math.log(b1)))
    m1 = state["m1"] = b1 * state.get("m1", 0 * g) + (1 - b1) * g
    m2 = state["m2"] = b3 * state.get("m2", 0 * g) + (1 - b3) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    m1_hat, v_hat = m1 / (1 - b1**t), v / (1 - b2**t)
    update = (m1_hat + alpha * m2) / (torch.sqrt(v_hat) + group["eps"])
    p -= group["lr"] * (update + group["weight_decay"] * p)


ADEMAMIX_DEFAULTS = {
    "betas": (0.9, 0.999),
    "beta3": 0.9999,
    "alpha": 2.0,
    "eps": 1e-8,
    "weight_decay": 0.0,
    "alpha_warmup": 0,
    "beta3_warmup": 0,
}
ADEMAMIX_GROUPS = ({"lr": 1e-3}, {"lr": 3e-3, "betas": (0.8, 0.99), "beta3": 0.999})
ADEMAMIX_STATE = {"m1": same("m1"), "m2": same("m2"), "v": same("v")}
MADGRAD_GROUPS = ({"lr": 1e-2}, {"lr": 3e-3, "momentum": 0.5})


def ademamix_reference(**overrides) -> Reference:
    return Reference(
        hand(ademamix_paper, **{**ADEMAMIX_DEFAULTS, **overrides}),
        ADEMAMIX_GROUPS,
        rename={"decoupled_weight_decay": None},
        state=ADEMAMIX_STATE,
    )


MODERN2 = (
    OptimizerEntry(
        ro.MADGRAD,
        variants=(Variant(), Variant("paper-lr", {"eps_in_lr": False})),
        bad=(
            Bad("momentum", 1.0, r"invalid momentum=1\.0"),
            Bad("eps", -1e-6, "invalid eps=-1e-06"),
            Bad("eps_in_lr", "yes", "invalid eps_in_lr='yes'"),
        ),
        converges={"quadratic": ({"lr": 0.1}, 2000, 1.0), "rosenbrock": ({"lr": 0.003}, 5000, 1.0)},
    ),
    OptimizerEntry(
        ro.AdEMAMix,
        variants=(
            Variant("", {}, ademamix_reference()),
            Variant(
                "warmup",
                {"alpha_warmup": 50, "beta3_warmup": 80, "alpha": 5.0},
                ademamix_reference(),
            ),
            Variant("decay", {"weight_decay": 0.1}, ademamix_reference()),
        ),
        bad=(
            Bad("beta3", 1.0, r"invalid beta3=1\.0"),
            Bad("alpha", -1.0, r"invalid alpha=-1\.0"),
            Bad("alpha_warmup", 2.5, "alpha_warmup must be an integer"),
        ),
        converges={
            "quadratic": ({"lr": 0.05, "beta3": 0.99}, 1500, 0.01),
            "rosenbrock": ({"lr": 0.05, "beta3": 0.99}, 3000, 0.01),
        },
    ),
)
