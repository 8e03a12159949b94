"""The catalog's first-order optimizers: each class's conventions with the reference that
follows each, the bad inputs it refuses (whole error sentences: this wording is the
contract), and its settings on the convergence problems."""

from __future__ import annotations

import math

import torch

import ravine.optim as ro

from . import references as hand
from .records import Bad, OptimizerEntry, Reference, Variant, same

__all__ = ["FIRST_ORDER"]

T = torch.optim
# State that corresponds, and the two param groups' hyperparameters, shared by variants.
M_V = {"m": same("exp_avg"), "v": same("exp_avg_sq")}
AMSGRAD_STATE = {**M_V, "v_max": same("max_exp_avg_sq")}
ADAM_DEFAULTS = {"betas": (0.9, 0.999), "eps": 1e-8}  # for the updates written out
ADAM_HAND = {"m": same("m"), "v": same("v")}
TWO_BETAS = ({"lr": 1e-3}, {"lr": 3e-3, "betas": (0.8, 0.99)})
SLOW_BETAS = ({"lr": 2e-3}, {"lr": 1e-3, "betas": (0.8, 0.99)})
MOMENTA = ({"lr": 0.05, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.5})
DECAYS = ({"lr": 1e-3, "decay": 0.9}, {"lr": 2e-3, "decay": 0.99})


FIRST_ORDER = (
    OptimizerEntry(
        ro.SGD,
        variants=(
            Variant("", {}, Reference(T.SGD, ({"lr": 0.05}, {"lr": 0.1}))),
            Variant(
                "maximize",
                {"maximize": True},
                Reference(
                    T.SGD, ({"lr": 0.05, "weight_decay": 0.01}, {"lr": 0.02, "weight_decay": 0.0})
                ),
            ),
            Variant(
                "momentum-dampening",
                {"momentum": 0.9, "dampening": 0.3},
                Reference(T.SGD, MOMENTA, state={"v": same("momentum_buffer")}),
            ),
            Variant(
                "nesterov",
                {"momentum": 0.9, "nesterov": True},
                Reference(T.SGD, MOMENTA, state={"v": same("momentum_buffer")}),
            ),
        ),
        bad=(
            Bad("lr", -0.1, r"invalid lr=-0\.1; allowed: a finite number in \[0, inf\)"),
            Bad("lr", math.nan, "invalid lr=nan"),
            Bad("lr", math.inf, "invalid lr=inf"),
            Bad("lr", "fast", "lr must be a number or a real tensor"),
            Bad("weight_decay", -1.0, "invalid weight_decay=-1.0"),
            Bad("maximize", "yes", r"invalid maximize='yes'; allowed: one of False, True"),
            Bad("dampening", 1.5, "invalid dampening=1.5"),
            Bad("nesterov", True, "nesterov=True requires a momentum", group=False),
        ),
        converges={"quadratic": ({"lr": 0.2}, 300, 1.0), "rosenbrock": ({"lr": 1e-3}, 20000, 1.0)},
    ),
    OptimizerEntry(
        ro.Momentum,
        variants=(
            # the classic form keeps v = -lr b, b torch's buffer (equal at constant lr)
            Variant(
                "",
                {},
                Reference(
                    T.SGD,
                    MOMENTA,
                    state={"v": ("momentum_buffer", lambda b, group: -group["lr"] * b)},
                ),
            ),
            Variant(
                "torch",
                {"lr_in_velocity": False},
                Reference(
                    T.SGD,
                    MOMENTA,
                    rename={"lr_in_velocity": None},
                    state={"v": same("momentum_buffer")},
                ),
            ),
        ),
        bad=(
            Bad("momentum", 1.0, r"invalid momentum=1\.0; allowed: a finite number in \[0, 1\)"),
            Bad("momentum", -0.5, "invalid momentum=-0.5"),
            Bad("lr_in_velocity", 1, "invalid lr_in_velocity=1"),
        ),
        converges={
            "quadratic": ({"lr": 0.05}, 400, 1.0),
            "rosenbrock": ({"lr": 1e-3, "momentum": 0.9}, 3000, 1.0),
        },
    ),
    OptimizerEntry(
        ro.Nesterov,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.SGD,
                    ({"lr": 0.05, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.8}),
                    extra={"momentum": 0.9, "nesterov": True},
                    state={"v": same("momentum_buffer")},
                ),
            ),
            # the look-ahead form is checked through its closure in test_parity
            Variant("lookahead", {"lookahead": True}),
        ),
        bad=(Bad("lookahead", None, "invalid lookahead=None"),),
        converges={
            "quadratic": ({"lr": 0.05}, 400, 1.0),
            "rosenbrock": ({"lr": 1e-3, "momentum": 0.9}, 6000, 1.0),
        },
    ),
    OptimizerEntry(
        ro.AdaGrad,
        variants=(
            # from a zero accumulator, the first steps are lr sign(g): rounding differences
            # grow chaotically on the parity problem, whose runs start from G0 = 0.1 below
            Variant(),
            # torch fills its accumulator from the constructor's value, not the group's
            Variant(
                "initial-accumulator",
                {"eps": 1e-10, "initial_accumulator": 0.1},
                Reference(
                    T.Adagrad,
                    ({"lr": 0.05}, {"lr": 0.1}),
                    state={"G": same("sum")},
                    rename={"initial_accumulator": "initial_accumulator_value"},
                ),
            ),
            Variant(
                "eps-in-sqrt",
                {"eps": 1e-7, "eps_in_sqrt": True, "initial_accumulator": 0.1},
                Reference(
                    hand.hand(hand.adagrad_eps_in_sqrt),
                    (
                        {"lr": 0.05, "initial_accumulator": 0.1},
                        {"lr": 0.1, "initial_accumulator": 0.0},
                    ),
                    rename={"eps_in_sqrt": None, "initial_accumulator": "init"},
                    state={"G": same("G")},
                ),
            ),
        ),
        bad=(
            Bad("eps", 0.0, r"invalid eps=0\.0; allowed: a finite number in \(0, inf\)"),
            Bad("eps", -1e-8, "invalid eps=-1e-08"),
            Bad("initial_accumulator", -0.1, "invalid initial_accumulator=-0.1"),
        ),
        converges={"quadratic": ({"lr": 1.0}, 400, 1.0), "rosenbrock": ({"lr": 1.0}, 20000, 1.0)},
    ),
    OptimizerEntry(
        ro.RMSProp,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.RMSprop,
                    (
                        {"lr": 1e-3, "decay": 0.9, "eps": 1e-8},
                        {"lr": 2e-3, "decay": 0.99, "eps": 1e-6},
                    ),
                    rename={"decay": "alpha"},
                    state={"s": same("square_avg")},
                ),
            ),
            Variant(
                "centered-momentum",
                {"centered": True, "momentum": 0.9, "weight_decay": 0.01},
                Reference(
                    T.RMSprop,
                    DECAYS,
                    rename={"decay": "alpha"},
                    state={
                        "s": same("square_avg"),
                        "gbar": same("grad_avg"),
                        "b": same("momentum_buffer"),
                    },
                ),
            ),
            Variant(
                "eps-in-sqrt",
                {"eps_in_sqrt": True, "eps": 1e-7},
                Reference(
                    hand.hand(hand.rmsprop_eps_in_sqrt),
                    DECAYS,
                    rename={"eps_in_sqrt": None},
                    state={"s": same("s")},
                ),
            ),
            # optax's options: initial_scale, bias correction, lr inside the trace (Nesterov's
            # trajectory on this net parts from any reference by rounding amplified past step
            # 70, so it is written out over a few steps in tests/optim/test_adaptive.py)
            *(
                Variant(
                    name,
                    {"momentum": 0.9, **options},
                    Reference(
                        hand.hand(hand.rmsprop_optax, **{"momentum": 0.9, "eps": 1e-8, **options}),
                        DECAYS,
                        rename=dict.fromkeys(options),
                        state={"s": same("s")},
                    ),
                )
                for name, options in (
                    ("initial-scale", {"initial_scale": 0.1}),
                    ("bias-correction", {"bias_correction": True}),
                    ("lr-in-momentum", {"lr_in_momentum": True}),
                )
            ),
        ),
        bad=(
            Bad("decay", 1.0, "invalid decay=1.0"),
            Bad("centered", "no", "invalid centered='no'"),
            Bad("eps_in_sqrt", 0, "invalid eps_in_sqrt=0"),
            Bad("initial_scale", -0.1, "invalid initial_scale=-0.1"),
            Bad("nesterov", 1, "invalid nesterov=1"),
            Bad("lr_in_momentum", None, "invalid lr_in_momentum=None"),
            Bad("bias_correction", "yes", "invalid bias_correction='yes'"),
        ),
        # no shrinking steps near the minimum: a decaying lr lets it converge, not hover
        converges={"quadratic": ({"lr": 0.1}, 800, 1e-3), "rosenbrock": ({"lr": 0.01}, 6000, 1e-3)},
    ),
    OptimizerEntry(
        ro.AdaDelta,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.Adadelta,
                    ({"lr": 1.0, "decay": 0.9}, {"lr": 0.5, "decay": 0.95}),
                    rename={"decay": "rho"},
                    state={"Eg2": same("square_avg"), "Edx2": same("acc_delta")},
                ),
            ),
        ),
        bad=(Bad("decay", -0.1, "invalid decay=-0.1"), Bad("eps", 0.0, "invalid eps=0.0")),
        converges={
            "quadratic": ({"lr": 10.0, "decay": 0.9}, 1500, 1e-2),
            "rosenbrock": ({"lr": 0.1, "decay": 0.9}, 20000, 1e-2),
        },
    ),
    OptimizerEntry(
        ro.Adam,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.Adam,
                    ({"lr": 1e-3, "betas": (0.9, 0.999)}, {"lr": 3e-3, "betas": (0.8, 0.99)}),
                    state=M_V,
                ),
            ),
            Variant(
                "amsgrad",
                {"amsgrad": True, "maximize": True},
                Reference(
                    T.Adam,
                    ({"lr": 1e-3, "weight_decay": 0.1}, {"lr": 3e-3, "weight_decay": 0.0}),
                    state=AMSGRAD_STATE,
                ),
            ),
            Variant(
                "amsgrad-decoupled",
                {"amsgrad": True, "weight_decay": 0.1, "decoupled_weight_decay": True},
                Reference(
                    T.AdamW,
                    ({"lr": 1e-3}, {"lr": 3e-3, "weight_decay": 0.01}),
                    rename={"decoupled_weight_decay": None},
                    state=AMSGRAD_STATE,
                ),
            ),
            Variant(
                "decoupled",
                {"decoupled_weight_decay": True},
                Reference(
                    T.AdamW,
                    ({"lr": 1e-3, "weight_decay": 0.1}, {"lr": 3e-3, "weight_decay": 0.01}),
                    rename={"decoupled_weight_decay": None},
                    state=M_V,
                ),
            ),
            Variant(
                "uncorrected",
                {"bias_correction": False},
                Reference(
                    hand.hand(hand.adam_without_bias_correction, **ADAM_DEFAULTS),
                    TWO_BETAS,
                    rename={"bias_correction": None},
                    state={"m": same("m"), "v": same("v")},
                ),
            ),
            Variant(
                "eps-root",
                {"eps_root": 1e-6},
                Reference(hand.hand(hand.adam_optax, **ADAM_DEFAULTS), TWO_BETAS, state=ADAM_HAND),
            ),
            Variant(
                "amsgrad-corrected",
                {"amsgrad": True, "amsgrad_corrected": True, "eps_root": 1e-8},
                Reference(
                    hand.hand(hand.adam_optax, **ADAM_DEFAULTS),
                    TWO_BETAS,
                    rename={"amsgrad_corrected": None},
                    state={**ADAM_HAND, "v_max": same("v_max")},
                ),
            ),
        ),
        bad=(
            Bad(
                "betas",
                (0.9, 1.0),
                r"invalid betas\[1\]=1\.0; allowed: a finite number in \[0, 1\)",
            ),
            Bad("betas", (-0.1, 0.999), r"invalid betas\[0\]=-0\.1"),
            Bad("betas", (0.9,), r"invalid betas=\(0\.9,\); allowed: a pair \(beta1, beta2\)"),
            Bad("betas", 0.9, "invalid betas=0.9"),
            Bad("eps", 0.0, "invalid eps=0.0"),
            Bad("amsgrad", "maybe", "invalid amsgrad='maybe'"),
            Bad("amsgrad_corrected", 1, "invalid amsgrad_corrected=1"),
            Bad("eps_root", -1e-8, "invalid eps_root=-1e-08"),
            Bad("bias_correction", None, "invalid bias_correction=None"),
            Bad("decoupled_weight_decay", 1.0, "invalid decoupled_weight_decay=1.0"),
        ),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 1.0}, 3000, 1e-2)},
    ),
    OptimizerEntry(
        ro.AdamW,
        variants=(Variant("", {}, Reference(T.AdamW, ({"lr": 1e-3}, {"lr": 3e-3}), state=M_V)),),
        bad=(Bad("weight_decay", -0.01, "invalid weight_decay=-0.01"),),
        converges={
            "quadratic": ({"lr": 0.1, "weight_decay": 0.0}, 800, 1.0),
            "rosenbrock": ({"lr": 1.0, "weight_decay": 0.0}, 3000, 1e-2),
        },
    ),
    OptimizerEntry(
        ro.AdaMax,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    T.Adamax,
                    SLOW_BETAS,
                    state={"m": same("exp_avg"), "u": same("exp_inf")},
                ),
            ),
            Variant(
                "eps-in-denominator",
                {"eps_in_max": False},
                Reference(
                    hand.hand(hand.adamax_eps_in_denominator, **ADAM_DEFAULTS),
                    SLOW_BETAS,
                    rename={"eps_in_max": None},
                    state={"m": same("m"), "u": same("u")},
                ),
            ),
        ),
        bad=(
            Bad("betas", (1.5, 0.9), r"invalid betas\[0\]=1\.5"),
            Bad("eps_in_max", "x", "invalid eps_in_max='x'"),
        ),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.01}, 6000, 1.0)},
    ),
    OptimizerEntry(
        ro.Nadam,
        variants=(
            # the default, momentum_decay=0: Dozat's constant momentum, as optax
            Variant(
                "",
                {},
                Reference(
                    hand.hand(hand.nadam_dozat_constant_momentum, **ADAM_DEFAULTS),
                    SLOW_BETAS,
                    state={"m": same("m"), "v": same("v")},
                ),
            ),
            Variant(
                "torch",
                {"momentum_decay": 4e-3, "maximize": True},
                Reference(
                    T.NAdam,
                    SLOW_BETAS,
                    state={**M_V, "mu_product": same("mu_product")},
                ),
            ),
            Variant(
                "torch-decoupled",
                {"momentum_decay": 4e-3, "decoupled_weight_decay": True},
                Reference(
                    T.NAdam,
                    ({"lr": 2e-3, "weight_decay": 0.1}, {"lr": 1e-3, "weight_decay": 0.01}),
                    state={**M_V, "mu_product": same("mu_product")},
                ),
            ),
        ),
        bad=(Bad("momentum_decay", -4e-3, "invalid momentum_decay=-0.004"),),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.01}, 3000, 1.0)},
    ),
    OptimizerEntry(
        ro.AdaBelief,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    hand.adabelief_authors,
                    TWO_BETAS,
                    rename={"decoupled_weight_decay": "weight_decouple"},
                    state={"m": same("exp_avg"), "s": same("exp_avg_var")},
                ),
            ),
            Variant(
                "eps-root",
                {"eps": 1e-8, "eps_root": 1e-12},
                Reference(
                    hand.hand(hand.adabelief_optax, betas=(0.9, 0.999)),
                    TWO_BETAS,
                    state={"m": same("m"), "s": same("s")},
                ),
            ),
        ),
        bad=(
            Bad("eps", 0.0, "invalid eps=0.0"),
            Bad("eps_root", -1.0, r"invalid eps_root=-1\.0; allowed: None or a finite number"),
            Bad("betas", (0.9, math.nan), r"invalid betas\[1\]=nan"),
        ),
        converges={"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.03}, 3000, 1.0)},
    ),
)
