"""Layer-wise trust ratios: LAMB and LARS scale each tensor's step by the ratio of its
weight norm to its update norm, so every layer moves by a set fraction of its size.

Each is one rule over a whole tensor (the norms mix its coordinates): the classes set
``elementwise = False``, so races run one instance per trajectory and the multi-tensor path
is skipped. Weight decay is part of each trust ratio, so the rules apply it themselves
(:class:`RuleWeightDecay`) instead of the shared coupled or decoupled form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer, _nonzero
from .constraints import (
    BOOL,
    NONNEGATIVE,
    POSITIVE,
    UNIT_INTERVAL,
    Betas,
    Range,
    ScalarHyperparameters,
)
from .rule import State, arguments, zeros
from .sgd import momentum as heavy_ball
from .sgd import sgd

__all__ = ["LAMB", "LARS", "RuleWeightDecay", "lamb", "lars", "trust_ratio"]

# ----------------------------------------------------------------------------- the rules


def trust_ratio(w_norm: Tensor, u_norm: Tensor) -> Tensor:
    """``w_norm / u_norm``, and 1 where either norm is 0 (a fresh zero layer, a zero step)."""
    safe = torch.where(u_norm > 0, u_norm, torch.ones_like(u_norm))
    return torch.where((w_norm > 0) & (u_norm > 0), w_norm / safe, torch.ones_like(w_norm))


def lamb(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, weight_decay,
    decoupled_weight_decay, bias_correction, grad_averaging, trust_clip, always_adapt,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""m <- b1 m + (1 - b1) g (grad_averaging; else b1 m + g);  v <- b2 v + (1 - b2) g^2
    r = (m / c1) / (sqrt(v / c2) + eps)   (c_i = 1 - b_i^t, or 1 without bias_correction)
    decoupled: theta <- theta (1 - lr lam); else r <- r + lam theta
    adapt (lam != 0 or always_adapt): r <- r ||theta|| / ||r||  (clipped at 1: trust_clip)
    theta <- theta - lr r."""
    beta1, beta2 = betas
    m = beta1 * state["m"] + ((1 - beta1) if grad_averaging else 1.0) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    c1, c2 = (1 - beta1**t, 1 - beta2**t) if bias_correction else (1.0, 1.0)
    r = (m / c1) / (v.sqrt() / c2**0.5 + eps)
    decays = _nonzero(weight_decay)
    if decays and decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    elif decays:
        r = r + weight_decay * p
    if decays or always_adapt:
        ratio = trust_ratio(torch.linalg.vector_norm(p), torch.linalg.vector_norm(r))
        r = r * (ratio.clamp(max=1.0) if trust_clip else ratio)
    return p - lr * r, {"m": m, "v": v}


def lars(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, dampening, weight_decay,
    nesterov, trust_coeff, eps, trust_clip, always_adapt, lr_in_velocity,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""adapt (lam != 0 or always_adapt): g <- (g + lam theta) local_lr with
    local_lr = eta ||theta|| / (||g|| + lam ||theta|| + eps) (1 where a norm is 0;
    trust_clip: min(local_lr / lr, 1)); then SGD with momentum on g
    (:func:`ravine.optim.sgd.sgd`, or ``lr_in_velocity``: v <- mu v - lr g, theta <- theta + v)."""
    if _nonzero(weight_decay) or always_adapt:
        w_norm, g_norm = torch.linalg.vector_norm(p), torch.linalg.vector_norm(g)
        local = trust_coeff * w_norm / (g_norm + w_norm * weight_decay + eps)
        local = torch.where((w_norm > 0) & (g_norm > 0), local, torch.ones_like(local))
        if trust_clip:
            local = (local / lr).clamp(max=1.0)
        g = (g + weight_decay * p) * local
    if lr_in_velocity and "v" in state:
        return heavy_ball(
            p, g, state, t, lr=lr, momentum=momentum, lr_in_velocity=True, dampening=dampening
        )
    return sgd(p, g, state, t, lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov)


# ---------------------------------------------------------------------------- the classes


class RuleWeightDecay:
    """For rules that apply ``weight_decay`` themselves (as one of their hyperparameters),
    where its form is part of the algorithm: the shared coupled or decoupled decay of
    :func:`ravine.optim.rule.apply_rule` is switched off (``maximize`` stays shared)."""

    def _prep(self, group: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._prep(group), "weight_decay": None, "decoupled": False}  # type: ignore[misc]


class LAMB(RuleWeightDecay, ScalarHyperparameters, Optimizer):
    r"""LAMB: Adam's step rescaled, tensor by tensor, to a trust ratio of the weight norm.

    ::

        m_t = b1 m_{t-1} + (1 - b1) g_t,     v_t = b2 v_{t-1} + (1 - b2) g_t^2
        r_t = (m_t / (1 - b1^t)) / (sqrt(v_t / (1 - b2^t)) + eps) + lambda theta_t
        theta_{t+1} = theta_t - eta (||theta_t|| / ||r_t||) r_t

    (the ratio is 1 where either norm is 0). One rule per tensor, ``elementwise = False``:
    races run one instance per trajectory.

    ========================  ==========================  =====================================
    symbol                    argument                    default
    ========================  ==========================  =====================================
    eta                       ``lr``                      1e-3
    b1, b2                    ``betas``                   (0.9, 0.999), in [0, 1)
    eps                       ``eps``                     1e-6 (> 0)
    lambda                    ``weight_decay``            0.01, added to r (the paper's)
    theta (1 - eta lambda)    ``decoupled_weight_decay``  False; True shrinks theta first and
                                                          takes its norm after (timm's
                                                          ``decoupled_decay``)
    1 - b^t                   ``bias_correction``         True (paper and timm)
    (1 - b1) g in m           ``grad_averaging``          True (paper and timm); False: m + g
    min(ratio, 1)             ``trust_clip``              False (True: timm's LAMBC)
    ratio where lambda = 0    ``always_adapt``            True (the paper adapts every
                                                          tensor); False: timm's default,
                                                          plain Adam where lambda = 0
    ========================  ==========================  =====================================

    Defaults are the paper's and timm's but for ``always_adapt`` (the paper's). Matches
    ``timm.optim.Lamb`` run with ``max_grad_norm=None``: timm's default clips the global
    gradient norm of all parameters to 1 before the step, which no per-tensor rule does
    (clip with ``torch.nn.utils.clip_grad_norm_`` first). timm counts steps per param
    group, ravine per parameter (they differ after a step a parameter had no gradient).
    timm's ``caution`` and ``corrected_weight_decay`` are not offered.

    Reference: You et al., "Large Batch Optimization for Deep Learning: Training BERT in 76
    minutes", ICLR 2020.
    """

    rule = staticmethod(lamb)
    elementwise = False
    constraints = {
        "betas": Betas(),
        "eps": POSITIVE,
        "bias_correction": BOOL,
        "grad_averaging": BOOL,
        "trust_clip": BOOL,
        "always_adapt": BOOL,
    }
    family = "layer-wise adaptive"
    paper = "You et al. 2020"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-6,
        weight_decay: float | Tensor = 0.01,
        *,
        decoupled_weight_decay: bool = False,
        bias_correction: bool = True,
        grad_averaging: bool = True,
        trust_clip: bool = False,
        always_adapt: bool = True,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p), "v": zeros(p)}


class LARS(RuleWeightDecay, ScalarHyperparameters, Optimizer):
    r"""LARS: SGD whose gradient is rescaled, tensor by tensor, by a local learning rate.

    ::

        local_t = eta ||theta_t|| / (||g_t|| + lambda ||theta_t|| + eps)
        b_{t+1} = mu b_t + (1 - d) local_t (g_t + lambda theta_t)      (b_1 = its first term)
        theta_{t+1} = theta_t - gamma b_{t+1}          (nesterov: - gamma (that term + mu b))

    (local_t is 1 where either norm is 0). One rule per tensor, ``elementwise = False``:
    races run one instance per trajectory.

    ====================  ======================  ==========================================
    symbol                argument                default
    ====================  ======================  ==========================================
    gamma                 ``lr``                  1.0 (timm)
    mu                    ``momentum``            0.0 (timm), in [0, 1)
    d                     ``dampening``           0.0, in [0, 1]
    lambda                ``weight_decay``        0.0, inside the ratio and added to g
    Nesterov              ``nesterov``            False (needs mu > 0 and d = 0)
    eta                   ``trust_coeff``         1e-3 (paper and timm)
    eps                   ``eps``                 1e-8 (timm; the paper has none)
    min(local / gamma, 1) ``trust_clip``          False (True: LARC's clipping, timm's)
    local where lambda=0  ``always_adapt``        True (the paper adapts every tensor);
                                                  False: timm's default, plain SGD there
    v <- mu v - gamma g   ``lr_in_velocity``      False (timm, torch's SGD); True: the
                                                  paper's Algorithm 1, gamma inside the
                                                  momentum (equal at a constant gamma)
    ====================  ======================  ==========================================

    Defaults are timm's but for ``always_adapt`` (the paper's). Matches ``timm.optim.Lars``.

    Reference: You, Gitman and Ginsburg, "Large Batch Training of Convolutional Networks",
    2017.
    """

    rule = staticmethod(lars)
    elementwise = False
    constraints = {
        "momentum": UNIT_INTERVAL,
        "dampening": Range(0.0, 1.0),
        "nesterov": BOOL,
        "trust_coeff": POSITIVE,
        "eps": NONNEGATIVE,
        "trust_clip": BOOL,
        "always_adapt": BOOL,
        "lr_in_velocity": BOOL,
    }
    torch_state = {"momentum_buffer": "v"}
    family = "layer-wise adaptive"
    paper = "You et al. 2017"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        momentum: float | Tensor = 0.0,
        dampening: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        nesterov: bool = False,
        trust_coeff: float | Tensor = 1e-3,
        eps: float | Tensor = 1e-8,
        trust_clip: bool = False,
        always_adapt: bool = True,
        *,
        lr_in_velocity: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        if nesterov is True and (momentum == 0 or dampening != 0 or lr_in_velocity is True):
            raise ValueError(
                f"LARS: nesterov=True requires a momentum > 0, dampening=0 and "
                f"lr_in_velocity=False, got momentum={momentum}, dampening={dampening}, "
                f"lr_in_velocity={lr_in_velocity}"
            )
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {} if group["momentum"] == 0 else {"v": zeros(p)}
