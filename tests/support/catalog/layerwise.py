"""The catalog's entries for Adafactor (against ``torch.optim.Adafactor``, and the paper's
Algorithm 4 written out here), LAMB and LARS (against timm's ``Lamb`` and ``Lars``).

timm's package imports torchvision at its top, and the only torchvision wheels for torch
2.13 are not the CPU build this project pins, so they fail to load: :func:`timm_optimizer`
loads timm's two optimizer modules on their own (they need only torch). Where timm is not
installed the LAMB and LARS references are None and their parity tests do not run; timm is
therefore not in the ``dev`` extra (it would pull that torchvision in).

timm's LAMB counts steps per param group, so it parts from ravine after the parity test's
step without a gradient: its 200-step parity runs in tests/optim/test_layerwise.py, where
every parameter has a gradient."""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys
import types

import torch

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same
from .references import hand

__all__ = ["LAYERWISE", "adafactor_paper", "has_timm", "timm_optimizer"]

_TIMM_OPTIM = "_timm_optim"  # timm/optim loaded under this name, without timm/__init__


def has_timm() -> bool:
    return importlib.util.find_spec("timm") is not None


def timm_optimizer(module: str, name: str) -> type[torch.optim.Optimizer]:
    """timm's optimizer class ``name`` from ``timm/optim/<module>.py``, loaded without
    importing the ``timm`` package (whose ``__init__`` imports torchvision)."""
    if _TIMM_OPTIM not in sys.modules:
        root = pathlib.Path(importlib.util.find_spec("timm").submodule_search_locations[0])
        package = types.ModuleType(_TIMM_OPTIM)
        package.__path__ = [str(root / "optim")]
        sys.modules[_TIMM_OPTIM] = package
    return getattr(importlib.import_module(f"{_TIMM_OPTIM}.{module}"), name)


def timm_lars(groups, **keywords):
    return timm_optimizer("lars", "Lars")(groups, **keywords)


def adafactor_paper(p, g, state, t, group):
    # Shazeer and Stern 2018, Algorithm 4 (matrices, factored over the last two dimensions)
    # and 5 (vectors), with sums over rows and columns as written there:
    # b2_t = 1 - t^c; rho_t = min(lr, 1/sqrt(t)); alpha_t = max(eps2, RMS(X)) rho_t
    # R = b2_t R + (1 - b2_t) (G^2 + eps1) 1_m;  C = b2_t C + (1 - b2_t) 1_n^T (G^2 + eps1)
    # V = R C / (1_n^T R);  U = G / sqrt(V);  U /= max(1, RMS(U) / d)
    # momentum of the scaled step (the authors' mesh-tensorflow code):
    # m = b1 m + (1 - b1) alpha_t U;  X -= m   (b1 = 0: X -= alpha_t U)
    eps1, eps2 = group["eps"]
    w = t ** group["beta2_decay"]
    rms = p.norm() / p.numel() ** 0.5
    alpha = max(eps2, float(rms)) * min(group["lr"], t**-0.5)
    g2 = g**2 + eps1
    if g.dim() >= 2:
        r = state["R"] = (1 - w) * state.get("R", 0) + w * g2.sum(dim=-1, keepdim=True)
        c = state["C"] = (1 - w) * state.get("C", 0) + w * g2.sum(dim=-2, keepdim=True)
        v = r * c / r.sum(dim=-2, keepdim=True)
    else:
        v = state["V"] = (1 - w) * state.get("V", 0) + w * g2
    u = g / v.sqrt()
    u = u / max(1.0, float(u.norm() / u.numel() ** 0.5) / group["d"])
    step = alpha * u
    if group["beta1"]:
        step = state["m"] = group["beta1"] * state.get("m", 0) + (1 - group["beta1"]) * step
    p -= step


ADAFACTOR_GROUPS = (
    {"lr": 1e-2},
    {"lr": 2e-2, "beta2_decay": -0.6, "eps": (1e-4, 1e-2), "d": 2.0},
)
ADAFACTOR_TORCH = Reference(
    torch.optim.Adafactor,
    ADAFACTOR_GROUPS,
    rename={"beta1": None, "eps_in_moments": None},
    # the state is compared in tests/optim/test_layerwise.py: its keys differ between
    # matrices (row_var, col_var) and vectors (variance)
)
PAPER = {"eps_in_moments": True, "eps": (1e-30, 1e-3), "beta1": 0.9}
ADAFACTOR_PAPER = Reference(
    hand(adafactor_paper, beta2_decay=-0.8, d=1.0, **PAPER),
    (ADAFACTOR_GROUPS[0], {**ADAFACTOR_GROUPS[1], "eps": (1e-30, 1e-2)}),
    rename={"eps_in_moments": None},
    state={"m": same("m")},
)
LARS_GROUPS = ({"lr": 0.5, "momentum": 0.9}, {"lr": 0.2, "weight_decay": 1e-3, "momentum": 0.5})


def lars_reference(**extra) -> Reference | None:
    if not has_timm():
        return None
    return Reference(
        timm_lars,
        LARS_GROUPS,
        rename={"lr_in_velocity": None},
        extra={"always_adapt": True, **extra},
        state={"v": same("momentum_buffer")},
    )


LAYERWISE = (
    OptimizerEntry(
        ro.Adafactor,
        variants=(
            Variant("", {}, ADAFACTOR_TORCH),
            Variant("decay", {"weight_decay": 0.1}, ADAFACTOR_TORCH),
            Variant("paper", PAPER, ADAFACTOR_PAPER),
        ),
        bad=(
            Bad("eps", (None, -1.0), r"invalid eps\[1\]=-1\.0"),
            Bad("eps", 1e-3, "invalid eps=0.001"),
            Bad("d", 0.5, r"invalid d=0\.5"),
            Bad("beta2_decay", 0.5, r"invalid beta2_decay=0\.5"),
            Bad("lr", torch.ones(2), "lr must be a number"),
        ),
    ),
    OptimizerEntry(
        ro.LAMB,
        variants=(
            Variant(),
            Variant("timm", {"always_adapt": False}),
            Variant("decoupled", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
            Variant("lambc", {"trust_clip": True, "grad_averaging": False}),
        ),
        bad=(
            Bad("betas", (0.9, 1.0), r"invalid betas\[1\]=1.0"),
            Bad("eps", 0.0, "invalid eps=0.0"),
            Bad("always_adapt", 1, "invalid always_adapt=1"),
        ),
    ),
    OptimizerEntry(
        ro.LARS,
        variants=(
            Variant("", {}, lars_reference()),
            Variant("timm", {"always_adapt": False}, lars_reference(always_adapt=False)),
            Variant("nesterov", {"nesterov": True, "momentum": 0.9}, lars_reference()),
            Variant("larc", {"trust_clip": True, "dampening": 0.2}, lars_reference()),
            # the paper's Algorithm 1: the learning rate inside the momentum (by hand in
            # tests/optim/test_layerwise.py)
            Variant("paper", {"lr_in_velocity": True, "momentum": 0.9}),
        ),
        bad=(
            Bad("trust_coeff", 0.0, "invalid trust_coeff=0.0"),
            Bad("nesterov", True, "nesterov=True requires a momentum > 0", group=False),
            Bad("momentum", 1.0, r"invalid momentum=1\.0"),
        ),
    ),
)
