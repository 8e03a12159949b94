"""Shampoo: one preconditioning matrix per dimension of each parameter tensor.

One rule, :func:`shampoo`, covers the paper's algorithm (Gupta et al. 2018) and the
conventions of its scalable form (Anil et al. 2020): statistics summed or averaged,
epsilon on the statistics or on the eigenvalues, roots recomputed every k steps, layer-wise
grafting of another optimizer's step size, momentum, and the fallback of tensors too large
to precondition. The matrix functions live in :mod:`ravine.optim.preconditioners`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import (
    BOOL,
    NONNEGATIVE,
    UNIT_INTERVAL,
    Choice,
    Integer,
    Range,
    ScalarHyperparameters,
)
from .preconditioners import contract, inverse_root, preconditioned_shape, statistic
from .rule import State, arguments, zeros

__all__ = ["Shampoo", "shampoo"]

GRAFTS = ("none", "sgd", "adagrad", "rmsprop", "adam")


def _shape(p: Tensor, group: Mapping[str, Any]) -> tuple[int, ...] | None:
    return preconditioned_shape(
        p.shape,
        max_dim=group["max_preconditioner_dim"],
        merge_dims=group["merge_dims"],
        precondition_1d=group["precondition_1d"],
    )


def graft_direction(g: Tensor, state: State, t: int, *, graft, beta2, graft_eps):
    """The grafted optimizer's step direction (whose norm Shampoo's step takes) and its
    new state: SGD g; AdaGrad g / (sqrt(sum g^2) + e); RMSProp g / (sqrt(v) + e) with
    v = b2 v + (1 - b2) g^2; Adam that RMSProp with v bias-corrected, v / (1 - b2^t)."""
    if graft in ("none", "sgd"):
        return g, {}
    v = state["graft_v"]
    if graft == "adagrad":
        v = v + g * g
        return g / (v.sqrt() + graft_eps), {"graft_v": v}
    v = beta2 * v + (1 - beta2) * g * g
    scale = v if graft == "rmsprop" else v / (1 - beta2**t)
    return g / (scale.sqrt() + graft_eps), {"graft_v": v}


def shampoo(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, nesterov, momentum_average,
    beta2, eps_root, eps_relative, exponent_override, update_interval, start_preconditioning,
    graft, graft_eps,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""For each preconditioned dimension i of G (p's shape, small dimensions merged):

    L_i <- b2 L_i + w G_(i) G_(i)^T   (w = 1 when b2 = 1: the paper's sum; else 1 - b2)
    R_i = (L_i + e I)^(-1/r)          every ``update_interval`` steps, r = 2 k (k preconditioned
                                      dimensions) or ``exponent_override``
    D = G x_1 R_1 ... x_k R_k         (for a matrix, L^(-1/4) G R^(-1/4))
    D <- D |graft(G)| / (|D| + 1e-16)  with a graft; D = graft(G) for a tensor not preconditioned
    m <- b1 m + D;  theta <- theta - lr (b1 m + D with Nesterov, else m)

    ``eps`` is in L_i's initial value, eps I (:meth:`Shampoo.init_state`, which also decides
    which dimensions are preconditioned); before ``start_preconditioning`` the step is the
    graft's own momentum."""
    grafted, new = graft_direction(g, state, t, graft=graft, beta2=beta2, graft_eps=graft_eps)
    k = sum(1 for key in state if key.startswith("L"))
    if k:
        x = g.reshape([state[f"L{i}"].shape[0] for i in range(k)])
        w = 1.0 if beta2 == 1 else 1 - beta2
        for i in range(k):
            new[f"L{i}"] = beta2 * state[f"L{i}"] + w * statistic(x, i)
        roots = [state[f"R{i}"] for i in range(k)]
        if t % update_interval == 0:
            r = exponent_override or 2 * k
            roots = [inverse_root(new[f"L{i}"], r, eps_root, eps_relative) for i in range(k)]
            new.update({f"R{i}": roots[i] for i in range(k)})
        d = contract(x, roots).reshape(g.shape)
    else:
        d = grafted
    if graft != "none":
        d = d * (torch.linalg.norm(grafted) / (torch.linalg.norm(d) + 1e-16))
    c = (1 - momentum) if momentum_average else 1.0
    new["m"] = momentum * state["m"] + c * d
    started = t >= start_preconditioning
    if not started:
        new["graft_m"] = momentum * state["graft_m"] + c * grafted
    update = new["m"] if started else new["graft_m"]
    if nesterov:
        update = momentum * update + c * (d if started else grafted)
    return p - lr * update, new


class Shampoo(ScalarHyperparameters, Optimizer):
    r"""Shampoo: a preconditioner per tensor dimension, L^(-1/4) G R^(-1/4) for a matrix.

    For a parameter of k preconditioned dimensions with gradient G (unfolded along
    dimension i as G_(i)), starting from L_i = eps I and R_i = I::

        L_i <- b2 L_i + w G_(i) G_(i)^T           w = 1 if b2 = 1 (the paper's sum) else 1 - b2
        R_i = (L_i + e I)^(-1/r)                  every T steps, r = 2 k unless overridden
        D = G x_1 R_1 x_2 ... x_k R_k             (the mode-i products; L^-1/4 G R^-1/4)
        D <- D |D_graft| / (|D| + 1e-16)          with a graft (layer-wise norms)
        m <- mu m + D;   theta <- theta - eta (mu m + D if nesterov else m)

    ==========================  ===========================  ================================
    symbol                      argument                     default
    ==========================  ===========================  ================================
    eta                         ``lr``                       1e-3
    eps (L_i starts at eps I)   ``eps``                      1e-6 (the paper's and both
                                                             references'; >= 0)
    e (added to eigenvalues)    ``eps_root``                 0.0 (Distributed Shampoo's place)
    e = eps_root max(lam)       ``eps_relative``             False (True: the ridge of the
                                                             Schur-Newton root in the
                                                             scalable reference)
    b2                          ``beta2``                    1.0: AdaGrad's sum (the paper);
                                                             < 1 an EMA (the scalable form)
    T                           ``update_interval``          1 (roots recomputed at t % T = 0)
    R_i before the first root   ``initial_root``             "identity" (scalable reference);
                                                             "zero" (pytorch-optimizer's
                                                             Shampoo: no step before t = T)
    r                           ``exponent_override``        0: r = 2 k (-1/4 per side of a
                                                             matrix, -1/2 for a vector)
    graft                       ``graft``                    "none"; "sgd", "adagrad",
                                                             "rmsprop" (b2 EMA), "adam"
                                                             (RMSProp bias-corrected)
    e_graft                     ``graft_eps``                1e-10
    mu                          ``momentum``                 0.0, in [0, 1)
    Nesterov                    ``nesterov``                 False
    mu m + (1 - mu) D           ``momentum_average``         False (True: EMA momentum)
    graft before step s         ``start_preconditioning``    1 (from t = s on, Shampoo's step)
    max dimension               ``max_preconditioner_dim``   0: no limit; a tensor with a
                                                             larger dimension takes the
                                                             graft's (diagonal) direction
    merge small dims            ``merge_dims``               False (True: neighbouring dims
                                                             merged up to the maximum)
    vectors preconditioned      ``precondition_1d``          True (the paper: full-matrix
                                                             AdaGrad, r = 2); False: graft
    lambda                      ``weight_decay``             0.0 (coupled L2 on G, or with
                                                             ``decoupled_weight_decay``
                                                             theta (1 - eta lambda) first)
    ==========================  ===========================  ================================

    Roots come from a symmetric eigendecomposition (:func:`~ravine.optim.preconditioners.
    inverse_root`); pytorch-optimizer computes them by SVD (equal for these symmetric
    matrices) or, in ``ScalableShampoo`` by default, by a coupled Schur-Newton iteration
    stopped at 1e-3 residual. With the defaults ravine matches ``pytorch_optimizer.Shampoo``
    (``momentum=0``); with ``beta2 < 1``, grafts, momentum and ``start_preconditioning`` it
    matches ``pytorch_optimizer.ScalableShampoo(use_svd=True, shape_interpretation=False)``
    with ``block_size`` and ``no_preconditioning_for_layers_with_dim_gt`` equal to
    ``max_preconditioner_dim`` (tests/optim/test_shampoo.py). Not offered: its block
    partitioning of large dimensions, its one-sided preconditioning, its learning rate inside
    the momentum (equal at a constant rate), its coupled decay added after preconditioning
    (ravine adds it to G), and pytorch-optimizer's ``Shampoo(momentum>0)``, which mixes
    the previous *preconditioned* step into the gradient before its statistics.
    ``elementwise = False``: each tensor is one problem (a race runs one instance per
    trajectory).

    Reference: Gupta, Koren and Singer, "Shampoo: Preconditioned Stochastic Tensor
    Optimization", ICML 2018; Anil et al., "Scalable Second Order Optimization for Deep
    Learning", 2020 (grafting, EMA statistics, intervals).
    """

    rule = staticmethod(shampoo)
    constraints = {
        "momentum": UNIT_INTERVAL,
        "nesterov": BOOL,
        "momentum_average": BOOL,
        "beta2": Range(0.0, 1.0, low_open=True),
        "eps": NONNEGATIVE,
        "eps_root": NONNEGATIVE,
        "eps_relative": BOOL,
        "exponent_override": Integer(0),
        "update_interval": Integer(1),
        "initial_root": Choice(("identity", "zero")),
        "start_preconditioning": Integer(1),
        "graft": Choice(GRAFTS),
        "graft_eps": NONNEGATIVE,
        "max_preconditioner_dim": Integer(0),
        "merge_dims": BOOL,
        "precondition_1d": BOOL,
    }
    elementwise = False
    family = "matrix preconditioner"
    paper = "Gupta et al. 2018"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        eps: float = 1e-6,
        *,
        beta2: float = 1.0,
        update_interval: int = 1,
        eps_root: float = 0.0,
        eps_relative: bool = False,
        exponent_override: int = 0,
        initial_root: str = "identity",
        graft: str = "none",
        graft_eps: float = 1e-10,
        nesterov: bool = False,
        momentum_average: bool = False,
        start_preconditioning: int = 1,
        max_preconditioner_dim: int = 0,
        merge_dims: bool = False,
        precondition_1d: bool = True,
        decoupled_weight_decay: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        state = {"m": zeros(p)}
        if group["graft"] in ("adagrad", "rmsprop", "adam"):
            state["graft_v"] = zeros(p)
        if group["start_preconditioning"] > 1:
            state["graft_m"] = zeros(p)
        like = {"device": p.device, "dtype": p.dtype}
        for i, n in enumerate(_shape(p, group) or ()):
            state[f"L{i}"] = group["eps"] * torch.eye(n, **like)
            root = torch.eye(n, **like) if group["initial_root"] == "identity" else None
            state[f"R{i}"] = root if root is not None else torch.zeros(n, n, **like)
        return state
