"""Gradient descent and its momentum forms: SGD, Momentum (heavy ball), Nesterov (NAG).

Batch, stochastic and mini-batch gradient descent are one rule, :func:`sgd`; they differ
only in the batch the gradient is computed on (see ``docs/gradient_descent.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import BOOL, UNIT_INTERVAL, Range
from .rule import State, arguments, zeros

# ----------------------------------------------------------------------------- the rules


def momentum(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, lr_in_velocity, dampening
) -> tuple[Tensor, State]:
    r"""Heavy ball, in either of its two published forms (v_0 = 0).

    lr_in_velocity=True (Polyak; Sutskever et al. 2013)::  v <- mu v - lr g;  theta <- theta + v
    lr_in_velocity=False (PyTorch, optax)::                 b <- mu b + g;     theta <- theta - lr b

    ``dampening`` d (PyTorch) weighs the gradient by (1 - d) in the buffer, from the second
    step on (the first step's buffer is the gradient itself)."""
    v = state["v"]
    g_in = _damped(g, t, dampening)
    if lr_in_velocity:
        v = momentum * v - lr * g_in
        return p + v, {"v": v}
    v = momentum * v + g_in
    return p - lr * v, {"v": v}


def nesterov(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, lookahead, dampening
) -> tuple[Tensor, State]:
    r"""Nesterov's accelerated gradient, in either of its two published forms (v_0 = 0).

    lookahead=True (Sutskever et al. 2013), g taken at theta + mu v::
        v <- mu v - lr g;  theta <- theta + v
    lookahead=False (Bengio et al. 2013 reformulation; PyTorch), g taken at theta::
        b <- mu b + g;     theta <- theta - lr (g + mu b)

    ``dampening`` as in :func:`momentum` (PyTorch requires 0 with Nesterov)."""
    v = state["v"]
    if lookahead:
        v = momentum * v - lr * _damped(g, t, dampening)
        return p + v, {"v": v}
    v = momentum * v + _damped(g, t, dampening)
    return p - lr * (g + momentum * v), {"v": v}


def _damped(g: Tensor, t: int, dampening) -> Tensor:
    """The gradient's share of a momentum buffer: (1 - dampening) g after the first step."""
    return g if _is_zero(dampening) or t == 1 else (1 - dampening) * g


def _is_zero(x) -> bool:
    return not isinstance(x, Tensor) and x == 0


_heavy_ball, _nag = momentum, nesterov


def sgd(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, dampening, nesterov
) -> tuple[Tensor, State]:
    r"""theta <- theta - lr g; with momentum mu (a buffer ``v`` in the state, kept when
    ``momentum`` is not 0), ``torch.optim.SGD``'s forms: :func:`momentum` with
    ``lr_in_velocity=False``, or with ``nesterov`` :func:`nesterov` with ``lookahead=False``.
    """
    if "v" not in state:
        return p - lr * g, {}
    if nesterov:
        return _nag(p, g, state, t, lr=lr, momentum=momentum, lookahead=False, dampening=dampening)
    return _heavy_ball(
        p, g, state, t, lr=lr, momentum=momentum, lr_in_velocity=False, dampening=dampening
    )


def _velocity(p: Tensor, group: Mapping[str, Any]) -> State:
    return {"v": zeros(p)}


# ---------------------------------------------------------------------------- the classes


class SGD(Optimizer):
    r"""Gradient descent: :math:`\theta_{t+1} = \theta_t - \eta\, g_t`, and with ``momentum``
    mu > 0 ``torch.optim.SGD``'s heavy ball or Nesterov form (buffer b_0 = 0)::

        b_{t+1} = mu b_t + (1 - d) g_t      (d = dampening; b_1 = g_1)
        theta_{t+1} = theta_t - eta b_{t+1}                 (nesterov: - eta (g_t + mu b_{t+1}))

    ===========  =====================  ==============================
    symbol       argument               default
    ===========  =====================  ==============================
    eta          ``lr``                 1e-3
    mu           ``momentum``           0.0 (in [0, 1))
    d            ``dampening``          0.0 (in [0, 1]); 0 with Nesterov
    lambda       ``weight_decay``       0.0: adds lambda theta to g
    Nesterov     ``nesterov``           False
    ===========  =====================  ==============================

    Batch, mini-batch and stochastic gradient descent are this rule fed gradients of the whole
    data set, of a mini-batch, or of one example. ``torch.optim.SGD``'s arguments, order and
    defaults (``foreach``, ``fused``: ravine's paths; ``differentiable=True`` is refused), its
    numbers and its state dict (``momentum_buffer``). :class:`Momentum` and :class:`Nesterov`
    are the papers' forms.

    Reference: Robbins and Monro, "A Stochastic Approximation Method", 1951.
    """

    rule = staticmethod(sgd)
    constraints = {"momentum": UNIT_INTERVAL, "dampening": Range(0.0, 1.0), "nesterov": BOOL}
    torch_state = {"momentum_buffer": "v"}
    family = "gradient descent"
    paper = "Robbins and Monro 1951"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        momentum: float | Tensor = 0.0,
        dampening: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        if nesterov is True and (_is_zero(momentum) or not _is_zero(dampening)):
            raise ValueError(
                f"SGD: nesterov=True requires a momentum > 0 and dampening=0, got "
                f"momentum={momentum}, dampening={dampening}"
            )
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {} if _is_zero(group["momentum"]) else {"v": zeros(p)}

    def complete_state(self, p: Tensor, state: dict[str, Any], group: Mapping[str, Any]) -> None:
        """torch's SGD keeps no step count; its momentum buffer means a step was taken (the
        count matters only to tell the first step, which dampening skips)."""
        dtype = torch.float64 if p.dtype == torch.float64 else torch.float32
        state.setdefault("step", torch.tensor(1.0, dtype=dtype))


class Momentum(Optimizer):
    r"""Gradient descent with (heavy-ball) momentum.

    ``lr_in_velocity=True`` (default; the classic form of Polyak 1964 and Sutskever et al. 2013,
    also Keras)::

        v_{t+1} = mu v_t - eta g_t,        theta_{t+1} = theta_t + v_{t+1}

    ``lr_in_velocity=False`` (``torch.optim.SGD(momentum=mu)``, optax ``sgd``)::

        b_{t+1} = mu b_t + g_t,            theta_{t+1} = theta_t - eta b_{t+1}

    With v_0 = b_0 = 0 and a constant eta the two give the same iterates (v_t = -eta b_t).
    Once eta changes over time they differ: the classic form keeps old steps at the learning
    rate they were taken with, the PyTorch form rescales the whole buffer by the current eta.

    ============  =====================  =========
    symbol        argument               default
    ============  =====================  =========
    eta           ``lr``                 1e-2
    mu            ``momentum``           0.9 (in [0, 1))
    d             ``dampening``          0.0: the gradient enters v as (1 - d) g
    ============  =====================  =========

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods", 1964.
    """

    rule = staticmethod(momentum)
    constraints = {"momentum": UNIT_INTERVAL, "lr_in_velocity": BOOL, "dampening": Range(0.0, 1.0)}
    family = "momentum"
    paper = "Polyak 1964"
    init_state = staticmethod(_velocity)  # type: ignore[assignment]

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        momentum: float | Tensor = 0.9,
        *,
        lr_in_velocity: bool = True,
        dampening: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))


class Nesterov(Optimizer):
    r"""Nesterov's accelerated gradient (NAG).

    ``lookahead=True`` (Sutskever et al. 2013): the gradient is taken at the look-ahead point
    theta + mu v, which needs ``step(closure)``::

        v_{t+1} = mu v_t - eta grad f(theta_t + mu v_t),     theta_{t+1} = theta_t + v_{t+1}

    ``lookahead=False`` (default; Bengio et al. 2013's reformulation, ``torch.optim.SGD(
    nesterov=True)``, optax, Keras), the gradient at theta itself::

        b_{t+1} = mu b_t + g_t,     theta_{t+1} = theta_t - eta (g_t + mu b_{t+1})

    ============  =====================  =========
    symbol        argument               default
    ============  =====================  =========
    eta           ``lr``                 1e-2
    mu            ``momentum``           0.9 (in [0, 1))
    ============  =====================  =========

    References: Nesterov 1983; Sutskever, Martens, Dahl and Hinton, "On the importance of
    initialization and momentum in deep learning", ICML 2013.
    """

    rule = staticmethod(nesterov)
    constraints = {"momentum": UNIT_INTERVAL, "lookahead": BOOL, "dampening": Range(0.0, 1.0)}
    family = "momentum"
    paper = "Nesterov 1983; Sutskever et al. 2013"
    init_state = staticmethod(_velocity)  # type: ignore[assignment]

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        momentum: float | Tensor = 0.9,
        *,
        lookahead: bool = False,
        dampening: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def gradient_offset(self, p: Tensor, state: State, group: Mapping[str, Any]) -> Tensor | None:
        return group["momentum"] * state["v"] if group["lookahead"] else None
