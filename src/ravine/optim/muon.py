r"""Muon: momentum orthogonalised by a Newton-Schulz iteration, for the matrices of a network.

One rule, :func:`muon`: for a 2-D parameter the momentum (or its Nesterov form) is replaced
by the nearest semi-orthogonal matrix, approximately, by :func:`newton_schulz`; parameters
that are not matrices (biases, gains, scalars) take the AdamW fallback of Keller Jordan's
reference (``MuonWithAuxAdam``) and of Moonlight (Liu et al. 2025), the
:func:`ravine.optim.adam.adam` rule, unless ``fallback=None`` refuses them as
``torch.optim.Muon`` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .adam import adam
from .base import Optimizer
from .constraints import (
    BOOL,
    COUNT,
    NONNEGATIVE,
    POSITIVE,
    UNIT_INTERVAL,
    Betas,
    Choice,
    Constraint,
    ScalarHyperparameters,
)
from .rule import State, arguments, zeros

__all__ = ["Muon", "muon", "newton_schulz"]

# Keller Jordan's quintic: the coefficients that maximise the slope at zero (torch's too)
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "param": None}
ADJUSTMENTS = ("original", "match_rms_adamw", "none")


def newton_schulz(
    x: Tensor, coefficients: tuple[float, float, float], steps: int, eps: float, dtype
) -> Tensor:
    r"""The zeroth power of ``x`` (its :math:`U V^\top`), approximately, by ``steps`` quintic
    Newton-Schulz iterations :math:`X \leftarrow a X + (b A + c A^2) X`, :math:`A = X X^\top`,
    from :math:`X_0 = x / \max(\|x\|_F, \epsilon)`, on the wide orientation of ``x`` (its
    transpose when it has more rows than columns), computed in ``dtype`` (None: ``x``'s).

    Written with torch.optim.Muon's operations (``addmm`` with the same ``alpha`` and
    ``beta``), so that in bfloat16 the two agree to the bit. The result's singular values lie
    near, not at, 1 (about 0.7 to 1.2 with the default coefficients): the iteration is tuned
    for speed, not convergence, which the authors found does not hurt training."""
    a, b, c = coefficients
    out = x if dtype is None else x.to(dtype)
    tall = x.size(0) > x.size(1)
    if tall:
        out = out.T
    out = out / out.norm().clamp(min=eps)
    for _ in range(steps):
        gram = out @ out.T
        poly = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        out = torch.addmm(out, poly, out, beta=a)
    return out.T if tall else out


def lr_ratio(shape: torch.Size, adjust_lr_fn: str) -> float:
    r"""The factor on the learning rate of an ``[A, B]`` matrix: ``"original"`` (Keller
    Jordan's) :math:`\sqrt{\max(1, A/B)}`; ``"match_rms_adamw"`` (Moonlight's)
    :math:`0.2 \sqrt{\max(A, B)}`, an update of AdamW's RMS; ``"none"`` 1."""
    rows, cols = shape[0], shape[1]
    if adjust_lr_fn == "original":
        return math.sqrt(max(1.0, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return 0.2 * math.sqrt(max(rows, cols))
    return 1.0


def muon(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, nesterov, ns_coefficients,
    ns_steps, eps, adjust_lr_fn, ns_dtype, adamw_betas, adamw_eps,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""A 2-D ``p``:  m <- mu m + (1 - mu) g;  u = (1 - mu) g + mu m (nesterov) or m
    theta <- theta - lr r(shape) NS(u)   (:func:`newton_schulz`, :func:`lr_ratio`).
    Any other ``p``: the AdamW rule, :func:`ravine.optim.adam.adam` with ``adamw_betas`` and
    ``adamw_eps`` (its decay, as the matrices', is the shared decoupled weight decay)."""
    if p.dim() != 2:
        return adam(
            p, g, state, t, lr=lr, betas=adamw_betas, eps=adamw_eps, eps_root=0.0,
            bias_correction=True, amsgrad=False, amsgrad_corrected=False,
        )  # fmt: skip
    m = state["m"].lerp(g, 1 - momentum)
    u = g.lerp(m, momentum) if nesterov else m
    o = newton_schulz(u, ns_coefficients, ns_steps, eps, NS_DTYPES[ns_dtype]).to(p.dtype)
    return p - lr * lr_ratio(p.shape, adjust_lr_fn) * o, {"m": m}


class _Coefficients(Constraint):
    """Three finite numbers (a, b, c)."""

    def describe(self) -> str:
        return "three finite numbers (a, b, c)"

    def check(self, name: str, value: Any, owner: str) -> None:
        ok = isinstance(value, tuple | list) and len(value) == 3
        ok = ok and all(isinstance(v, int | float) and math.isfinite(v) for v in value)
        if not ok:
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")


class Muon(ScalarHyperparameters, Optimizer):
    r"""Muon: SGD with momentum whose update of each matrix is orthogonalised.

    For a 2-D parameter :math:`\theta \in \mathbb{R}^{A \times B}`::

        m_t = mu m_{t-1} + (1 - mu) g_t
        u_t = (1 - mu) g_t + mu m_t   (nesterov)   or   m_t
        O_t = NS_k^{(a, b, c)}(u_t)   (Newton-Schulz: about U V^T of u_t = U S V^T)
        theta_t = theta_{t-1} (1 - eta lambda) - eta r(A, B) O_t

    Every other parameter (``fallback="adamw"``) takes AdamW with the same ``lr`` and
    ``weight_decay``, betas ``adamw_betas`` and epsilon ``adamw_eps``: give biases and
    gains a param group of their own for their own rate, as Keller Jordan's
    ``MuonWithAuxAdam`` does (Adam at lr 3e-4 there); Moonlight keeps one rate with
    ``adjust_lr_fn="match_rms_adamw"``. ``fallback=None`` refuses such a parameter, as
    ``torch.optim.Muon`` does. A convolution's 4-D weight takes the fallback too (Keller
    Jordan's reference flattens it to a matrix; ravine does not).

    ======================  ======================  =========================================
    symbol                  argument                default
    ======================  ======================  =========================================
    eta                     ``lr``                  1e-3
    lambda                  ``weight_decay``        0.1, decoupled (torch's; Keller: 0)
    mu                      ``momentum``            0.95, in [0, 1)
    Nesterov form           ``nesterov``            True
    (a, b, c)               ``ns_coefficients``     (3.4445, -4.7750, 2.0315)
    k                       ``ns_steps``            5
    eps (in X_0)            ``eps``                 1e-7
    r(A, B)                 ``adjust_lr_fn``        "original": sqrt(max(1, A/B)) (Keller);
                                                    "match_rms_adamw": 0.2 sqrt(max(A, B))
                                                    (Moonlight); "none": 1
    NS precision            ``ns_dtype``            "bfloat16" (torch, Keller); "float32";
                                                    "param": the parameter's dtype
    fallback                ``fallback``            "adamw"; None refuses non-matrices
    AdamW's b1, b2          ``adamw_betas``         (0.9, 0.95) (Keller's auxiliary Adam)
    AdamW's eps             ``adamw_eps``           1e-10 (Keller's auxiliary Adam)
    ======================  ======================  =========================================

    torch writes the momentum as an average (``lerp``), the paper as a sum
    :math:`m_t = \mu m_{t-1} + g_t`: the two differ by the factor :math:`1 - \mu`, which the
    normalisation before Newton-Schulz removes (up to ``eps``). Weight decay uses the
    unadjusted rate. With ``ns_dtype="bfloat16"`` the numbers are those of
    ``torch.optim.Muon`` (and of ``torch.optim.AdamW`` for the fallback) to the last bit of
    the bfloat16 iteration. Muon mixes the coordinates of a matrix (``elementwise`` False):
    a race on a landscape moves one ``[1, dim]`` trajectory at a time, where Newton-Schulz
    normalises the momentum, so Muon there is normalised gradient descent with momentum.

    Reference: Jordan et al., "Muon: An optimizer for hidden layers in neural networks",
    2024 (kellerjordan.github.io/posts/muon); Liu et al., "Muon is Scalable for LLM
    Training", 2025.
    """

    rule = staticmethod(muon)
    constraints = {
        "momentum": UNIT_INTERVAL,
        "nesterov": BOOL,
        "ns_coefficients": _Coefficients(),
        "ns_steps": COUNT,
        "eps": POSITIVE,
        "adjust_lr_fn": Choice(ADJUSTMENTS),
        "ns_dtype": Choice(tuple(NS_DTYPES)),
        "fallback": Choice(("adamw", None)),
        "adamw_betas": Betas(),
        "adamw_eps": NONNEGATIVE,
    }
    elementwise = False
    family = "orthogonalised"
    paper = "Jordan et al. 2024"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str = "original",
        *,
        ns_dtype: str = "bfloat16",
        fallback: str | None = "adamw",
        adamw_betas: tuple[float, float] = (0.9, 0.95),
        adamw_eps: float = 1e-10,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        super().__init__(**arguments(locals(), decoupled_weight_decay=True))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's ``add_param_group``; with ``fallback=None`` a parameter that is not a
        matrix is refused, naming its shape."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        if group["fallback"] is None:
            for pi, p in enumerate(group["params"]):
                if p.dim() != 2:
                    self.param_groups.pop()
                    raise ValueError(
                        f"Muon: parameter {pi} of group {len(self.param_groups)} has shape "
                        f"{tuple(p.shape)}; with fallback=None Muon takes 2-D parameters "
                        "only (fallback='adamw' steps the others with AdamW)"
                    )

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        if p.dim() == 2:
            return {"m": zeros(p)}
        return {"m": zeros(p), "v": zeros(p)}
