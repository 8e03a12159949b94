"""Adafactor: Adam-like steps with a factored second moment, relative to the weights' scale.

For a tensor of two or more dimensions the second moment is kept as the running means of
g^2 over its rows and over its columns (the last two dimensions), so its memory is
n + m instead of n m per matrix; vectors keep the full running mean. Reconstructing the
estimate, the step's RMS clipping and its scale by RMS(theta) all read the whole tensor:
the class sets ``elementwise = False``, so races run one instance per trajectory and the
multi-tensor path is skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer, _nonzero
from .constraints import BOOL, UNIT_INTERVAL, Constraint, Range, ScalarHyperparameters
from .layerwise import RuleWeightDecay
from .rule import State, arguments, zeros

__all__ = ["Adafactor", "adafactor"]


def adafactor(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, beta2_decay, eps, d, weight_decay,
    beta1, eps_in_moments,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""With 1 - b2_t = t^c (c = beta2_decay), rho_t = min(lr, 1 / sqrt(t)) and
    alpha_t = max(eps2, RMS(theta)) rho_t (theta before decay)::

        theta <- theta (1 - lr lambda)
        matrix: R <- b2_t R + (1 - b2_t) mean_cols(g^2);  C <- b2_t C + (1 - b2_t) mean_rows(g^2)
                V = R C / max(mean(R), eps1)
        vector: V <- b2_t V + (1 - b2_t) g^2
        U = g / max(sqrt(V), eps1);  U <- U / max(1, RMS(U) / d)
        theta <- theta - alpha_t U    (beta1 > 0: m <- b1 m + (1 - b1) alpha_t U; theta - m)

    ``eps_in_moments`` (the paper's placement): g^2 + eps1 enters R, C and V, and neither
    max(., eps1) is taken. eps1 None: the machine epsilon of theta's dtype."""
    eps1, eps2 = eps
    if eps1 is None:
        eps1 = torch.finfo(p.dtype).eps
    w = t**beta2_decay  # 1 - b2_t
    alpha = _rms(p).clamp(min=eps2) * min(lr, t**-0.5)
    if _nonzero(weight_decay):
        p = p * (1 - lr * weight_decay)
    g2 = g * g + eps1 if eps_in_moments else g * g
    if g.dim() > 1:
        r = (1 - w) * state["row_var"] + w * g2.mean(dim=-1, keepdim=True)
        c = (1 - w) * state["col_var"] + w * g2.mean(dim=-2, keepdim=True)
        scale = r.mean(dim=-2, keepdim=True)
        v = r @ c / (scale if eps_in_moments else scale.clamp(min=eps1))
        new: State = {"row_var": r, "col_var": c}
    else:
        v = new_v = (1 - w) * state["variance"] + w * g2
        new = {"variance": new_v}
    u = g / v.sqrt() if eps_in_moments else g * v.clamp(min=eps1 * eps1).rsqrt()
    u = u / (_rms(u) / d).clamp(min=1.0)
    step = alpha * u
    if _nonzero(beta1):
        step = new["m"] = beta1 * state.get("m", torch.zeros_like(p)) + (1 - beta1) * step
    return p - step, new


def _rms(x: Tensor) -> Tensor:
    return torch.linalg.vector_norm(x) / x.numel() ** 0.5


class Epsilons(Constraint):
    """Adafactor's ``(eps1, eps2)``: eps1 None (the dtype's machine epsilon) or >= 0, eps2
    >= 0."""

    each = Range(0.0)

    def describe(self) -> str:
        return f"a pair (eps1, eps2), eps1 None or {self.each.describe()}, eps2 the same"

    def check(self, name: str, value: Any, owner: str) -> None:
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")
        if value[0] is not None:
            self.each.check(f"{name}[0]", value[0], owner)
        self.each.check(f"{name}[1]", value[1], owner)


class Adafactor(RuleWeightDecay, ScalarHyperparameters, Optimizer):
    r"""Adafactor: a factored second moment, steps relative to each tensor's RMS, clipped.

    For a matrix G_t (the last two dimensions of a tensor; leading ones are a batch) with
    1 - b2_t = t^c::

        R_t = b2_t R_{t-1} + (1 - b2_t) mean over columns of G_t^2      (n x 1)
        C_t = b2_t C_{t-1} + (1 - b2_t) mean over rows of G_t^2         (1 x m)
        V_t = R_t C_t / max(mean(R_t), eps1)
        U_t = G_t / max(sqrt(V_t), eps1),    U_t <- U_t / max(1, RMS(U_t) / d)
        theta_t = theta_{t-1} (1 - gamma lambda) - max(eps2, RMS(theta_{t-1})) rho_t U_t,
        rho_t = min(gamma, 1 / sqrt(t))

    and for a vector (or a 0-d tensor) V_t = b2_t V_{t-1} + (1 - b2_t) G_t^2 in place of the
    factors.

    ======================  ======================  =========================================
    symbol                  argument                default
    ======================  ======================  =========================================
    gamma                   ``lr``                  1e-2: the cap of rho_t (the paper's
                                                    constant 0.01) and the decay's rate
    c                       ``beta2_decay``         -0.8, in (-1, 0] (at -1 every past
                                                    g^2 weighs the same, below it the
                                                    first ones weigh most: never forgets)
    eps1, eps2              ``eps``                 (None, 1e-3): eps1 None is the dtype's
                                                    machine epsilon (the paper: 1e-30)
    d                       ``d``                   1.0 (>= 1), update clipping
    lambda                  ``weight_decay``        0.0, decoupled: theta (1 - gamma lambda)
    b1                      ``beta1``               0.0 (none, as torch); > 0: the paper's
                                                    optional momentum of the scaled step,
                                                    m <- b1 m + (1 - b1) alpha_t U_t
    eps1 placement          ``eps_in_moments``      False (torch's: the max()es above); True:
                                                    the paper's, G^2 + eps1 in R, C and V,
                                                    no max()
    ======================  ======================  =========================================

    Defaults and numbers are ``torch.optim.Adafactor``'s (and its state dict: ``row_var``,
    ``col_var``, ``variance``); torch keeps the paper's update clipping (d) and relative
    step, and leaves out its momentum. Means replace the paper's sums of R and C (the
    estimate V is the same). State: n + m numbers per n x m matrix (``m``, full size, only
    with ``beta1``).

    Batching: the factors and both RMS read the whole tensor, so the rows of a ``[T, D]``
    parameter are not independent problems (``elementwise = False``): races and sweeps run
    one optimizer per trajectory.

    Reference: Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory
    Cost", ICML 2018.
    """

    rule = staticmethod(adafactor)
    elementwise = False
    constraints = {
        "beta2_decay": Range(-1.0, 0.0, low_open=True),
        "eps": Epsilons(),
        "d": Range(1.0),
        "beta1": UNIT_INTERVAL,
        "eps_in_moments": BOOL,
    }
    family = "adam (factored)"
    paper = "Shazeer and Stern 2018"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        beta2_decay: float | Tensor = -0.8,
        eps: tuple[float | Tensor | None, float | Tensor] = (None, 1e-3),
        d: float | Tensor = 1.0,
        weight_decay: float | Tensor = 0.0,
        *,
        beta1: float | Tensor = 0.0,
        eps_in_moments: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        if p.dim() < 2:
            state = {"variance": zeros(p)}
        else:
            row, col = list(p.shape), list(p.shape)
            row[-1], col[-2] = 1, 1
            state = {"row_var": p.new_zeros(row), "col_var": p.new_zeros(col)}
        return state if group["beta1"] == 0 else {**state, "m": zeros(p)}
