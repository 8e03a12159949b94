"""Prodigy (Mishchenko and Defazio 2024): Adam whose step size d is estimated on the fly.

Why its own step and not a rule: d is one number for the whole optimizer, estimated from
sums over every parameter of every param group (a numerator of inner products
<g, x0 - x> and a denominator |s|_1), as in the authors' ``prodigyopt`` package; a rule
sees one tensor at a time. The math is still written once: :func:`prodigy_statistics`
(one parameter's share of the estimate and its moments), :func:`prodigy_estimate` (the new
d from the sums) and :func:`prodigy_move` (one parameter's step).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import (
    BOOL,
    POSITIVE,
    Betas,
    Integer,
    OrNone,
    Range,
    ScalarHyperparameters,
)
from .finite import check_gradients
from .rule import State, arguments, zeros

__all__ = ["Prodigy", "prodigy_estimate", "prodigy_move", "prodigy_statistics"]

# The numbers of the estimate, kept in every param group as prodigyopt keeps them.
GROUP_NUMBERS = {
    "d": None,
    "d_max": None,
    "d_numerator": 0.0,
    "d_denom": 0.0,
    "d_hat": None,
    "k": 0,
}


def prodigy_statistics(
    p: Tensor, g: Tensor, state: State, *, d, d0, dlr, beta1, beta2, beta3, slice_p,
    safeguard_warmup,
) -> tuple[float, float, State]:  # fmt: skip
    r"""One parameter's share, at the current d (before it is re-estimated)::

        numerator += (d / d0) dlr <g, p0 - p>           (on every slice_p-th entry)
        m <- b1 m + d (1 - b1) g;   v <- b2 v + d^2 (1 - b2) g^2
        s <- b3 s + (d / d0) dlr g  (safeguard_warmup: (d / d0) d g)
        denominator += |s|_1

    Returns (the numerator's term, |s|_1, the new state)."""
    sliced = g.flatten()[::slice_p]
    term = (d / d0) * dlr * torch.dot(sliced, state["p0"] - p.flatten()[::slice_p]).item()
    new = {"v": torch.addcmul(beta2 * state["v"], g, g, value=d * d * (1 - beta2))}
    if beta1 > 0:
        new["m"] = torch.add(beta1 * state["m"], g, alpha=d * (1 - beta1))
    rate = (d / d0) * (d if safeguard_warmup else dlr)
    new["s"] = torch.add(beta3 * state["s"], sliced, alpha=rate)
    return term, new["s"].abs().sum().item(), new


def prodigy_estimate(
    d: float, d_max: float, numerator: float, denominator: float, *, d0, d_coef, growth_rate
) -> tuple[float, float, float]:
    r"""d_hat = d_coef numerator / denominator;  d <- max(d, d_hat) while d is still d0;
    d_max <- max(d_max, d_hat);  d <- min(d_max, growth_rate d). Returns (d, d_max, d_hat)."""
    d_hat = d_coef * numerator / denominator
    if d == d0:
        d = max(d, d_hat)
    d_max = max(d_max, d_hat)
    return min(d_max, d * growth_rate), d_max, d_hat


def prodigy_move(
    p: Tensor, g: Tensor, state: State, *, d, dlr, eps, weight_decay, decoupled
) -> Tensor:
    r"""p <- p - dlr lambda p (decoupled decay);  p <- p - dlr m / (sqrt(v) + d eps)
    (with b1 = 0: p - dlr d g / (sqrt(v) + d eps)); d is the new estimate, dlr the old."""
    denom = state["v"].sqrt() + d * eps
    if weight_decay and decoupled:
        p = torch.add(p, p, alpha=-weight_decay * dlr)
    if "m" in state:
        return torch.addcdiv(p, state["m"], denom, value=-dlr)
    return torch.addcdiv(p, g, denom, value=-dlr * d)


class Prodigy(ScalarHyperparameters, Optimizer):
    r"""Prodigy: Adam with a learning rate d lr estimated from the distance travelled.

    With d_k the estimate before step k and dlr_k = d_k lr (bias corrected with
    ``use_bias_correction``: d_k lr sqrt(1 - b2^(k+1)) / (1 - b1^(k+1)))::

        m    <- b1 m + d_k (1 - b1) g,     v <- b2 v + d_k^2 (1 - b2) g^2
        s    <- b3 s + (d_k / d0) dlr_k g
        r_k   = b3 r_{k-1} + (d_k / d0) dlr_k <g, x0 - x>      (summed over all groups)
        d_{k+1} = min(d_max, growth_rate d_k),  d_max = max(d_max, d_coef r_k / |s|_1)
        x    <- x - dlr_k m / (sqrt(v) + d_{k+1} eps)

    ======================  ===========================  ===================================
    symbol                  argument                     default
    ======================  ===========================  ===================================
    lr                      ``lr``                       1.0 (a multiplier of d)
    b1, b2                  ``betas``                    (0.9, 0.999)
    b3                      ``beta3``                    None: sqrt(b2)
    eps                     ``eps``                      1e-8 (> 0)
    lambda                  ``weight_decay``             0.0
    decoupled               ``decoupled_weight_decay``   True: x <- x - dlr lambda x (the
                                                         package's ``decouple``); False: L2
                                                         added to g
    bias correction         ``use_bias_correction``      False
    safeguard               ``safeguard_warmup``         False: True drops lr from s's step
    d0                      ``d0``                       1e-6 (> 0)
    d_coef                  ``d_coef``                   1.0 (> 0)
    growth_rate             ``growth_rate``              None: unbounded (the package's inf)
    slice_p                 ``slice_p``                  1: the statistics on every p-th
                                                         entry of each tensor
    ======================  ===========================  ===================================

    The estimate is global: betas, beta3, d_coef, growth_rate, use_bias_correction and
    decoupled_weight_decay are read from the first param group, as the package does; eps,
    weight_decay, d0, safeguard_warmup and slice_p from each. Each group keeps the package's
    numbers (``d``, ``d_max``, ``d_numerator``, ``d_denom``, ``d_hat``, ``k``);
    :meth:`learning_rate` gives d lr. A step at which every statistic is zero moves nothing
    and counts no step (as the package).

    Matches ``prodigyopt.Prodigy`` 1.1.2 in float64 where every group has the same lr.
    Difference kept: the package refuses groups of different lrs (other than 0) and steps
    every group at the largest; ravine steps each group at d times its own lr (so a group
    at lr 0 is frozen, where the package still applies decoupled decay to it at the others'
    rate). Not offered: the package's ``fsdp_in_use`` (sharded parameters) and its storing
    an all-zero p0 as one number (same values).

    Reference: Mishchenko and Defazio, "Prodigy: An Expeditiously Adaptive Parameter-Free
    Learner", ICML 2024.
    """

    rule = staticmethod(prodigy_move)
    elementwise: ClassVar[bool] = False
    family = "learning-rate free"
    paper = "Mishchenko and Defazio 2024"
    constraints = {
        "betas": Betas(),
        "beta3": OrNone(Range(0.0, 1.0, high_open=True)),
        "eps": POSITIVE,
        "use_bias_correction": BOOL,
        "safeguard_warmup": BOOL,
        "d0": POSITIVE,
        "d_coef": POSITIVE,
        "growth_rate": OrNone(POSITIVE),
        "slice_p": Integer(1),
    }

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        decoupled_weight_decay: bool = True,
        use_bias_correction: bool = False,
        safeguard_warmup: bool = False,
        d0: float = 1e-6,
        d_coef: float = 1.0,
        growth_rate: float | None = None,
        slice_p: int = 1,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        first = self.param_groups[0]
        for key, value in GROUP_NUMBERS.items():
            if key not in group:
                group[key] = first.get(key, value) if value is not None else float(group["d0"])

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        state = {"s": zeros(p).flatten()[:: group["slice_p"]].clone()}
        state["p0"] = p.detach().flatten()[:: group["slice_p"]].clone()
        state["v"] = zeros(p)
        if float(self.param_groups[0]["betas"][0]) > 0:
            state["m"] = zeros(p)
        return state

    def learning_rate(self, group: int = 0) -> float:
        """d lr of param group ``group``: the step size Prodigy has estimated (before
        Adam's normalisation and bias correction)."""
        chosen = self.param_groups[group]
        return float(chosen["d"]) * float(chosen["lr"])

    def _globals(self) -> dict[str, Any]:
        """The estimate's settings, read from the first group (as the package)."""
        first = self.param_groups[0]
        beta1, beta2 = (float(b) for b in first["betas"])
        beta3 = first["beta3"]
        k = first["k"]
        bias = 1.0
        if first["use_bias_correction"]:
            bias = ((1 - beta2 ** (k + 1)) ** 0.5) / (1 - beta1 ** (k + 1))
        return {
            "beta1": beta1,
            "beta2": beta2,
            "beta3": math.sqrt(beta2) if beta3 is None else float(beta3),
            "bias": bias,
            "d": first["d"],
            "decoupled": bool(first["decoupled_weight_decay"]),
        }

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Prodigy step: the statistics of every group, the new d, then the moves."""
        loss = self._evaluate(closure)
        groups = self.param_groups
        active = [[p for p in g["params"] if p.grad is not None] for g in groups]
        if self.check_finite:
            probes = [p.grad for ps in active for p in ps if p.device.type != "meta"]
            check_gradients(type(self).__name__, probes, [g["params"] for g in groups])
        glob = self._globals()
        grads = {}
        numerator, denominator = 0.0, 0.0
        for group, params in zip(groups, active, strict=True):
            dlr = glob["d"] * float(group["lr"]) * glob["bias"]
            for p in params:
                g = grads[p] = self._gradient(p, group, glob["decoupled"])
                state = self._state_of(p, group)
                if dlr == 0:  # lr 0: no statistics, as the package
                    continue
                term, norm, new = prodigy_statistics(
                    p.to(g.dtype), g, state, d=glob["d"], d0=float(group["d0"]), dlr=dlr,
                    beta1=glob["beta1"], beta2=glob["beta2"], beta3=glob["beta3"],
                    slice_p=group["slice_p"], safeguard_warmup=group["safeguard_warmup"],
                )  # fmt: skip
                numerator += term
                denominator += norm
                state.update(new)
        if denominator == 0:
            return loss
        self._estimate(numerator, denominator, glob)
        for group, params in zip(groups, active, strict=True):
            dlr = glob["d"] * float(group["lr"]) * glob["bias"]
            hyper = {"d": groups[0]["d"], "dlr": dlr, "eps": float(group["eps"])}
            hyper |= {"weight_decay": float(group["weight_decay"]), "decoupled": glob["decoupled"]}
            for p in params:
                state = self.state[p]
                state["step"] = state["step"] + 1
                if dlr != 0:
                    p.copy_(prodigy_move(p.to(grads[p].dtype), grads[p], state, **hyper))
            group["k"] += 1
        return loss

    def _gradient(self, p: Tensor, group: Mapping[str, Any], decoupled: bool) -> Tensor:
        """The gradient the statistics see: negated under ``maximize``, plus coupled L2."""
        dtype = self.state_dtype or p.dtype
        g = p.grad.to(dtype)
        g = -g if group["maximize"] else g
        decay = float(group["weight_decay"])
        return torch.add(g, p.to(dtype), alpha=decay) if decay and not decoupled else g

    def _estimate(self, numerator: float, denominator: float, glob: Mapping[str, Any]) -> None:
        """The new d, written into every group with the sums (the package's bookkeeping)."""
        first = self.param_groups[0]
        numerator += first["d_numerator"] * glob["beta3"]
        d, d_max, d_hat = prodigy_estimate(
            glob["d"], first["d_max"], numerator, denominator,
            d0=float(self.param_groups[-1]["d0"]), d_coef=float(first["d_coef"]),
            growth_rate=math.inf if first["growth_rate"] is None else float(first["growth_rate"]),
        )  # fmt: skip
        for group in self.param_groups:
            group.update(d=d, d_max=d_max, d_hat=d_hat, d_numerator=numerator)
            group["d_denom"] = denominator
