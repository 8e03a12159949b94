"""Newer elementwise methods: MADGRAD (dual averaging with a cube-root scale) and AdEMAMix
(Adam with a second, slow momentum mixed in)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import BOOL, NONNEGATIVE, UNIT_INTERVAL, Betas, Integer
from .rule import State, arguments, zeros

# ----------------------------------------------------------------------------- the rules


def madgrad(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, eps, eps_in_lr
) -> tuple[Tensor, State]:
    r"""lam_t = eta' sqrt(t) (eta' = eta + eps for eta != 0 with eps_in_lr, else eta)
    s <- s + lam_t g;  v <- v + lam_t g^2;  z = x0 - s / (cbrt(v) + eps)
    theta <- (1 - c) theta + c z,  c = 1 - momentum."""
    step_size = lr
    if eps_in_lr and isinstance(lr, Tensor):
        step_size = torch.where(lr != 0, lr + eps, lr)
    elif eps_in_lr and lr != 0:
        step_size = lr + eps
    lam = step_size * t**0.5
    s = state["s"] + lam * g
    v = state["v"] + lam * g * g
    z = state["x0"] - s / (_cube_root(v) + eps)
    c = 1 - momentum
    return p * (1 - c) + c * z, {"s": s, "v": v, "x0": state["x0"]}


def _cube_root(v: Tensor) -> Tensor:
    """v^(1/3) as exp(ln(v) / 3): ``pow`` rounds a lone tail element differently from a
    vectorised run on CPU, which would break the chunked path's bitwise equality."""
    return torch.exp(torch.log(v) / 3)


def _log(x):
    return torch.log(x) if isinstance(x, Tensor) else math.log(x)


def ademamix_schedules(t: int, beta1, beta3, alpha, alpha_warmup: int, beta3_warmup: int):
    r"""The paper's warm-ups at step t (1-based; the schedules read s = t - 1 steps done):
    alpha_t = alpha min(s / T_alpha, 1), and beta3_t from b1 to b3 linearly in the half-life,
    ln beta3_t = ln b1 ln b3 / ((1 - f) ln b3 + f ln b1), f = s / T_beta3 (until f = 1)."""
    done = t - 1
    if alpha_warmup and done < alpha_warmup:
        alpha = alpha * (done / alpha_warmup)
    if beta3_warmup and done < beta3_warmup:
        f = done / beta3_warmup
        ln1, ln3 = _log(beta1), _log(beta3)
        beta3 = math.e ** (ln1 * ln3 / ((1 - f) * ln3 + f * ln1))
    return alpha, beta3


def ademamix(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, beta3, alpha, eps,
    alpha_warmup, beta3_warmup,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""m1 <- b1 m1 + (1 - b1) g;  m2 <- b3 m2 + (1 - b3) g;  v <- b2 v + (1 - b2) g^2
    theta <- theta - eta (m1 / (1 - b1^t) + alpha m2) / (sqrt(v / (1 - b2^t)) + eps)
    (alpha and b3 warmed up by :func:`ademamix_schedules`)."""
    beta1, beta2 = betas
    alpha, beta3 = ademamix_schedules(t, beta1, beta3, alpha, alpha_warmup, beta3_warmup)
    m1 = beta1 * state["m1"] + (1 - beta1) * g
    m2 = beta3 * state["m2"] + (1 - beta3) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    denom = v.sqrt() / (1 - beta2**t) ** 0.5 + eps
    return p - lr * (m1 / (1 - beta1**t) + alpha * m2) / denom, {"m1": m1, "m2": m2, "v": v}


# ---------------------------------------------------------------------------- the classes


class MADGRAD(Optimizer):
    r"""MADGRAD: dual averaging with momentum and a cube-root (not square-root) scale.

    With lam_t = eta sqrt(t), x0 the starting point and c = 1 - momentum::

        s_t = s_{t-1} + lam_t g_t,            v_t = v_{t-1} + lam_t g_t^2
        z_t = x0 - s_t / (v_t^(1/3) + eps)
        theta_{t+1} = (1 - c) theta_t + c z_t

    ==================  ==================  =============================================
    symbol              argument            default
    ==================  ==================  =============================================
    eta                 ``lr``              1e-2
    momentum            ``momentum``        0.9, in [0, 1) (0: plain dual averaging)
    eps                 ``eps``             1e-6 (>= 0)
    eta' = eta + eps    ``eps_in_lr``       True: lam_t = (eta + eps) sqrt(t) for eta != 0,
                                            as the authors' ``madgrad`` package; False: the
                                            paper's lam_t = eta sqrt(t)
    lambda              ``weight_decay``    0.0, L2 added to g (the package's default form)
    ==================  ==================  =============================================

    Matches the authors' ``madgrad.MADGRAD`` (float64, 1e-12 relative). Differences kept
    explicit: the package counts steps once per optimizer, ravine per parameter (they differ
    only after a step at which a parameter had no gradient); the package's
    ``decouple_decay=True`` (theta <- step(theta) - eta' lambda theta_old) is not offered,
    ravine's ``decoupled_weight_decay=True`` shrinks theta before the step (AdamW's form).
    With ``momentum=0`` the package recomputes x0 from theta, ravine keeps it (equal in
    exact arithmetic).

    Reference: Defazio and Jelassi, "A Momentumized, Adaptive, Dual Averaged Gradient
    Method", JMLR 2022 (arXiv 2021).
    """

    rule = staticmethod(madgrad)
    constraints = {"momentum": UNIT_INTERVAL, "eps": NONNEGATIVE, "eps_in_lr": BOOL}
    torch_state = {"grad_sum_sq": "v", "s": "s", "x0": "x0"}
    family = "dual averaging"
    paper = "Defazio and Jelassi 2021"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        momentum: float | Tensor = 0.9,
        weight_decay: float | Tensor = 0.0,
        eps: float | Tensor = 1e-6,
        *,
        eps_in_lr: bool = True,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"s": zeros(p), "v": zeros(p), "x0": p.detach().clone()}


class AdEMAMix(Optimizer):
    r"""AdEMAMix: Adam whose numerator mixes in a second, slow momentum.

    ::

        m1_t = b1 m1_{t-1} + (1 - b1) g_t,     m2_t = b3 m2_{t-1} + (1 - b3) g_t
        v_t = b2 v_{t-1} + (1 - b2) g_t^2
        theta_{t+1} = theta_t - eta (m1_t / (1 - b1^t) + alpha m2_t)
                                / (sqrt(v_t / (1 - b2^t)) + eps)

    m2 is not bias-corrected. Optional warm-ups (the paper's schedulers, 0 = off), read at
    the number of steps done s = t - 1: alpha_t = alpha s / T_alpha, and b3 moved from b1 to
    b3 linearly in half-life, ln b3_t = ln b1 ln b3 / ((1 - s/T) ln b3 + (s/T) ln b1).

    ================  ====================  =====================================
    symbol            argument              default
    ================  ====================  =====================================
    eta               ``lr``                1e-3
    b1, b2            ``betas``             (0.9, 0.999), in [0, 1)
    b3                ``beta3``             0.9999, in [0, 1)
    alpha             ``alpha``             2.0 (>= 0)
    eps               ``eps``               1e-8 (>= 0)
    T_alpha           ``alpha_warmup``      0 (no warm-up)
    T_b3              ``beta3_warmup``      0 (no warm-up)
    lambda            ``weight_decay``      0.0, decoupled (theta (1 - eta lambda))
    ================  ====================  =====================================

    Decay is decoupled as in the paper (``decoupled_weight_decay=False`` adds it to g).
    The paper's defaults for long runs are alpha in [5, 10] with both warm-ups set to the
    run length; the authors' code adds 1e-8 to beta inside its half-life logarithm, ravine
    does not.

    Reference: Pagliardini, Ablin and Grangier, "The AdEMAMix Optimizer: Better, Faster,
    Older", 2024 (Algorithm 1).
    """

    rule = staticmethod(ademamix)
    constraints = {
        "betas": Betas(),
        "beta3": UNIT_INTERVAL,
        "alpha": NONNEGATIVE,
        "eps": NONNEGATIVE,
        "alpha_warmup": Integer(0),
        "beta3_warmup": Integer(0),
    }
    family = "adam"
    paper = "Pagliardini et al. 2024"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        beta3: float | Tensor = 0.9999,
        alpha: float | Tensor = 2.0,
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        *,
        alpha_warmup: int = 0,
        beta3_warmup: int = 0,
        decoupled_weight_decay: bool = True,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m1": zeros(p), "m2": zeros(p), "v": zeros(p)}
