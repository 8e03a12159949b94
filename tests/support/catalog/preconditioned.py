"""The catalog's matrix preconditioners (ravine.optim.shampoo, ravine.optim.soap) against
``pytorch-optimizer``: its ``Shampoo`` (the paper's algorithm) and ``ScalableShampoo`` (EMA
statistics, grafting, momentum) for Shampoo. SOAP's reference, its ``SOAP``, counts steps
per param group and so parts from ravine after the parity test's step without a gradient:
its 200-step parity runs in tests/optim/test_soap.py, where every parameter has one."""

from __future__ import annotations

from pytorch_optimizer import ScalableShampoo
from pytorch_optimizer import Shampoo as ShampooPackage
from pytorch_optimizer.optimizer.utils.graft import LayerWiseGrafting

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant

__all__ = ["PRECONDITIONED", "scalable_shampoo"]

GRAFTS = {
    "none": LayerWiseGrafting.NONE,
    "sgd": LayerWiseGrafting.SGD,
    "adagrad": LayerWiseGrafting.ADAGRAD,
    "rmsprop": LayerWiseGrafting.RMSPROP,
}
# ravine's names -> ScalableShampoo's constructor keywords (the group keys stay apart)
SCALABLE_NAMES = {
    "graft": "graft_type",
    "graft_eps": "diagonal_eps",
    "eps": "matrix_eps",
    "momentum_average": "moving_average_for_momentum",
    "start_preconditioning": "start_preconditioning_step",
    "update_interval": "preconditioning_compute_steps",
}


def scalable_shampoo(groups, *, max_preconditioner_dim=0, **keywords):
    """``pytorch_optimizer.ScalableShampoo`` under ravine's names: ``momentum`` and
    ``beta2`` as its ``betas``, roots by SVD, no shape interpretation, its block size and
    size limit both ravine's ``max_preconditioner_dim``."""
    betas = (keywords.pop("momentum", 0.0), keywords.pop("beta2", 1.0))
    keywords.pop("precondition_1d", None)  # it never preconditions vectors
    out = [dict(g) for g in groups]
    for g in out:
        if "momentum" in g or "beta2" in g:
            g["betas"] = (g.pop("momentum", betas[0]), g.pop("beta2", betas[1]))
    kw = {SCALABLE_NAMES.get(k, k): v for k, v in keywords.items()}
    if "graft_type" in kw:
        kw["graft_type"] = GRAFTS[kw["graft_type"]]
    limit = max_preconditioner_dim or 1 << 30
    return ScalableShampoo(
        out, betas=betas, use_svd=True, shape_interpretation=False, block_size=limit,
        no_preconditioning_for_layers_with_dim_gt=limit, **kw,
    )  # fmt: skip


SCALABLE = {
    "momentum": 0.9,
    "beta2": 0.99,
    "nesterov": True,
    "precondition_1d": False,
    "start_preconditioning": 3,
    "update_interval": 2,
    "max_preconditioner_dim": 6,
    "decoupled_weight_decay": True,
    "weight_decay": 0.01,
}
INTERVAL = {"update_interval": 3, "initial_root": "zero", "eps": 1e-4}
SCALABLE_GROUPS = ({"lr": 1e-2}, {"lr": 3e-3, "momentum": 0.8, "beta2": 0.9})

PRECONDITIONED = (
    OptimizerEntry(
        ro.Shampoo,
        variants=(
            Variant(
                "",
                {},
                Reference(
                    ShampooPackage,
                    ({"lr": 1e-2, "weight_decay": 0.01}, {"lr": 3e-3}),
                    rename={
                        "eps": "matrix_eps",
                        "update_interval": "preconditioning_compute_steps",
                    },
                ),
            ),
            # the package counts steps per group, so the interval parts after the parity
            # test's step without a gradient: 200 steps in tests/optim/test_shampoo.py
            Variant("interval", INTERVAL),
            *(
                Variant(
                    f"graft-{graft}",
                    {**SCALABLE, "graft": graft},
                    Reference(scalable_shampoo, SCALABLE_GROUPS),
                )
                for graft in ("sgd", "adagrad", "rmsprop")
            ),
            Variant(
                "scalable-average",
                {**SCALABLE, "graft": "none", "momentum_average": True, "nesterov": False},
                Reference(scalable_shampoo, SCALABLE_GROUPS),
            ),
            # no package: formulas in tests/optim/test_shampoo.py
            Variant("graft-adam", {"graft": "adam", "beta2": 0.99}),
            Variant("eps-root", {"eps": 0.0, "eps_root": 1e-4, "exponent_override": 2}),
            Variant("merged", {"merge_dims": True, "max_preconditioner_dim": 16}),
        ),
        bad=(
            Bad("beta2", 0.0, "invalid beta2=0.0"),
            Bad("graft", "adam-w", "invalid graft='adam-w'"),
            Bad("update_interval", 0, "invalid update_interval=0"),
            Bad("initial_root", "eye", "invalid initial_root='eye'"),
            Bad("eps", -1e-6, "invalid eps=-1e-06"),
        ),
        converges={"quadratic": ({"lr": 0.5}, 500, 1.0), "rosenbrock": ({"lr": 2.0}, 4000, 1.0)},
    ),
    OptimizerEntry(
        ro.SOAP,
        variants=(
            Variant(),
            Variant("float32-qr", {"qr_float32": True, "precondition_frequency": 3}),
            Variant("vectors", {"precondition_1d": True, "shampoo_beta": 0.9}),
            Variant("normalized", {"normalize_gradient": True, "correct_bias": False}),
        ),
        bad=(
            Bad("betas", (0.95, 1.0), r"invalid betas\[1\]=1.0"),
            Bad("shampoo_beta", 1.5, "invalid shampoo_beta=1.5"),
            Bad("precondition_frequency", 0, "invalid precondition_frequency=0"),
            Bad("data_format", "nhwc", "invalid data_format='nhwc'"),
        ),
        converges={
            "quadratic": ({"lr": 0.05, "weight_decay": 0.0}, 1000, 1e-2),
            "rosenbrock": ({"lr": 0.01, "weight_decay": 0.0}, 6000, 1e-1),
        },
    ),
)
