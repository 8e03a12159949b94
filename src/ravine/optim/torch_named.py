"""torch.optim's names over ravine's rules: ``Adagrad``, ``RMSprop``, ``Adadelta``, ``NAdam``.

Each class takes ``torch.optim``'s argument names, positional order and defaults (those of
torch 2.x), keeps its param groups under torch's keys (``alpha``, ``rho``,
``initial_accumulator_value``), gives torch's numbers and loads torch's state dicts, so that
``from ravine.optim import RMSprop`` in place of ``from torch.optim import RMSprop`` changes
no number. The math is the paper-named class's rule (:class:`~ravine.optim.RMSProp`,
:class:`~ravine.optim.AdaGrad`, :class:`~ravine.optim.AdaDelta`, :class:`~ravine.optim.Nadam`),
never a second copy; those keep their papers' names and defaults.

``SGD``, ``Adam``, ``AdamW``, ``Adamax`` and ``LBFGS`` need no second class: ravine's own
already take torch's signature (``Adamax`` is another name of :class:`~ravine.optim.AdaMax`,
whose conventions are torch's). ``foreach`` and ``fused`` choose ravine's paths
(``fused=True`` is ``compile=True``); ``capturable=True`` and ``differentiable=True`` are
refused naming the argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from .adam import AdaMax, Nadam
from .adaptive import AdaDelta, AdaGrad, RMSProp
from .constraints import NONNEGATIVE, UNIT_INTERVAL
from .rule import State, arguments, zeros

__all__ = ["Adadelta", "Adagrad", "Adamax", "NAdam", "RMSprop"]

Adamax = AdaMax  # torch's spelling; one class, its defaults and order are torch's


class Adagrad(AdaGrad):
    r"""``torch.optim.Adagrad`` over :class:`~ravine.optim.AdaGrad`'s rule::

        lr_t = lr / (1 + (t - 1) lr_decay),   G_t = G_{t-1} + g_t^2,
        theta_{t+1} = theta_t - lr_t g_t / (sqrt(G_t) + eps),   G_0 = initial_accumulator_value

    Defaults as torch: ``lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10``. As torch, G_0 comes from the constructor's ``initial_accumulator_value``,
    not from a param group's.
    """

    fixed = {"eps_in_sqrt": False}
    constraints = {
        **{k: v for k, v in AdaGrad.constraints.items() if k != "eps_in_sqrt"},
        "initial_accumulator_value": NONNEGATIVE,
    }

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        lr_decay: float | Tensor = 0.0,
        weight_decay: float | Tensor = 0.0,
        initial_accumulator_value: float | Tensor = 0.0,
        eps: float | Tensor = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super(AdaGrad, self).__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"G": zeros(p) + self.defaults["initial_accumulator_value"]}


class RMSprop(RMSProp):
    r"""``torch.optim.RMSprop`` over :class:`~ravine.optim.RMSProp`'s rule, the decay rate
    called ``alpha``; eps outside the root::

        s_t = alpha s_{t-1} + (1 - alpha) g_t^2,   b_t = mu b_{t-1} + g_t / (sqrt(s_t) + eps)
        theta_{t+1} = theta_t - lr b_t            (centered: s_t - gbar_t^2 under the root)

    Defaults as torch: ``lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False`` (the paper-named class: lr 1e-3, decay 0.9).
    """

    rule_names = {"decay": "alpha"}
    # torch has none of optax's options: each is held at the form torch computes
    fixed = dict.fromkeys(("eps_in_sqrt", "bias_correction", "nesterov", "lr_in_momentum"), False)
    constraints = {
        **{k: v for k, v in RMSProp.constraints.items() if k not in ("decay", "initial_scale")},
        "alpha": UNIT_INTERVAL,
    }
    for _name in fixed:
        del constraints[_name]
    del _name

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        alpha: float | Tensor = 0.99,
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        momentum: float | Tensor = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        *,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super(RMSProp, self).__init__(**arguments(locals()))

    def complete_state(self, p: Tensor, state: dict[str, Any], group: Mapping[str, Any]) -> None:
        """torch keeps no momentum buffer without momentum, where the rule's is multiplied
        by 0: a zero buffer stands for it."""
        if group["momentum"] == 0 and "b" not in state:
            state["b"] = zeros(p)


class Adadelta(AdaDelta):
    r"""``torch.optim.Adadelta`` over :class:`~ravine.optim.AdaDelta`'s rule, the decay rate
    called ``rho``. Defaults as torch: ``lr=1.0, rho=0.9, eps=1e-6, weight_decay=0``."""

    rule_names = {"decay": "rho"}
    constraints = {"rho": UNIT_INTERVAL, "eps": AdaDelta.constraints["eps"]}

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        rho: float | Tensor = 0.9,
        eps: float | Tensor = 1e-6,
        weight_decay: float | Tensor = 0.0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super(AdaDelta, self).__init__(**arguments(locals()))


class NAdam(Nadam):
    r"""``torch.optim.NAdam`` over :class:`~ravine.optim.Nadam`'s rule: Dozat's warming
    momentum schedule mu_t = b1 (1 - 0.5 * 0.96^(t psi)) with ``momentum_decay`` psi.

    Defaults as torch: ``lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    momentum_decay=4e-3, decoupled_weight_decay=False`` (the paper-named class: psi = 0,
    Dozat's constant momentum).
    """

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 2e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float | Tensor = 1e-8,
        weight_decay: float | Tensor = 0.0,
        momentum_decay: float | Tensor = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        check_finite: bool = True,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super(Nadam, self).__init__(**arguments(locals()))
