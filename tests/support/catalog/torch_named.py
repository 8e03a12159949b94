"""The catalog's torch-named optimizers (ravine.optim.torch_named): each checked against
the torch.optim class of the same name, with torch's keywords unchanged."""

from __future__ import annotations

import torch

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same

__all__ = ["TORCH_NAMED"]

T = torch.optim
M_V = {"m": same("exp_avg"), "v": same("exp_avg_sq")}

TORCH_NAMED = (
    OptimizerEntry(
        ro.Adagrad,
        variants=(
            # a zero accumulator makes the first steps lr sign(g): see AdaGrad's entry
            Variant(),
            Variant(
                "lr-decay",
                {"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
                Reference(
                    T.Adagrad,
                    ({"lr": 0.05}, {"lr": 0.1, "lr_decay": 0.001}),
                    state={"G": same("sum")},
                ),
            ),
        ),
        bad=(
            Bad("lr_decay", -0.1, "invalid lr_decay=-0.1"),
            Bad("initial_accumulator_value", -1.0, "invalid initial_accumulator_value=-1.0"),
            Bad("differentiable", True, "differentiable=True is not supported", group=False),
        ),
        converges={"quadratic": ({"lr": 1.0}, 400, 1.0), "rosenbrock": ({"lr": 1.0}, 20000, 1.0)},
    ),
    OptimizerEntry(
        ro.RMSprop,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.RMSprop,
                    ({"lr": 1e-3}, {"lr": 2e-3, "alpha": 0.9}),
                    state={"s": same("square_avg")},
                ),
            ),
            Variant(
                "centered-momentum",
                {"centered": True, "momentum": 0.9, "weight_decay": 0.01},
                Reference(
                    T.RMSprop,
                    ({"lr": 1e-3, "alpha": 0.9}, {"lr": 2e-3}),
                    state={
                        "s": same("square_avg"),
                        "gbar": same("grad_avg"),
                        "b": same("momentum_buffer"),
                    },
                ),
            ),
        ),
        bad=(
            Bad("alpha", 1.0, "invalid alpha=1.0"),
            Bad("capturable", True, "capturable=True is not supported", group=False),
        ),
        converges={
            "quadratic": ({"lr": 0.1}, 800, 1e-3),
            "rosenbrock": ({"lr": 0.01}, 6000, 1e-3),
        },
    ),
    OptimizerEntry(
        ro.Adadelta,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.Adadelta,
                    ({"lr": 1.0}, {"lr": 0.5, "rho": 0.95}),
                    state={"Eg2": same("square_avg"), "Edx2": same("acc_delta")},
                ),
            ),
        ),
        bad=(Bad("rho", -0.1, "invalid rho=-0.1"), Bad("eps", 0.0, "invalid eps=0.0")),
        converges={
            "quadratic": ({"lr": 10.0}, 1500, 1e-2),
            "rosenbrock": ({"lr": 0.1}, 20000, 1e-2),
        },
    ),
    OptimizerEntry(
        ro.NAdam,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.NAdam,
                    ({"lr": 2e-3}, {"lr": 1e-3, "betas": (0.8, 0.99)}),
                    state={**M_V, "mu_product": same("mu_product")},
                ),
            ),
            Variant(
                "decoupled",
                {"decoupled_weight_decay": True, "weight_decay": 0.1},
                Reference(T.NAdam, ({"lr": 2e-3}, {"lr": 1e-3, "momentum_decay": 0.01}), state=M_V),
            ),
        ),
        bad=(Bad("momentum_decay", -4e-3, "invalid momentum_decay=-0.004"),),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.01}, 3000, 1.0)},
    ),
)
