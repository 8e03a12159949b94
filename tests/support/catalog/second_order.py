"""The catalog's second-order and quasi-Newton optimizers: their conventions and the bad
inputs they refuse, matched on the parameter's name only. Their references (closed forms,
scipy, torch.optim.LBFGS) need problems of their own and live next to their tests."""

from __future__ import annotations

import torch

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Variant

__all__ = ["SECOND_ORDER"]

SECOND_ORDER = (
    OptimizerEntry(
        ro.Newton,
        variants=(
            Variant(),
            Variant("damped", {"damping": 1e-2}),
            Variant("cg", {"solver": "cg", "damping": 1e-2}),
            Variant("backtracking", {"line_search_fn": "backtracking", "damping": 1e-2}),
            Variant("strong-wolfe", {"line_search_fn": "strong_wolfe", "damping": 1e-2}),
        ),
        bad=(
            Bad("damping", -1.0),
            Bad("solver", "lu"),
            Bad("line_search_fn", "armijo"),
            Bad("max_params", 0),
            Bad("cg_max_iter", 0),
            Bad("cg_max_iter", 2.5),
            Bad("lr", torch.ones(2), match=r"lr must be a number"),
        ),
    ),
    OptimizerEntry(
        ro.LevenbergMarquardt,
        bad=(Bad("damping", 0.0), Bad("decrease", 1.0), Bad("increase", 1.0), Bad("max_params", 0)),
    ),
    OptimizerEntry(
        ro.GaussNewton,
        bad=(Bad("damping", -1.0), Bad("cg_max_iter", 0), Bad("cg_tol", 0.0)),
    ),
    OptimizerEntry(
        ro.NaturalGradient,
        variants=(
            Variant(),
            Variant("empirical", {"fisher": "empirical"}),
            Variant("gaussian", {"likelihood": "gaussian"}),
        ),
        bad=(Bad("fisher", "exact"), Bad("likelihood", "poisson"), Bad("damping", -1.0)),
    ),
    OptimizerEntry(
        ro.HessianFree,
        bad=(Bad("damping", 0.0), Bad("cg_decay", 1.5), Bad("cg_tol", 0.0)),
    ),
    OptimizerEntry(
        ro.DiagonalNewton,
        bad=(
            Bad("betas", (0.9, 1.0)),
            Bad("eps", 0.0),
            Bad("hessian_power", 1.5),
            Bad("seed", -1, group=False),
            Bad("seed", 0.5, group=False),
        ),
    ),
    OptimizerEntry(
        ro.BlockDiagonalNewton,
        variants=(Variant(), Variant("group", {"blocks": "group"})),
        bad=(Bad("damping", 0.0), Bad("max_block", 0), Bad("blocks", "layer", group=False)),
    ),
    OptimizerEntry(
        ro.KFAC,
        bad=(
            Bad("damping", 0.0),
            Bad("momentum", 1.0),
            Bad("factor_decay", 1.5),
            Bad("factor_update_interval", 0),
            Bad("inverse_update_interval", 0),
        ),
    ),
    OptimizerEntry(
        ro.BFGS,
        one_group=True,
        variants=(Variant(), Variant("no-line-search", {"line_search_fn": None})),
        bad=(Bad("max_eval", 0), Bad("line_search_fn", "armijo"), Bad("tolerance_grad", -1.0)),
    ),
    OptimizerEntry(
        ro.LBFGS,
        one_group=True,
        variants=(Variant(), Variant("strong-wolfe", {"line_search_fn": "strong_wolfe"})),
        bad=(
            Bad("history_size", 0),
            Bad("line_search_fn", "backtracking"),
            Bad("max_iter", 0),
            Bad("max_iter", 2.5),
            Bad("history_size", 10.0),
            Bad("tolerance_change", -1.0),
        ),
    ),
)
