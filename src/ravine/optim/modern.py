"""Elementwise optimizers of the last few years: RAdam, NAdamW, Lion, Adan.

Each is one rule (a pure function reading like its formula) plus a class that states its
defaults and paper; every convention in which a reference implementation differs from the
paper is an explicit argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .adam import Nadam
from .base import Optimizer
from .constraints import BOOL, NONNEGATIVE, POSITIVE, Betas
from .rule import State, arguments, zeros
from .torch_named import NAdam

__all__ = ["Adan", "Lion", "NAdamW", "RAdam", "adan", "lion", "radam"]

# ----------------------------------------------------------------------------- the rules


def radam(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, threshold
) -> tuple[Tensor, State]:
    r"""m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t)
    rho_inf = 2 / (1 - b2) - 1;  rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
    rho_t > threshold: theta <- theta - lr r_t m_hat sqrt(1 - b2^t) / (sqrt(v) + eps),
        r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    otherwise:         theta <- theta - lr m_hat   (SGD with momentum while v is unreliable)."""
    beta1, beta2 = betas
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    bc1, bc2 = 1 - beta1**t, 1 - beta2**t
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2**t / bc2
    step = lr * (m / bc1)
    # rho_t as a tensor (already one with per-row betas): the branch is a select, not a
    # Python test on t, so one compiled graph serves every step; r_t is NaN where unused
    if not isinstance(rho_t, Tensor):
        rho_t = torch.full((), rho_t, dtype=torch.float64, device=p.device)
    r = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    rectified = step * r * bc2**0.5 / (v.sqrt() + eps)
    new_p = p - torch.where(rho_t > threshold, rectified, step)
    return new_p, {"m": m, "v": v}


def lion(p: Tensor, g: Tensor, state: State, t: int, *, lr, betas) -> tuple[Tensor, State]:
    r"""c = b1 m + (1 - b1) g;  theta <- theta - lr sign(c);  m <- b2 m + (1 - b2) g."""
    beta1, beta2 = betas
    m = state["m"]
    update = (beta1 * m + (1 - beta1) * g).sign()
    return p - lr * update, {"m": beta2 * m + (1 - beta2) * g}


def adan(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, proximal_decay, first_step
) -> tuple[Tensor, State]:
    r"""With d = g - g_prev (0 at t = 1)::

        m <- (1 - b1) m + b1 g;   v <- (1 - b2) v + b2 d;   n <- (1 - b3) n + b3 (g + (1 - b2) d)^2
        theta <- [theta - lr (m / c1 + (1 - b2) v / c2) / (sqrt(n / c3) + eps)] / (1 + lr lam)

    with c_i = 1 - (1 - b_i)^t and lam = ``proximal_decay``. Without ``first_step`` the
    moments stay at zero at t = 1 (only g_prev is recorded), as ``adan-pytorch`` does."""
    beta1, beta2, beta3 = betas
    # t > 1 as a 0/1 tensor, not a Python test on t (one compiled graph for every step):
    # d_1 = 0, and without first_step the moments' new terms are 0 at t = 1 (they start at 0)
    later = (torch.full((), t, device=p.device) > 1).to(g.dtype)
    d = (g - state["g_prev"]) * later
    w = 1.0 if first_step else later
    m = (1 - beta1) * state["m"] + beta1 * (g * w)
    v = (1 - beta2) * state["v"] + beta2 * d
    n = (1 - beta3) * state["n"] + beta3 * ((g + (1 - beta2) * d) ** 2 * w)
    del d
    c1, c2, c3 = (1 - (1 - b) ** t for b in (beta1, beta2, beta3))
    direction = m / c1 + (1 - beta2) * v / c2
    new_p = (p - lr / ((n / c3).sqrt() + eps) * direction) / (1 + proximal_decay * lr)
    return new_p, {"m": m, "v": v, "n": n, "g_prev": g}


# ---------------------------------------------------------------------------- the classes

_BETAS = Betas()


class RAdam(Optimizer):
    r"""RAdam: Adam whose adaptive step is rectified by the variance of its second moment.

    ::

        m_t = b1 m_{t-1} + (1 - b1) g_t,      v_t = b2 v_{t-1} + (1 - b2) g_t^2
        rho_inf = 2 / (1 - b2) - 1,           rho_t = rho_inf - 2 t b2^t / (1 - b2^t)
        rho_t > 5:  theta_{t+1} = theta_t - eta r_t m_t / (1 - b1^t) sqrt(1 - b2^t)
                                                / (sqrt(v_t) + eps),
                    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  theta_{t+1} = theta_t - eta m_t / (1 - b1^t)

    ==========================  ===========================  ============================
    symbol                      argument                     default
    ==========================  ===========================  ============================
    eta                         ``lr``                       1e-3
    b1, b2                      ``betas``                    (0.9, 0.999), in [0, 1)
    eps                         ``eps``                      1e-8 (> 0)
    rectify when rho_t > ...    ``threshold``                5.0 (PyTorch; the paper's
                                                             Algorithm 2 says 4)
    lambda                      ``weight_decay``             0.0
    theta <- theta (1 - eta l)  ``decoupled_weight_decay``   False: L2 added to g
    ==========================  ===========================  ============================

    The paper has no eps (l_t = sqrt((1 - b2^t) / v_t)); as PyTorch, eps is added to sqrt(v)
    before the bias correction. Matches ``torch.optim.RAdam`` (with and without
    ``decoupled_weight_decay``) and takes its signature and state dicts.

    Reference: Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond",
    ICLR 2020.
    """

    rule = staticmethod(radam)
    constraints = {"betas": _BETAS, "eps": POSITIVE, "threshold": NONNEGATIVE}
    torch_state = {"exp_avg": "m", "exp_avg_sq": "v"}
    family = "rectified adam"
    paper = "Liu et al. 2020"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        threshold: float | Tensor = 5.0,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p), "v": zeros(p)}


class NAdamW(NAdam):
    r"""NAdamW: :class:`~ravine.optim.NAdam` (torch's conventions, Dozat's warming momentum)
    with decoupled weight decay, theta <- theta (1 - eta lambda) before the NAdam step: the
    numbers of ``torch.optim.NAdam(decoupled_weight_decay=True)``.

    Defaults as torch's NAdam (``lr=2e-3, betas=(0.9, 0.999), eps=1e-8,
    momentum_decay=4e-3``) except ``weight_decay=1e-2``, as :class:`~ravine.optim.AdamW`
    (torch's NAdam has 0, which makes NAdamW plain NAdam).

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop;
    Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    paper = "Dozat 2016; Loshchilov and Hutter 2019"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 1e-2,
        momentum_decay: float | Tensor = 4e-3,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super(Nadam, self).__init__(**arguments(locals(), decoupled_weight_decay=True))


class Lion(Optimizer):
    r"""Lion: the sign of an interpolation of momentum and gradient, found by program search.

    ::

        c_t = b1 m_{t-1} + (1 - b1) g_t
        theta_{t+1} = theta_t (1 - eta lambda) - eta sign(c_t)
        m_t = b2 m_{t-1} + (1 - b2) g_t

    ==========================  ===========================  ============================
    symbol                      argument                     default
    ==========================  ===========================  ============================
    eta                         ``lr``                       1e-4
    b1, b2                      ``betas``                    (0.9, 0.99), in [0, 1)
    lambda                      ``weight_decay``             0.0
    theta <- theta (1 - eta l)  ``decoupled_weight_decay``   True (the paper's); False
                                                             adds L2 to g before the sign
    ==========================  ===========================  ============================

    Every coordinate moves by exactly eta (sign(0) = 0), so Lion wants a learning rate 3-10
    times smaller than AdamW's and a weight decay as many times larger (the paper). Matches
    the ``lion-pytorch`` package; its ``decoupled_weight_decay=True`` (decay divided by the
    initial learning rate) is not offered: pass ``weight_decay / lr`` instead.

    Reference: Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023.
    """

    rule = staticmethod(lion)
    constraints = {"betas": _BETAS}
    torch_state = {"exp_avg": "m"}
    family = "sign"
    paper = "Chen et al. 2023"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-4,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.99),
        weight_decay: float | Tensor = 0.0,
        *,
        decoupled_weight_decay: bool = True,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p)}


class Adan(Optimizer):
    r"""Adan: adaptive Nesterov momentum, estimated from gradient differences.

    With d_t = g_t - g_{t-1} and c_i = 1 - (1 - b_i)^t::

        m_t = (1 - b1) m_{t-1} + b1 g_t
        v_t = (1 - b2) v_{t-1} + b2 d_t
        n_t = (1 - b3) n_{t-1} + b3 (g_t + (1 - b2) d_t)^2
        theta_{t+1} = [theta_t - eta (m_t / c1 + (1 - b2) v_t / c2) / (sqrt(n_t / c3) + eps)]
                      / (1 + eta lambda)

    ==============  ======================  ==============================================
    symbol          argument                default
    ==============  ======================  ==============================================
    eta             ``lr``                  1e-3
    b1, b2, b3      ``betas``               (0.02, 0.08, 0.01), in [0, 1): the paper's
                                            weights of the new term (the authors' code
                                            takes 1 - b: (0.98, 0.92, 0.99))
    eps             ``eps``                 1e-8 (> 0)
    lambda          ``proximal_decay``      0.0: the paper's proximal weight decay
    t = 1 updates   ``first_step``          True: the moments take g_1 with d_1 = 0 (the
                                            authors' code, whose betas are 1 - these);
                                            False: they stay 0 and only g_1 is kept, so the
                                            first step does not move (``adan-pytorch``)
    ==============  ======================  ==============================================

    ``weight_decay`` is the shared coupled L2 (``grad + weight_decay * theta``), 0 by
    default. With ``first_step=False`` it matches the ``adan-pytorch`` package (without
    ``restart_cond``), whose ``weight_decay`` is ``proximal_decay`` here.

    Reference: Xie et al., "Adan: Adaptive Nesterov Momentum Algorithm for Faster
    Optimizing Deep Models", 2022 (IEEE TPAMI 2024).
    """

    rule = staticmethod(adan)
    constraints = {
        "betas": Betas(count=3),
        "eps": POSITIVE,
        "proximal_decay": NONNEGATIVE,
        "first_step": BOOL,
    }
    family = "adam"
    paper = "Xie et al. 2022"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor, float | Tensor] = (0.02, 0.08, 0.01),
        eps: float | Tensor = 1e-8,
        *,
        proximal_decay: float | Tensor = 0.0,
        first_step: bool = True,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p), "v": zeros(p), "n": zeros(p), "g_prev": zeros(p)}
