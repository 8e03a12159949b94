"""SOAP: Adam run in the eigenbasis of Shampoo's preconditioner (Vyas et al. 2024)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import (
    BOOL,
    COUNT,
    NONNEGATIVE,
    UNIT_INTERVAL,
    Betas,
    Choice,
    Integer,
    OrNone,
    ScalarHyperparameters,
)
from .preconditioners import contract, eigenbasis, merge_small_dims, statistic
from .rule import State, arguments, zeros

__all__ = ["SOAP", "soap"]


@dataclass(frozen=True)
class _View:
    """The shape SOAP preconditions a tensor in: with ``merge_dims`` its small dimensions
    merged up to ``max_dim`` (a 4-D tensor in ``channels_last`` layout permuted to channels
    first before), and which of those dimensions get a basis."""

    shape: tuple[int, ...]
    merge: bool
    channels_last: bool
    max_dim: int
    precondition_1d: bool

    @property
    def permuted(self) -> tuple[int, ...]:
        s = self.shape
        return (s[0], s[3], s[1], s[2]) if self.channels_last else s

    @property
    def view(self) -> tuple[int, ...]:
        return merge_small_dims(self.permuted, self.max_dim) if self.merge else self.shape

    @property
    def preconditioned(self) -> list[bool]:
        if len(self.shape) == 1:
            return [self.precondition_1d and self.shape[0] <= self.max_dim]
        return [d <= self.max_dim for d in self.view]

    def to(self, x: Tensor) -> Tensor:
        if not self.merge:
            return x
        return (x.permute(0, 3, 1, 2) if self.channels_last else x).reshape(self.view)

    def back(self, x: Tensor) -> Tensor:
        if not self.merge:
            return x
        x = x.reshape(self.permuted)
        return x.permute(0, 2, 3, 1) if self.channels_last else x


def _view(shape, max_precondition_dim, merge_dims, precondition_1d, data_format) -> _View:
    merge = merge_dims and len(shape) > 1
    channels_last = merge and data_format == "channels_last" and len(shape) == 4
    return _View(tuple(shape), merge, channels_last, max_precondition_dim, precondition_1d)


def _project(x: Tensor, view: _View, state: State, *, back: bool = False) -> Tensor:
    """x in the eigenbasis (Q_1^T x_1 Q_2 ...), or with ``back`` from it."""
    bases = [state.get(f"Q{i}") for i in range(len(view.view))]
    return view.back(contract(view.to(x), bases, transpose=back))


def _refresh(state: State, new: State, view: _View, qr_float32: bool) -> None:
    """One power iteration per basis, Q <- qr(GG Q) with its columns sorted by the estimated
    eigenvalues q^T GG q (v's coordinates permuted to follow), as the authors' code does."""
    v = view.to(new["v"])
    for i, selected in enumerate(view.preconditioned):
        if not selected:
            continue
        q = state[f"Q{i}"]
        product = new[f"GG{i}"] @ q
        order = torch.argsort((q * product).sum(dim=0), descending=True)
        v = v.index_select(i, order)
        power = product.index_select(1, order)
        basis, _ = torch.linalg.qr(power.to(torch.float32) if qr_float32 else power)
        new[f"Q{i}"] = basis.to(power.dtype)
    new["v"] = view.back(v)


def soap(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, shampoo_beta, eps, weight_decay,
    precondition_frequency, max_precondition_dim, merge_dims, precondition_1d, data_format,
    correct_bias, normalize_gradient, qr_float32,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""Step 1 only builds GG_i = (1 - b) G_(i) G_(i)^T and Q_i (its eigenvectors). Then,
    at s = t - 1, with G' = G projected into the bases (Q_1^T G Q_2 for a matrix)::

        m <- b1 m + (1 - b1) G;   v <- b2 v + (1 - b2) G'^2
        theta <- (theta - eta_s Q [Q^T m / (sqrt(v) + eps)]) (1 - eta lambda)
        eta_s = eta sqrt(1 - b2^s) / (1 - b1^s)   (eta without ``correct_bias``)
        GG_i <- b GG_i + (1 - b) G_(i) G_(i)^T;   every f steps Q_i <- qr(GG_i Q_i)

    (b = ``shampoo_beta``, b2 when None.)"""
    beta1, beta2 = betas
    beta = beta2 if shampoo_beta is None else shampoo_beta
    view = _view(g.shape, max_precondition_dim, merge_dims, precondition_1d, data_format)
    x = view.to(g)
    new = {}
    for i, selected in enumerate(view.preconditioned):
        if selected:
            new[f"GG{i}"] = state[f"GG{i}"].lerp(statistic(x, i), 1 - beta)
    if t == 1:
        new.update({f"Q{i[2:]}": eigenbasis(gg) for i, gg in list(new.items())})
        return p, new
    s = t - 1
    step_size = lr * (1 - beta2**s) ** 0.5 / (1 - beta1**s) if correct_bias else lr
    new["m"] = state["m"].lerp(g, 1 - beta1)
    new["v"] = state["v"].lerp(_project(g, view, state).square(), 1 - beta2)
    rotated = _project(new["m"], view, state) / (new["v"].sqrt() + eps)
    update = _project(rotated, view, state, back=True)
    if normalize_gradient:
        update = update / (update.square().mean().sqrt() + eps)
    new_p = (p - step_size * update) * (1 - lr * weight_decay)
    if s % precondition_frequency == 0:
        _refresh(state, new, view, qr_float32)
    return new_p, new


class SOAP(ScalarHyperparameters, Optimizer):
    r"""SOAP: Adam in the eigenbasis of Shampoo's preconditioner, refreshed every f steps.

    For each preconditioned dimension i, GG_i is an EMA of G_(i) G_(i)^T and Q_i its
    eigenvectors (by decreasing eigenvalue); a tensor is rotated as G' = G x_1 Q_1 .. x_k Q_k
    (Q_1^T G Q_2 for a matrix) and back by the transposes. Step 1 only sets GG and Q; then at
    s = t - 1::

        m <- b1 m + (1 - b1) G                    (kept in the original coordinates)
        v <- b2 v + (1 - b2) G'^2                  (kept in the rotated ones)
        theta <- (theta - eta_s rotate_back(rotate(m) / (sqrt(v) + eps))) (1 - eta lambda)
        eta_s = eta sqrt(1 - b2^s) / (1 - b1^s)
        GG_i <- b GG_i + (1 - b) G_(i) G_(i)^T
        every f steps: Q_i <- qr(GG_i Q_i) (one power iteration, columns sorted by
                       q^T GG_i q, v permuted alike)

    ==========================  =========================  ==================================
    symbol                      argument                   default
    ==========================  =========================  ==================================
    eta                         ``lr``                     3e-3
    b1, b2                      ``betas``                  (0.95, 0.95), in [0, 1)
    b                           ``shampoo_beta``           None: b2
    eps                         ``eps``                    1e-8 (>= 0)
    lambda                      ``weight_decay``           0.01, decoupled, applied after the
                                                           step (theta - step)(1 - eta lambda)
    f                           ``precondition_frequency`` 10
    largest dimension rotated   ``max_precondition_dim``   10000 (larger: identity there)
    merge small dims            ``merge_dims``             False
    layout for merging          ``data_format``            "channels_first" (or
                                                           "channels_last": 4-D NHWC)
    vectors rotated             ``precondition_1d``        False (plain Adam for 1-D)
    eta_s bias-corrected        ``correct_bias``           True
    step / (rms(step) + eps)    ``normalize_gradient``     False
    QR in float32               ``qr_float32``             False (True: the authors' code)
    ==========================  =========================  ==================================

    Defaults are the paper's and its authors' code (``nikhilvyas/SOAP``), which
    ``pytorch_optimizer.SOAP`` copies; ravine matches that package (tests/optim/
    test_soap.py) to 1e-10 in float64 with ``qr_float32=True`` (it casts the QR to float32,
    so in float64 its numbers and ravine's default part at float32 rounding). Eigenbases
    come from ``torch.linalg.eigh`` (the first) and one QR power iteration (the refreshes),
    as in the authors' code. The step count is per parameter (the package's is per param
    group: they part after a step where a parameter had no gradient). ``elementwise =
    False``: a race runs one instance per trajectory.

    Reference: Vyas et al., "SOAP: Improving and Stabilizing Shampoo using Adam", 2024.
    """

    rule = staticmethod(soap)
    constraints = {
        "betas": Betas(),
        "shampoo_beta": OrNone(UNIT_INTERVAL),
        "eps": NONNEGATIVE,
        "precondition_frequency": COUNT,
        "max_precondition_dim": Integer(0),
        "merge_dims": BOOL,
        "precondition_1d": BOOL,
        "data_format": Choice(("channels_first", "channels_last")),
        "correct_bias": BOOL,
        "normalize_gradient": BOOL,
        "qr_float32": BOOL,
    }
    elementwise = False
    family = "matrix preconditioner"
    paper = "Vyas et al. 2024"

    def __init__(
        self,
        params: Any,
        lr: float = 3e-3,
        betas: tuple[float, float] = (0.95, 0.95),
        shampoo_beta: float | None = None,
        weight_decay: float = 0.01,
        precondition_frequency: int = 10,
        max_precondition_dim: int = 10000,
        merge_dims: bool = False,
        precondition_1d: bool = False,
        correct_bias: bool = True,
        normalize_gradient: bool = False,
        data_format: str = "channels_first",
        eps: float = 1e-8,
        *,
        qr_float32: bool = False,
        maximize: bool = False,
        check_finite: bool = True,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def _prep(self, group: Mapping[str, Any]) -> dict[str, Any]:
        # the rule applies its own decay, after its step (the authors' order)
        return super()._prep(group) | {"weight_decay": None}

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        keys = ("max_precondition_dim", "merge_dims", "precondition_1d", "data_format")
        view = _view(p.shape, *(group[k] for k in keys))
        state = {"m": zeros(p), "v": zeros(p)}
        like = {"device": p.device, "dtype": p.dtype}
        for i, (n, selected) in enumerate(zip(view.view, view.preconditioned, strict=True)):
            if selected:
                state[f"GG{i}"] = torch.zeros(n, n, **like)
        return state
