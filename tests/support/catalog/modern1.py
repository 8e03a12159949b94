"""The catalog's recent elementwise optimizers (ravine.optim.modern): RAdam and NAdamW
against torch.optim, Lion against ``lion-pytorch``, Adan against ``adan-pytorch``."""

from __future__ import annotations

import math

import torch
from adan_pytorch import Adan as AdanPackage
from lion_pytorch import Lion as LionPackage

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same

__all__ = ["MODERN1"]

T = torch.optim
M_V = {"m": same("exp_avg"), "v": same("exp_avg_sq")}
ADAN_REFERENCE = Reference(
    AdanPackage,
    ({"lr": 1e-2}, {"lr": 3e-3, "betas": (0.1, 0.2, 0.05), "eps": 1e-6}),
    rename={"first_step": None, "proximal_decay": "weight_decay"},
    state={"m": same("m"), "v": same("v"), "n": same("n"), "g_prev": same("prev_grad")},
)

MODERN1 = (
    OptimizerEntry(
        ro.RAdam,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.RAdam,
                    ({"lr": 1e-3, "weight_decay": 0.01}, {"lr": 3e-3, "betas": (0.8, 0.99)}),
                    state=M_V,
                ),
            ),
            Variant(
                "decoupled",
                {"decoupled_weight_decay": True, "weight_decay": 0.1},
                Reference(T.RAdam, ({"lr": 1e-3}, {"lr": 3e-3, "betas": (0.8, 0.9)}), state=M_V),
            ),
            # the paper's Algorithm 2 rectifies from rho_t > 4 (no library does)
            Variant("paper-threshold", {"threshold": 4.0}),
        ),
        bad=(
            Bad("eps", 0.0, "invalid eps=0.0"),
            Bad("betas", (0.9, 1.0), r"invalid betas\[1\]=1.0"),
            Bad("threshold", -1.0, "invalid threshold=-1.0"),
        ),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.01}, 6000, 1.0)},
    ),
    OptimizerEntry(
        ro.NAdamW,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.NAdam,
                    ({"lr": 2e-3, "weight_decay": 0.1}, {"lr": 1e-3, "momentum_decay": 0.01}),
                    extra={"decoupled_weight_decay": True, "weight_decay": 1e-2},
                    state={**M_V, "mu_product": same("mu_product")},
                ),
            ),
        ),
        bad=(Bad("momentum_decay", -4e-3, "invalid momentum_decay=-0.004"),),
        converges={
            "quadratic": ({"lr": 0.1, "weight_decay": 0.0}, 800, 1.0),
            "rosenbrock": ({"lr": 0.01, "weight_decay": 0.0}, 3000, 1.0),
        },
    ),
    OptimizerEntry(
        ro.Lion,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    LionPackage,
                    ({"lr": 1e-3, "weight_decay": 0.1}, {"lr": 3e-4, "betas": (0.8, 0.98)}),
                    rename={"decoupled_weight_decay": None},
                    state={"m": same("exp_avg")},
                ),
            ),
            # L2 added to the gradient before the sign: no package does it
            Variant("coupled", {"decoupled_weight_decay": False, "weight_decay": 0.01}),
        ),
        bad=(Bad("betas", (0.9, math.nan), r"invalid betas\[1\]=nan"),),
        converges={
            "quadratic": ({"lr": 0.05}, 2000, 1e-4),
            "rosenbrock": ({"lr": 0.003}, 10000, 1e-3),
        },
    ),
    OptimizerEntry(
        ro.Adan,
        variants=(
            # the authors' code: the moments take g_1 at t = 1 (formula in test_modern)
            Variant(),
            Variant("package", {"first_step": False}, ADAN_REFERENCE),
            Variant("proximal", {"first_step": False, "proximal_decay": 0.05}, ADAN_REFERENCE),
        ),
        bad=(
            Bad("betas", (0.02, 0.08), r"invalid betas=\(0.02, 0.08\)"),
            Bad("proximal_decay", -0.1, "invalid proximal_decay=-0.1"),
        ),
        converges={
            "quadratic": ({"lr": 0.1}, 1500, 1e-2),
            "rosenbrock": ({"lr": 0.01}, 6000, 1.0),
        },
    ),
)
