"""Gradient descent and its momentum forms: SGD, Momentum (heavy ball), Nesterov (NAG).

Batch, stochastic and mini-batch gradient descent are one rule, :func:`sgd`; they differ
only in the batch the gradient is computed on (see ``docs/gradient_descent.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .base import BOOL, UNIT_INTERVAL, Optimizer, State, arguments, zeros

# ----------------------------------------------------------------------------- the rules


def sgd(p: Tensor, g: Tensor, state: State, t: int, *, lr) -> tuple[Tensor, State]:
    r"""theta <- theta - lr g."""
    return p - lr * g, {}


def momentum(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, lr_in_velocity
) -> tuple[Tensor, State]:
    r"""Heavy ball, in either of its two published forms (v_0 = 0).

    lr_in_velocity=True (Polyak; Sutskever et al. 2013)::  v <- mu v - lr g;  theta <- theta + v
    lr_in_velocity=False (PyTorch, optax)::                 b <- mu b + g;     theta <- theta - lr b
    """
    v = state["v"]
    if lr_in_velocity:
        v = momentum * v - lr * g
        return p + v, {"v": v}
    v = momentum * v + g
    return p - lr * v, {"v": v}


def nesterov(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, momentum, lookahead
) -> tuple[Tensor, State]:
    r"""Nesterov's accelerated gradient, in either of its two published forms (v_0 = 0).

    lookahead=True (Sutskever et al. 2013), g taken at theta + mu v::
        v <- mu v - lr g;  theta <- theta + v
    lookahead=False (Bengio et al. 2013 reformulation; PyTorch), g taken at theta::
        b <- mu b + g;     theta <- theta - lr (g + mu b)
    """
    v = state["v"]
    if lookahead:
        v = momentum * v - lr * g
        return p + v, {"v": v}
    v = momentum * v + g
    return p - lr * (g + momentum * v), {"v": v}


def _velocity(p: Tensor, group: Mapping[str, Any]) -> State:
    return {"v": zeros(p)}


# ---------------------------------------------------------------------------- the classes


class SGD(Optimizer):
    r"""Gradient descent: :math:`\theta_{t+1} = \theta_t - \eta\, g_t`.

    ===========  =====================  =========
    symbol       argument               default
    ===========  =====================  =========
    eta          ``lr``                 1e-2
    ===========  =====================  =========

    Batch, mini-batch and stochastic gradient descent are this rule fed gradients of the whole
    data set, of a mini-batch, or of one example. Matches ``torch.optim.SGD`` without momentum.
    Shared options: ``weight_decay`` (adds ``weight_decay * theta`` to g), ``maximize``.

    Reference: Robbins and Monro, "A Stochastic Approximation Method", 1951.
    """

    rule = staticmethod(sgd)
    family = "gradient descent"
    paper = "Robbins and Monro 1951"

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        *,
        weight_decay: float | Tensor = 0.0,
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))


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
    ============  =====================  =========

    Reference: Polyak, "Some methods of speeding up the convergence of iteration methods", 1964.
    """

    rule = staticmethod(momentum)
    constraints = {"momentum": UNIT_INTERVAL, "lr_in_velocity": BOOL}
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
    constraints = {"momentum": UNIT_INTERVAL, "lookahead": BOOL}
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
