"""The Adam family: Adam (and AdamW), AdaMax, Nadam, AdaBelief."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import BOOL, NONNEGATIVE, POSITIVE, Betas, Range
from .rule import State, arguments, zeros

# ----------------------------------------------------------------------------- the rules


def _zero(x) -> bool:
    """Whether ``x`` is the plain number 0 (a tensor, even of zeros, is not)."""
    return type(x) in (int, float) and x == 0


def adam(
    p: Tensor,
    g: Tensor,
    state: State,
    t: int,
    *,
    lr,
    betas,
    eps,
    eps_root,
    bias_correction,
    amsgrad,
    amsgrad_corrected,
) -> tuple[Tensor, State]:
    r"""m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  (amsgrad: v <- max(v_max, v))
    theta <- theta - lr m_hat / (sqrt(v_hat + eps_root) + eps),
    m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t) (without bias correction m_hat = m, v_hat = v).
    amsgrad_corrected keeps the maximum of v_hat instead of v (optax)."""
    beta1, beta2 = betas
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    new = {"m": m, "v": v}
    bc1, bc2 = (1 - beta1**t, 1 - beta2**t) if bias_correction else (1, 1)
    if amsgrad and amsgrad_corrected:
        v, bc2 = torch.maximum(state["v_max"], v / bc2), 1
        new["v_max"] = v
    elif amsgrad:
        v = new["v_max"] = torch.maximum(state["v_max"], v)
    if not _zero(eps_root):
        return p - lr / bc1 * m / ((v / bc2 + eps_root).sqrt() + eps), new
    if not bias_correction:
        return p - lr * m / (v.sqrt() + eps), new
    return p - lr / bc1 * m / (v.sqrt() / bc2**0.5 + eps), new


def adamax(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, eps_in_max
) -> tuple[Tensor, State]:
    r"""m <- b1 m + (1 - b1) g;  u <- max(b2 u, |g| + eps);  theta <- theta - lr / (1 - b1^t) m / u.

    eps_in_max=False puts eps in the denominator instead: u <- max(b2 u, |g|), m / (u + eps)."""
    beta1, beta2 = betas
    m = beta1 * state["m"] + (1 - beta1) * g
    if eps_in_max:
        u = torch.maximum(beta2 * state["u"], g.abs() + eps)
        denom = u
    else:
        u = torch.maximum(beta2 * state["u"], g.abs())
        denom = u + eps
    return p - lr / (1 - beta1**t) * m / denom, {"m": m, "u": u}


def nadam_momentum(beta1, t: int, momentum_decay):
    r"""Dozat's momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t psi)) (PyTorch's NAdam), or the
    constant mu_t = b1 of Dozat's simplified form (optax) when psi = momentum_decay = 0."""
    scheduled = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
    if isinstance(momentum_decay, Tensor):
        return torch.where(momentum_decay > 0, scheduled, beta1)
    return scheduled if momentum_decay > 0 else beta1


def nadam(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, momentum_decay
) -> tuple[Tensor, State]:
    r"""Adam with Nesterov momentum (Dozat 2016), with Pi_t = prod_{i<=t} mu_i::

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  v_hat = v / (1 - b2^t)
    theta <- theta - lr [(1 - mu_t) / (1 - Pi_t) g + mu_{t+1} / (1 - Pi_{t+1}) m]
                     / (sqrt(v_hat) + eps)
    """
    beta1, beta2 = betas
    mu, mu_next = (nadam_momentum(beta1, s, momentum_decay) for s in (t, t + 1))
    mu_product = state["mu_product"] * mu
    m = beta1 * state["m"] + (1 - beta1) * g
    v = beta2 * state["v"] + (1 - beta2) * g * g
    denom = (v / (1 - beta2**t)).sqrt() + eps
    step = lr * (1 - mu) / (1 - mu_product) * g + lr * mu_next / (1 - mu_product * mu_next) * m
    return p - step / denom, {"m": m, "v": v, "mu_product": mu_product}


def adabelief(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, eps, eps_root
) -> tuple[Tensor, State]:
    r"""m <- b1 m + (1 - b1) g;  s <- b2 s + (1 - b2) (g - m)^2 + eps_root  (None: eps)
    theta <- theta - lr / (1 - b1^t) m / (sqrt(s) / sqrt(1 - b2^t) + eps)."""
    beta1, beta2 = betas
    m = beta1 * state["m"] + (1 - beta1) * g
    s = beta2 * state["s"] + (1 - beta2) * (g - m) ** 2 + (eps if eps_root is None else eps_root)
    bc1, bc2 = 1 - beta1**t, 1 - beta2**t
    return p - lr / bc1 * m / (s.sqrt() / bc2**0.5 + eps), {"m": m, "s": s}


# ---------------------------------------------------------------------------- the classes

_BETAS = Betas()


class _OptionalRange(Range):
    """A :class:`Range`, or None (for a default taken from another argument)."""

    def check(self, name: str, value: Any, owner: str) -> None:
        if value is not None:
            super().check(name, value, owner)

    def describe(self) -> str:
        return "None or " + super().describe()


_OPTIONAL_NONNEGATIVE = _OptionalRange(0.0)


class Adam(Optimizer):
    r"""Adam: momentum on the gradient, divided by the root of a running second moment.

    ::

        m_t = b1 m_{t-1} + (1 - b1) g_t,        v_t = b2 v_{t-1} + (1 - b2) g_t^2
        m_hat = m_t / (1 - b1^t),               v_hat = v_t / (1 - b2^t)
        theta_{t+1} = theta_t - eta m_hat / (sqrt(v_hat + eps_root) + eps)

    =============================  ==============================  =====================
    symbol                         argument                        default
    =============================  ==============================  =====================
    eta                            ``lr``                          1e-3
    b1, b2                         ``betas``                       (0.9, 0.999), in [0, 1)
    eps                            ``eps``                         1e-8 (> 0)
    eps_root (inside the root)     ``eps_root``                    0.0 (>= 0, optax's)
    divide by 1 - b^t              ``bias_correction``             True
    v_hat <- max(v_hat_max, v)     ``amsgrad`` (Reddi et al. 2018) False
    max of v_t/(1-b2^t), not v_t   ``amsgrad_corrected``           False: raw v (PyTorch);
                                                                   True: optax
    lambda                         ``weight_decay``                0.0
    theta <- theta (1 - eta lam)   ``decoupled_weight_decay``      False: L2 added to g
    =============================  ==============================  =====================

    ``bias_correction=False`` gives theta - eta m_t / (sqrt(v_t) + eps): the uncorrected
    form whose first steps are tiny (m_1 = (1 - b1) g_1). With ``decoupled_weight_decay=True``
    it is AdamW (Loshchilov and Hutter 2019), see :class:`AdamW`. Matches ``torch.optim.Adam``
    and ``AdamW``. Sources differ on eps: Keras adds it to sqrt(v) before bias correction
    (default 1e-7); optax also offers ``eps_root`` inside the root (here ``eps_root``). For
    AMSGrad PyTorch keeps the maximum of the raw v_t and divides it by 1 - b2^t; optax keeps
    the maximum of the corrected v_t / (1 - b2^t) (``amsgrad_corrected=True``), which differs
    once b2^t has shrunk between a maximum and a later step.

    Reference: Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    rule = staticmethod(adam)
    constraints = {
        "betas": _BETAS,
        "eps": POSITIVE,
        "eps_root": NONNEGATIVE,
        "bias_correction": BOOL,
        "amsgrad": BOOL,
        "amsgrad_corrected": BOOL,
    }
    torch_state = {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max"}
    family = "adam"
    paper = "Kingma and Ba 2015"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
        bias_correction: bool = True,
        eps_root: float | Tensor = 0.0,
        amsgrad_corrected: bool = False,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        state = {"m": zeros(p), "v": zeros(p)}
        if group["amsgrad"]:
            state["v_max"] = zeros(p)
        return state


class AdamW(Adam):
    r"""AdamW: :class:`Adam` with decoupled weight decay, theta <- theta (1 - eta lambda) before
    the Adam step. Defaults as ``torch.optim.AdamW``: ``weight_decay=1e-2``.

    Reference: Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019.
    """

    paper = "Loshchilov and Hutter 2019"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        bias_correction: bool = True,
        eps_root: float | Tensor = 0.0,
        amsgrad_corrected: bool = False,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals(), decoupled_weight_decay=True))


class AdaMax(Optimizer):
    r"""AdaMax: Adam with the infinity norm in place of the root mean square.

    ::

        m_t = b1 m_{t-1} + (1 - b1) g_t,      u_t = max(b2 u_{t-1}, |g_t| + eps)
        theta_{t+1} = theta_t - eta / (1 - b1^t) m_t / u_t

    ===================  ==================  ======================================
    symbol               argument            default
    ===================  ==================  ======================================
    eta                  ``lr``              2e-3
    b1, b2               ``betas``           (0.9, 0.999), in [0, 1)
    eps                  ``eps``             1e-8 (> 0)
    where eps goes       ``eps_in_max``      True: inside the max (PyTorch, optax);
                                             False: u = max(b2 u, |g|), m / (u + eps)
                                             (Keras)
    ===================  ==================  ======================================

    The paper has no eps: u = max(b2 u, |g|). Matches ``torch.optim.Adamax``.

    Reference: Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Sec. 7.1.
    """

    rule = staticmethod(adamax)
    constraints = {"betas": _BETAS, "eps": POSITIVE, "eps_in_max": BOOL}
    torch_state = {"exp_avg": "m", "exp_inf": "u"}
    family = "adam"
    paper = "Kingma and Ba 2015 (Sec. 7.1)"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
        eps_in_max: bool = True,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p), "u": zeros(p)}


class Nadam(Optimizer):
    r"""Nadam: Adam with Nesterov momentum.

    With momentum coefficients mu_t and their running product Pi_t = mu_1 ... mu_t::

        m_t = b1 m_{t-1} + (1 - b1) g_t,     v_t = b2 v_{t-1} + (1 - b2) g_t^2
        theta_{t+1} = theta_t - eta [ (1 - mu_t) / (1 - Pi_t) g_t + mu_{t+1} / (1 - Pi_{t+1}) m_t ]
                                / (sqrt(v_t / (1 - b2^t)) + eps)

    ``momentum_decay`` (psi) picks the momentum schedule:

    * 0.0 (default): mu_t = b1, Dozat's simplified form (optax ``nadam``);
    * psi > 0: mu_t = b1 (1 - 0.5 * 0.96^(t psi)), Dozat's warming schedule as in
      ``torch.optim.NAdam`` (whose default is psi = 4e-3). Keras uses 0.96^t without psi.

    ==============  ======================  =================================
    symbol          argument                default
    ==============  ======================  =================================
    eta             ``lr``                  2e-3
    b1, b2          ``betas``               (0.9, 0.999), in [0, 1)
    eps             ``eps``                 1e-8 (> 0)
    psi             ``momentum_decay``      0.0 (>= 0)
    ==============  ======================  =================================

    Reference: Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop.
    """

    rule = staticmethod(nadam)
    constraints = {"betas": _BETAS, "eps": POSITIVE, "momentum_decay": NONNEGATIVE}
    torch_state = {"exp_avg": "m", "exp_avg_sq": "v"}
    family = "adam"
    paper = "Dozat 2016"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        *,
        momentum_decay: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        one = torch.ones((), dtype=p.dtype, device=p.device)
        return {"m": zeros(p), "v": zeros(p), "mu_product": one}


class AdaBelief(Optimizer):
    r"""AdaBelief: Adam whose second moment tracks the belief (g - m)^2, not g^2.

    ::

        m_t = b1 m_{t-1} + (1 - b1) g_t
        s_t = b2 s_{t-1} + (1 - b2) (g_t - m_t)^2 + eps_root        (eps_root = eps by default)
        theta_{t+1} = theta_t - eta / (1 - b1^t) m_t / (sqrt(s_t) / sqrt(1 - b2^t) + eps)

    ==============  ===========================  =================================
    symbol          argument                     default
    ==============  ===========================  =================================
    eta             ``lr``                       1e-3
    b1, b2          ``betas``                    (0.9, 0.999), in [0, 1)
    eps             ``eps``                      1e-16 (> 0), added to the denominator
    eps_root        ``eps_root``                 None: eps (>= 0), added to s each step
    ==============  ===========================  =================================

    This is Algorithm 2 of the paper, as the authors' ``adabelief-pytorch`` package computes
    it with ``rectify=False, weight_decouple=False`` (the package defaults to both on). optax
    adds a separate ``eps_root`` to s each step (its default 1e-16, equal to eps; set it apart
    with ``eps_root``) and bias-corrects s inside the root, sqrt(s / (1 - b2^t)), which equals
    the form here up to rounding.

    Reference: Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", NeurIPS 2020.
    """

    rule = staticmethod(adabelief)
    constraints = {"betas": _BETAS, "eps": POSITIVE, "eps_root": _OPTIONAL_NONNEGATIVE}
    family = "adam"
    paper = "Zhuang et al. 2020"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-16,
        *,
        eps_root: float | Tensor | None = None,
        weight_decay: float | Tensor = 0.0,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"m": zeros(p), "s": zeros(p)}
