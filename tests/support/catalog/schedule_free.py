"""The catalog's entries for Schedule-Free SGD and AdamW (ravine.optim.schedule_free),
against the authors' ``schedulefree`` package, and for Prodigy (ravine.optim.prodigy),
against the authors' ``prodigyopt``.

The package's classes start in eval mode and refuse to step until ``train()`` is called:
the references here are built already switched. Prodigy's reference groups share one lr
(``prodigyopt`` refuses different positive rates). Longer parity runs with mode switches
are in tests/optim/test_schedule_free.py and tests/optim/test_prodigy.py."""

from __future__ import annotations

import math

import schedulefree
from prodigyopt import Prodigy as ProdigyPackage

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same

__all__ = ["SCHEDULE_FREE", "training"]


def training(cls):
    """A builder of ``cls`` (a ``schedulefree`` class) that switches it to train mode."""

    def build(groups, **kwargs):
        opt = cls(groups, **kwargs)
        opt.train()
        return opt

    return build


SGD_GROUPS = ({"lr": 0.1, "weight_decay": 1e-3}, {"lr": 0.03, "momentum": 0.8, "r": 0.5})
ADAMW_GROUPS = (
    {"lr": 1e-2, "weight_decay": 1e-2},
    {"lr": 3e-3, "betas": (0.8, 0.99), "warmup_steps": 10},
)
PRODIGY_GROUPS = ({"weight_decay": 0.05}, {"eps": 1e-7})
PRODIGY_STATE = {"m": same("exp_avg"), "v": same("exp_avg_sq"), "s": same("s"), "p0": same("p0")}


def _prodigy(momentum: bool = True) -> Reference:
    state = PRODIGY_STATE if momentum else {k: v for k, v in PRODIGY_STATE.items() if k != "m"}
    return Reference(
        ProdigyPackage, PRODIGY_GROUPS, rename={"decoupled_weight_decay": "decouple"}, state=state
    )


SCHEDULE_FREE = (
    OptimizerEntry(
        ro.SGDScheduleFree,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    training(schedulefree.SGDScheduleFree), SGD_GROUPS, state={"z": same("z")}
                ),
            ),
            Variant(
                "warmup",
                {"warmup_steps": 20, "weight_lr_power": 1.0},
                Reference(training(schedulefree.SGDScheduleFreeReference), SGD_GROUPS),
            ),
            # decay at z: the package's AdamW reference has it, its SGD classes do not
            Variant("decay-at-z", {"weight_decay_at": "z", "weight_decay": 0.01}),
        ),
        bad=(
            Bad("momentum", 0.0, "invalid momentum=0.0"),
            Bad("weight_decay_at", "x", "invalid weight_decay_at='x'"),
            Bad("warmup_steps", 2.5, "warmup_steps must be an integer"),
        ),
        converges={
            "quadratic": ({"lr": 0.5}, 800, 1.0),
            # polynomial weighting (r = 4) lets the average forget the valley's start
            "rosenbrock": ({"lr": 2e-3, "r": 4.0}, 10000, 1.0),
        },
    ),
    OptimizerEntry(
        ro.AdamWScheduleFree,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    training(schedulefree.AdamWScheduleFree),
                    ADAMW_GROUPS,
                    state={"z": same("z"), "v": same("exp_avg_sq")},
                ),
            ),
            Variant(
                "decay-at-z",
                {"weight_decay_at": "z"},
                Reference(
                    training(schedulefree.AdamWScheduleFreeReference),
                    ADAMW_GROUPS,
                    rename={"weight_decay_at": None},
                    extra={"decay_at_z": True},
                    state={"z": same("z"), "v": same("exp_avg_sq")},
                ),
            ),
            Variant(
                "paper",
                {"bias_correction": "lr"},
                Reference(
                    training(schedulefree.AdamWScheduleFreePaper),
                    ADAMW_GROUPS,
                    rename={"bias_correction": None},
                    state={"z": same("z"), "v": same("exp_avg_sq")},
                ),
            ),
        ),
        bad=(
            Bad("betas", (0.0, 0.999), r"invalid betas\[0\]=0.0"),
            Bad("bias_correction", "none", "invalid bias_correction='none'"),
        ),
        converges={
            "quadratic": ({"lr": 0.05}, 2000, 1.0),
            "rosenbrock": ({"lr": 0.01, "betas": (0.95, 0.999)}, 10000, 1.0),
        },
    ),
    OptimizerEntry(
        ro.Prodigy,
        variants=(
            Variant("", {}, _prodigy()),
            Variant(
                "coupled",
                {"decoupled_weight_decay": False, "use_bias_correction": True},
                _prodigy(),
            ),
            Variant(
                "safeguard",
                {"safeguard_warmup": True, "growth_rate": 1.05, "d_coef": 0.5, "slice_p": 3},
                _prodigy(),
            ),
            Variant(
                "no-momentum", {"betas": (0.0, 0.99), "beta3": 0.9, "d0": 1e-4}, _prodigy(False)
            ),
        ),
        bad=(
            Bad("d0", 0.0, "invalid d0=0.0"),
            Bad("growth_rate", math.inf, "invalid growth_rate=inf"),
            Bad("slice_p", 0, "invalid slice_p=0"),
        ),
        converges={
            "quadratic": ({}, 800, 1.0),
            "rosenbrock": ({"d_coef": 0.5}, 6000, 1.0),
        },
    ),
)
