"""Per-coordinate adaptive step sizes: AdaGrad, RMSProp, AdaDelta."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import BOOL, NONNEGATIVE, POSITIVE, UNIT_INTERVAL
from .rule import State, arguments, zeros

# ----------------------------------------------------------------------------- the rules


def _root(x: Tensor, eps, eps_in_sqrt: bool) -> Tensor:
    """sqrt(x + eps) (Keras, optax) or sqrt(x) + eps (PyTorch, the papers' usual reading)."""
    return (x + eps).sqrt() if eps_in_sqrt else x.sqrt() + eps


def adagrad(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, eps, eps_in_sqrt, lr_decay
) -> tuple[Tensor, State]:
    r"""G <- G + g^2;  theta <- theta - lr_t g / (sqrt(G) + eps),
    lr_t = lr / (1 + (t - 1) lr_decay) (PyTorch's ``lr_decay``; 0: lr_t = lr)."""
    if not (type(lr_decay) in (int, float) and lr_decay == 0):
        lr = lr / (1 + (t - 1) * lr_decay)
    G = state["G"] + g * g
    return p - lr * g / _root(G, eps, eps_in_sqrt), {"G": G}


def rmsprop(
    p: Tensor,
    g: Tensor,
    state: State,
    t: int,
    *,
    lr,
    decay,
    eps,
    eps_in_sqrt,
    momentum,
    centered,
    bias_correction,
    nesterov,
    lr_in_momentum,
) -> tuple[Tensor, State]:
    r"""s <- rho s + (1 - rho) g^2;  d = g / (sqrt(s_hat - gbar_hat^2) + eps)
    b <- mu b + d;  theta <- theta - lr b  (nesterov: theta <- theta - lr (mu b + d))

    gbar (centered only) <- rho gbar + (1 - rho) g; uncentered, gbar = 0. With
    bias_correction s_hat = s / (1 - rho^t), gbar_hat = gbar / (1 - rho^t), else s, gbar.
    lr_in_momentum puts lr inside the trace (optax): b <- mu b + lr d, theta <- theta - b."""
    s = decay * state["s"] + (1 - decay) * g * g
    new = {"s": s}
    bc = 1 - decay**t if bias_correction else 1
    var = s / bc if bias_correction else s
    if centered:
        gbar = new["gbar"] = decay * state["gbar"] + (1 - decay) * g
        gbar = gbar / bc if bias_correction else gbar
        var = var - gbar * gbar
    d = g / _root(var, eps, eps_in_sqrt)
    if lr_in_momentum:
        d = lr * d
    b = new["b"] = momentum * state["b"] + d
    step = momentum * b + d if nesterov else b
    return (p - step if lr_in_momentum else p - lr * step), new


def adadelta(p: Tensor, g: Tensor, state: State, t: int, *, lr, decay, eps) -> tuple[Tensor, State]:
    r"""Zeiler's AdaDelta, with E[.] running averages of decay rho::

    E[g^2] <- rho E[g^2] + (1 - rho) g^2
    dx     <- sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) * g
    E[dx^2] <- rho E[dx^2] + (1 - rho) dx^2
    theta  <- theta - lr dx
    """
    Eg2 = decay * state["Eg2"] + (1 - decay) * g * g
    dx = (state["Edx2"] + eps).sqrt() / (Eg2 + eps).sqrt() * g
    Edx2 = decay * state["Edx2"] + (1 - decay) * dx * dx
    return p - lr * dx, {"Eg2": Eg2, "Edx2": Edx2}


# ---------------------------------------------------------------------------- the classes


class AdaGrad(Optimizer):
    r"""AdaGrad: per-coordinate steps shrinking with the sum of squared gradients.

    ::

        G_t = G_{t-1} + g_t^2,        theta_{t+1} = theta_t - eta g_t / (sqrt(G_t) + eps)

    ======================  =========================  ===========================
    symbol                  argument                   default
    ======================  =========================  ===========================
    eta                     ``lr``                     1e-2
    eps                     ``eps``                    1e-8 (> 0)
    G_0                     ``initial_accumulator``    0.0 (>= 0)
    eps inside the root     ``eps_in_sqrt``            False: sqrt(G) + eps
    lr / (1 + (t-1) d)      ``lr_decay``               0.0 (>= 0, PyTorch's)
    ======================  =========================  ===========================

    Sources differ: PyTorch starts G at 0 with eps 1e-10 outside the root; optax and Keras
    start at 0.1 and optax puts eps inside (``initial_accumulator=0.1, eps_in_sqrt=True``).

    Reference: Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization", JMLR 2011.
    """

    rule = staticmethod(adagrad)
    constraints = {
        "eps": POSITIVE,
        "initial_accumulator": NONNEGATIVE,
        "eps_in_sqrt": BOOL,
        "lr_decay": NONNEGATIVE,
    }
    torch_state = {"sum": "G"}
    family = "adaptive"
    paper = "Duchi, Hazan and Singer 2011"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        eps: float | Tensor = 1e-8,
        *,
        initial_accumulator: float | Tensor = 0.0,
        eps_in_sqrt: bool = False,
        lr_decay: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"G": zeros(p) + group["initial_accumulator"]}


class RMSProp(Optimizer):
    r"""RMSProp: steps divided by a running root mean square of recent gradients.

    ::

        s_t = rho s_{t-1} + (1 - rho) g_t^2
        b_t = mu b_{t-1} + g_t / (sqrt(s_t - gbar_t^2) + eps)       (gbar_t = 0 unless centered)
        theta_{t+1} = theta_t - eta b_t

    ======================  =========================  ===========================
    symbol                  argument                   default
    ======================  =========================  ===========================
    eta                     ``lr``                     1e-3
    rho                     ``decay``                  0.9 (in [0, 1))
    eps                     ``eps``                    1e-8 (> 0)
    eps inside the root     ``eps_in_sqrt``            False: sqrt(s) + eps
    mu                      ``momentum``               0.0 (in [0, 1))
    centered (Graves 2013)  ``centered``               False
    s_0                     ``initial_scale``          0.0 (>= 0)
    s / (1 - rho^t)         ``bias_correction``        False (also gbar if centered)
    Nesterov momentum       ``nesterov``               False; True: theta -=
                                                       eta (mu b_t + d_t)
    eta inside the trace    ``lr_in_momentum``         False; True (optax):
                                                       b = mu b + eta d, theta -= b
    ======================  =========================  ===========================

    (d_t is g_t / (sqrt(s_t - gbar_t^2) + eps), the step before momentum.) The two momentum
    forms agree at a constant eta and differ once eta is scheduled: with ``lr_in_momentum``
    past steps keep the rate they were taken at.

    Sources differ: Hinton's lecture uses rho = 0.9 (the default here); PyTorch calls rho
    ``alpha`` and defaults to 0.99 with lr 1e-2, eps outside the root; Keras and optax put eps
    inside the root (``eps_in_sqrt=True``). Matches ``torch.optim.RMSprop(alpha=decay)``;
    optax's ``rmsprop`` is ``eps_in_sqrt=True, lr_in_momentum=True`` with its own
    ``initial_scale``, ``bias_correction`` and ``nesterov``.

    Reference: Tieleman and Hinton, Lecture 6.5 of "Neural Networks for Machine Learning",
    Coursera 2012; centered form: Graves, "Generating Sequences With Recurrent Neural
    Networks", 2013.
    """

    rule = staticmethod(rmsprop)
    constraints = {
        "decay": UNIT_INTERVAL,
        "eps": POSITIVE,
        "eps_in_sqrt": BOOL,
        "momentum": UNIT_INTERVAL,
        "centered": BOOL,
        "initial_scale": NONNEGATIVE,
        "bias_correction": BOOL,
        "nesterov": BOOL,
        "lr_in_momentum": BOOL,
    }
    torch_state = {"square_avg": "s", "momentum_buffer": "b", "grad_avg": "gbar"}
    family = "adaptive"
    paper = "Tieleman and Hinton 2012"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        decay: float | Tensor = 0.9,
        eps: float | Tensor = 1e-8,
        *,
        eps_in_sqrt: bool = False,
        momentum: float | Tensor = 0.0,
        centered: bool = False,
        initial_scale: float | Tensor = 0.0,
        bias_correction: bool = False,
        nesterov: bool = False,
        lr_in_momentum: bool = False,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        # torch's RMSprop (a subclass) has no initial_scale: s_0 = 0
        state = {"s": zeros(p) + group.get("initial_scale", 0.0), "b": zeros(p)}
        if group["centered"]:
            state["gbar"] = zeros(p)
        return state


class AdaDelta(Optimizer):
    r"""AdaDelta: RMSProp with the units corrected by a running RMS of past steps.

    ::

        E[g^2]_t  = rho E[g^2]_{t-1} + (1 - rho) g_t^2
        dx_t      = sqrt(E[dx^2]_{t-1} + eps) / sqrt(E[g^2]_t + eps) * g_t
        E[dx^2]_t = rho E[dx^2]_{t-1} + (1 - rho) dx_t^2
        theta_{t+1} = theta_t - eta dx_t

    ==========  ===========  ==========================================
    symbol      argument     default
    ==========  ===========  ==========================================
    eta         ``lr``       1.0 (the paper has no learning rate: 1.0)
    rho         ``decay``    0.9 (in [0, 1)); the paper uses 0.95
    eps         ``eps``      1e-6 (> 0)
    ==========  ===========  ==========================================

    Matches ``torch.optim.Adadelta(rho=decay)``; Keras defaults lr to 1e-3 and optax has no lr.

    Reference: Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012.
    """

    rule = staticmethod(adadelta)
    constraints = {"decay": UNIT_INTERVAL, "eps": POSITIVE}
    torch_state = {"square_avg": "Eg2", "acc_delta": "Edx2"}
    family = "adaptive"
    paper = "Zeiler 2012"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        decay: float | Tensor = 0.9,
        eps: float | Tensor = 1e-6,
        *,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"Eg2": zeros(p), "Edx2": zeros(p)}
