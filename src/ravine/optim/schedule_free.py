"""Schedule-Free SGD and AdamW (Defazio et al. 2024): an average of the iterates takes the
place of a learning-rate schedule.

Three sequences per parameter: the base iterates z (plain SGD or AdamW steps), their
weighted average x (what is evaluated), and the point y where gradients are taken,
an interpolation of the two::

    y_t     = (1 - beta) z_t + beta x_t
    z_{t+1} = z_t - gamma_t u_t                   (u_t from the gradient at y_t)
    x_{t+1} = (1 - c_{t+1}) x_t + c_{t+1} z_{t+1}

The parameters hold y while training and x while evaluating: call :meth:`train` before
training steps and :meth:`eval` before evaluating or saving a model (a study's trial loop
does both, see :mod:`ravine.study.trial`). ``step`` in eval mode raises.

Why its own step and not a rule: the averaging weight c depends on running numbers kept per
param group (the step count k, the largest learning rate seen, the sum of the weights), as
in the authors' ``schedulefree`` package, and switching modes moves every parameter; the
rule path counts steps per parameter and knows no modes. The math is still one pure
function per algorithm (:func:`averaging_weight` for the group numbers,
:func:`schedule_free_sgd` and :func:`schedule_free_adamw` per parameter), applied per
tensor; the classes are not elementwise for races (one instance per trajectory) although
each coordinate moves alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import NONNEGATIVE, Betas, Choice, Integer, Range, ScalarHyperparameters
from .finite import check_gradients
from .rule import State, arguments, zeros

__all__ = [
    "AdamWScheduleFree",
    "SGDScheduleFree",
    "averaging_weight",
    "schedule_free_adamw",
    "schedule_free_sgd",
]

# ---------------------------------------------------------------------------- the math


def averaging_weight(group: dict[str, Any], lr: float, scale: float = 1.0) -> tuple[float, float]:
    r"""The group's step size and averaging weight at its step k (0-based), updating the
    group's running numbers ``lr_max`` and ``weight_sum``::

        gamma_k = lr min(1, (k + 1) / warmup_steps) scale
        lr_max  = max(lr_max, gamma_k)
        w_k     = (k + 1)^r lr_max^weight_lr_power,   weight_sum += w_k
        c_{k+1} = w_k / weight_sum   (0 while weight_sum is 0)

    ``scale``: sqrt(1 - b2^(k+1)) where the AdamW form puts its bias correction."""
    k, warmup = group["k"], group["warmup_steps"]
    gamma = lr * ((k + 1) / warmup if k < warmup else 1.0) * scale
    group["scheduled_lr"] = gamma
    lr_max = group["lr_max"] = max(gamma, group["lr_max"])
    weight = ((k + 1) ** group["r"]) * (lr_max ** group["weight_lr_power"])
    weight_sum = group["weight_sum"] = group["weight_sum"] + weight
    return gamma, (weight / weight_sum if weight_sum != 0 else 0.0)


def _interpolate(y: Tensor, z: Tensor, u: Tensor, *, lr, c, beta) -> tuple[Tensor, Tensor]:
    r"""z <- z - gamma u;  y <- (1 - c) y + c z_old + gamma (beta (1 - c) - 1) u: the new y
    = beta x_new + (1 - beta) z_new without storing x (the package's form)."""
    y_new = torch.add(torch.lerp(y, z, c), u, alpha=lr * (beta * (1 - c) - 1))
    return y_new, torch.sub(z, u, alpha=lr)


def schedule_free_sgd(
    y: Tensor, g: Tensor, state: State, *, lr, c, momentum, weight_decay, weight_decay_at
) -> tuple[Tensor, State]:
    r"""u = g + lambda w (w = y or z);  z <- z - gamma u;  x <- (1 - c) x + c z;
    y = momentum x + (1 - momentum) z."""
    z = state["z"]
    u = torch.add(g, y if weight_decay_at == "y" else z, alpha=weight_decay) if weight_decay else g
    y_new, z_new = _interpolate(y, z, u, lr=lr, c=c, beta=momentum)
    return y_new, {"z": z_new}


def schedule_free_adamw(
    y: Tensor, g: Tensor, state: State, *, lr, c, k, betas, eps, weight_decay,
    weight_decay_at, bias_correction,
) -> tuple[Tensor, State]:  # fmt: skip
    r"""v <- b2 v + (1 - b2) g^2;  u = g / (sqrt(v / (1 - b2^(k+1))) + eps) + lambda w
    (``bias_correction="lr"``: u = g / (sqrt(v) + eps) + lambda w, the rate carries
    sqrt(1 - b2^(k+1)));  then as SGD with beta = b1."""
    beta1, beta2 = betas
    v = torch.addcmul(beta2 * state["v"], g, g, value=1 - beta2)
    if bias_correction == "denominator":
        denom = (v / (1 - beta2 ** (k + 1))).sqrt() + eps
    else:
        denom = v.sqrt() + eps
    u = g / denom
    if weight_decay:
        u = torch.add(u, y if weight_decay_at == "y" else state["z"], alpha=weight_decay)
    y_new, z_new = _interpolate(y, state["z"], u, lr=lr, c=c, beta=beta1)
    return y_new, {"z": z_new, "v": v}


# ------------------------------------------------------------------------ the machinery

# The running numbers each param group keeps (the package's names and starting values).
GROUP_NUMBERS = {"k": 0, "train_mode": True, "weight_sum": 0.0, "lr_max": -1.0, "scheduled_lr": 0.0}


class _ScheduleFree(ScalarHyperparameters, Optimizer):
    """The step, modes and group numbers shared by Schedule-Free SGD and AdamW."""

    elementwise: ClassVar[bool] = False
    family = "schedule-free"
    paper = "Defazio et al. 2024"

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for key, value in GROUP_NUMBERS.items():
            group.setdefault(key, value)

    def _beta(self, group: Mapping[str, Any]) -> float:
        raise NotImplementedError  # pragma: no cover - abstract

    def _move(self, group: Mapping[str, Any]) -> Callable[..., tuple[Tensor, State]]:
        raise NotImplementedError  # pragma: no cover - abstract

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"z": p.detach().clone()}

    @torch.no_grad()
    def eval(self) -> None:
        """Put x, the average, into the parameters: call before evaluating or saving."""
        self._switch(False)

    @torch.no_grad()
    def train(self) -> None:
        """Put y, the gradient point, back into the parameters: call before training."""
        self._switch(True)

    def _switch(self, train: bool) -> None:
        r"""x = y + (1 - 1/beta)(z - y) (to eval);  y = x + (1 - beta)(z - x) (to train)."""
        for group in self.param_groups:
            if bool(group["train_mode"]) == train:
                continue
            beta = float(self._beta(group))
            weight = 1 - beta if train else 1 - 1 / beta
            for p in group["params"]:
                state = self.state.get(p)
                if state and "z" in state:
                    z = state["z"].to(p.device)
                    p.copy_(torch.lerp(p.to(z.dtype), z, weight))
            group["train_mode"] = train

    @property
    def training(self) -> bool:
        """Whether the parameters hold y (train mode) rather than x (eval mode)."""
        return all(bool(g["train_mode"]) for g in self.param_groups)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Schedule-Free step of every param group (in train mode only)."""
        if not self.training:
            raise RuntimeError(
                f"{type(self).__name__}.step in eval mode: call optimizer.train() before "
                "training steps and optimizer.eval() before evaluating"
            )
        loss = self._evaluate(closure)
        active = [[p for p in g["params"] if p.grad is not None] for g in self.param_groups]
        if self.check_finite:
            probes = [p.grad for ps in active for p in ps if p.device.type != "meta"]
            check_gradients(type(self).__name__, probes, [g["params"] for g in self.param_groups])
        for group, params in zip(self.param_groups, active, strict=True):
            self._step_group(group, params)
        return loss

    def _step_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        move, hyper = self._move(group)
        for p in params:
            state = self._state_of(p, group)
            state["step"] = state["step"] + 1
            g = -p.grad if group["maximize"] else p.grad
            dtype = state["z"].dtype
            y, new = move(p.to(dtype), g.to(dtype), state, **hyper)
            p.copy_(y)
            state.update(new)
        group["k"] += 1


def _number(x: Any) -> float:
    return float(x)


WEIGHT_DECAY_AT = Choice(("y", "z"))


class SGDScheduleFree(_ScheduleFree):
    r"""Schedule-Free SGD: SGD steps on z, evaluated at their weighted average x.

    With k the group's step count (0-based), c_{k+1} from :func:`averaging_weight`::

        y_k     = momentum x_k + (1 - momentum) z_k          (the parameters in train mode)
        u_k     = g(y_k) + lambda w_k,   w = y (default) or z (``weight_decay_at="z"``)
        z_{k+1} = z_k - gamma_k u_k
        x_{k+1} = (1 - c_{k+1}) x_k + c_{k+1} z_{k+1}         (the parameters in eval mode)

    ======================  ======================  ========================================
    symbol                  argument                default
    ======================  ======================  ========================================
    gamma                   ``lr``                  1.0
    beta                    ``momentum``            0.9, in (0, 1)
    lambda                  ``weight_decay``        0.0, L2 at y added to the gradient
    w                       ``weight_decay_at``     "y" (the package); "z": at z (the
                                                    reference classes' ``decay_at_z``)
    T_warmup                ``warmup_steps``        0: gamma_k = lr min(1, (k+1)/T_warmup)
    r                       ``r``                   0.0: w_k = (k+1)^r lr_max^p
    p                       ``weight_lr_power``     2.0
    ======================  ======================  ========================================

    Each group keeps ``k``, ``lr_max``, ``weight_sum``, ``scheduled_lr`` and ``train_mode``
    (the package's names); state holds z per parameter (x is never stored: the parameters
    hold y in train mode and x in eval mode). Matches ``schedulefree.SGDScheduleFree``
    1.4.1 (float64, 1e-12 relative, across mode switches) and its ``SGDScheduleFreeReference``
    (which stores x and y); one difference kept: ravine starts in train mode (the package
    starts in eval mode and raises until ``train()`` is called; its reference class starts
    in train mode too).

    Reference: Defazio, Yang, Mehta, Mishchenko, Khaled and Cutkosky, "The Road Less
    Scheduled", NeurIPS 2024.
    """

    rule = staticmethod(schedule_free_sgd)
    constraints = {
        "momentum": Range(0.0, 1.0, low_open=True, high_open=True),
        "weight_decay_at": WEIGHT_DECAY_AT,
        "warmup_steps": Integer(0),
        "r": NONNEGATIVE,
        "weight_lr_power": NONNEGATIVE,
    }

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        *,
        weight_decay_at: str = "y",
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def _beta(self, group: Mapping[str, Any]) -> float:
        return group["momentum"]

    def _move(self, group: dict[str, Any]):
        lr, c = averaging_weight(group, _number(group["lr"]))
        hyper = {
            "lr": lr,
            "c": c,
            "momentum": _number(group["momentum"]),
            "weight_decay": _number(group["weight_decay"]),
            "weight_decay_at": group["weight_decay_at"],
        }
        return schedule_free_sgd, hyper


class AdamWScheduleFree(_ScheduleFree):
    r"""Schedule-Free AdamW: AdamW-normalised steps on z, evaluated at their average x.

    As :class:`SGDScheduleFree` with beta = b1, and u normalised by a second moment (no
    first moment: the interpolation is the momentum), k the group's step count::

        v_{k+1} = b2 v_k + (1 - b2) g_k^2
        u_k     = g_k / (sqrt(v_{k+1} / (1 - b2^(k+1))) + eps) + lambda w_k

    ======================  ======================  ========================================
    symbol                  argument                default
    ======================  ======================  ========================================
    gamma                   ``lr``                  0.0025
    b1, b2                  ``betas``               (0.9, 0.999), b1 in (0, 1)
    eps                     ``eps``                 1e-8
    lambda                  ``weight_decay``        0.0, added to the normalised step at w
    w                       ``weight_decay_at``     "y" (the package); "z" (the reference's
                                                    ``decay_at_z``)
    bias correction         ``bias_correction``     "denominator": as above (the package's
                                                    ``AdamWScheduleFree``); "lr": u = g /
                                                    (sqrt(v) + eps) and gamma_k carries
                                                    sqrt(1 - b2^(k+1)), also in lr_max (the
                                                    paper's form, ``AdamWScheduleFreePaper``)
    T_warmup, r, p          ``warmup_steps``, ``r``, ``weight_lr_power``: 0, 0.0, 2.0
    ======================  ======================  ========================================

    Matches ``schedulefree.AdamWScheduleFree``, ``AdamWScheduleFreeReference`` (with
    ``decay_at_z``) and ``AdamWScheduleFreePaper`` 1.4.1 in float64 across mode switches.
    Starts in train mode, unlike the package (see :class:`SGDScheduleFree`).

    Reference: Defazio et al., "The Road Less Scheduled", NeurIPS 2024.
    """

    rule = staticmethod(schedule_free_adamw)
    constraints = {
        "betas": Betas(Range(0.0, 1.0, low_open=True, high_open=True)),
        "eps": NONNEGATIVE,
        "weight_decay_at": WEIGHT_DECAY_AT,
        "bias_correction": Choice(("denominator", "lr")),
        "warmup_steps": Integer(0),
        "r": NONNEGATIVE,
        "weight_lr_power": NONNEGATIVE,
    }

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        *,
        weight_decay_at: str = "y",
        bias_correction: str = "denominator",
        maximize: bool = False,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(**arguments(locals()))

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        return {"z": p.detach().clone(), "v": zeros(p)}

    def _beta(self, group: Mapping[str, Any]) -> float:
        return group["betas"][0]

    def _move(self, group: dict[str, Any]):
        betas = tuple(_number(b) for b in group["betas"])
        scale = 1.0
        if group["bias_correction"] == "lr":
            scale = math.sqrt(1 - betas[1] ** (group["k"] + 1))
        hyper = {
            "k": group["k"],
            "betas": betas,
            "eps": _number(group["eps"]),
            "weight_decay": _number(group["weight_decay"]),
            "weight_decay_at": group["weight_decay_at"],
            "bias_correction": group["bias_correction"],
        }
        hyper["lr"], hyper["c"] = averaging_weight(group, _number(group["lr"]), scale)
        return schedule_free_adamw, hyper
