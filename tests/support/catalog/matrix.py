"""The catalog's matrix methods and wrappers: Muon against torch.optim.Muon (matrices) with
torch.optim.AdamW (the rest), Lookahead and Sophia (their references need problems of their
own and live next to their tests: tests/optim/test_lookahead.py, test_sophia.py)."""

from __future__ import annotations

from typing import Any

import torch

import ravine.optim as ro

from .records import Bad, OptimizerEntry, Reference, Variant, same

__all__ = ["MATRIX", "TorchMuonAdamW"]


class TorchMuonAdamW:
    """torch.optim.Muon on each group's matrices and torch.optim.AdamW on its other
    parameters, with the group's lr and weight decay: what Muon's AdamW fallback must give.

    ``param_groups`` are the groups as given; ``state[p]`` is the inner optimizer's state of
    ``p``, with the matrices' ``momentum_buffer`` also under ``exp_avg`` (both are the
    first moment, ``m`` in ravine)."""

    def __init__(self, groups: list[dict], adamw_betas=(0.9, 0.95), adamw_eps=1e-10, **muon):
        self.param_groups = groups

        def part(matrices: bool) -> list[dict]:
            return [
                {**g, "params": [p for p in g["params"] if (p.dim() == 2) == matrices]}
                for g in groups
            ]

        muon_groups = [g for g in part(True) if g["params"]]
        adamw_groups = [g for g in part(False) if g["params"]]
        self.inner = []
        if muon_groups:
            self.inner.append(torch.optim.Muon(muon_groups, **muon))
        if adamw_groups:
            self.inner.append(torch.optim.AdamW(adamw_groups, betas=adamw_betas, eps=adamw_eps))
        self.state: dict[torch.Tensor, dict[str, Any]] = {}

    def zero_grad(self) -> None:
        for opt in self.inner:
            opt.zero_grad()

    def step(self) -> None:
        for opt in self.inner:
            opt.step()
        self.state = {}
        for opt in self.inner:
            for p, st in opt.state.items():
                self.state[p] = {**st, "exp_avg": st.get("momentum_buffer", st.get("exp_avg"))}


# the adamw_* keywords reach TorchMuonAdamW, the others torch.optim.Muon
MUON_REFERENCE = Reference(
    TorchMuonAdamW,
    ({"lr": 2e-2, "weight_decay": 0.05}, {"lr": 5e-3, "weight_decay": 0.0, "momentum": 0.9}),
    rename={"ns_dtype": None, "fallback": None},
    state={"m": same("exp_avg")},
)

MATRIX = (
    OptimizerEntry(
        ro.Muon,
        variants=(
            Variant("", {}, MUON_REFERENCE),
            Variant(
                "moonlight",
                {"adjust_lr_fn": "match_rms_adamw", "nesterov": False},
                MUON_REFERENCE,
            ),
            Variant("fallback-betas", {"adamw_betas": (0.8, 0.99)}, MUON_REFERENCE),
            # Newton-Schulz in the parameter's precision: written out in test_muon
            Variant("float64", {"ns_dtype": "param"}),
        ),
        bad=(
            Bad("momentum", 1.0, "invalid momentum=1.0"),
            Bad("ns_steps", 0, "invalid ns_steps=0"),
            Bad("ns_coefficients", (1.0, 2.0), "invalid ns_coefficients"),
            Bad("adjust_lr_fn", "sqrt", "invalid adjust_lr_fn='sqrt'"),
            Bad("ns_dtype", "float16", "invalid ns_dtype='float16'"),
            Bad("fallback", "sgd", "invalid fallback='sgd'"),
            Bad("adamw_betas", (0.9, 1.0), r"invalid adamw_betas\[1\]=1.0"),
        ),
    ),
    OptimizerEntry(
        ro.Lookahead,
        variants=(
            Variant(),
            Variant("timm", {"slow_init": "sync"}),
            Variant("k3", {"lookahead_k": 3, "lookahead_alpha": 0.8}),
        ),
        bad=(
            Bad("lookahead_alpha", 1.5, "invalid lookahead_alpha=1.5"),
            Bad("lookahead_k", 0, "invalid lookahead_k=0"),
            Bad("inner", "newton", r"inner='newton' takes a 'loss' closure", group=False),
            Bad("inner", "adamm", "invalid inner='adamm'", group=False),
            Bad("slow_init", "end", "invalid slow_init='end'", group=False),
        ),
    ),
    OptimizerEntry(
        ro.Sophia,
        variants=(
            Variant(),
            # the authors' code: sign(m) min(|m| / (rho h + eps), 1), h = 0 until after step k
            Variant("code", {"clip": "code", "estimate_at_first_step": False}),
            Variant("hutchinson", {"estimator": "hutchinson", "update_interval": 2}),
        ),
        bad=(
            Bad("rho", -1.0, "invalid rho=-1.0"),
            Bad("betas", (0.9, 1.0), r"invalid betas\[1\]=1.0"),
            Bad("clip", "sign", "invalid clip='sign'"),
            Bad("update_interval", 0, "invalid update_interval=0", group=False),
            Bad("estimator", "fisher", "invalid estimator='fisher'", group=False),
            Bad("likelihood", "poisson", "invalid likelihood='poisson'", group=False),
            Bad("seed", -1, group=False),
        ),
    ),
    OptimizerEntry(
        ro.SophiaH,
        bad=(Bad("estimator", "gnb", "invalid estimator='gnb'", group=False),),
    ),
)
