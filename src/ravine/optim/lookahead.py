r"""Lookahead: k steps forward with any optimizer, then one step back towards slow weights.

:class:`Lookahead` wraps a ravine or ``torch.optim`` optimizer (an instance, or built here
from a registry name, a ``torch.optim.X`` name or a class) and shares its param groups, so
that learning-rate schedulers and ravine's schedules drive the inner optimizer through it.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from .base import Optimizer
from .constraints import Choice, Constraint, Integer, Range, ScalarHyperparameters

__all__ = ["Lookahead"]

SLOW = "lookahead_slow_buff"  # the slow weights' key in a state dict (timm's)
GROUP_DEFAULTS = ("lookahead_k", "lookahead_alpha")


class _Inner(Constraint):
    """An optimizer ravine can resolve: a registry name, ``torch.optim.X`` or a class."""

    def describe(self) -> str:
        return "a registered optimizer name, 'torch.optim.X' or an optimizer class"

    def check(self, name: str, value: Any, owner: str) -> None:
        from .registry import resolve  # the registry imports this module

        try:
            resolve(value)
        except ValueError as err:
            raise ValueError(f"{owner}: invalid {name}={value!r} ({err})") from None


class Lookahead(ScalarHyperparameters, Optimizer):
    r"""Lookahead (Zhang et al. 2019, Algorithm 1) around an inner optimizer A.

    With slow weights :math:`\phi` (the parameters before their first step)::

        theta_{t,0} = phi_{t-1}
        theta_{t,i} = theta_{t,i-1} + A(L, theta_{t,i-1}),   i = 1 ... k   (k inner steps)
        phi_t = phi_{t-1} + alpha (theta_{t,k} - phi_{t-1})

    and the parameters continue from :math:`\phi_t`. ``step()`` is one inner step; every
    ``lookahead_k``-th step of a param group ends with the synchronisation.

    =========================  ========================  ===================================
    symbol                     argument                  default
    =========================  ========================  ===================================
    A                          ``inner``                 "adam": a registry name, a
                                                         ``torch.optim.X`` name, a class; or
                                                         pass an optimizer as ``params``
    k                          ``lookahead_k``           5 (an integer >= 1)
    alpha                      ``lookahead_alpha``       0.5, in [0, 1]
    phi_0                      ``slow_init``             "start": the parameters before their
                                                         first step (the paper's); "sync":
                                                         taken at the first synchronisation,
                                                         which then leaves them (timm's)
    =========================  ========================  ===================================

    Every other keyword is the inner optimizer's (``lr``, ``betas``, ...), so that
    ``ravine.optim.get("lookahead", params, inner="sgd", lr=0.1, momentum=0.9)`` and the
    ``lookahead`` entry of a race or a study take the inner optimizer's hyperparameters
    beside ``inner`` and the two of Lookahead; the defaults listed for ``lookahead`` are
    Adam's. ``lookahead_k`` and ``lookahead_alpha`` are per-group hyperparameters, kept in
    the shared param groups (with the group's step count, ``lookahead_step``) under timm's
    names; the slow weights are saved in ``state_dict()`` beside the inner optimizer's state
    of each parameter (key ``lookahead_slow_buff``), so a state dict of timm's Lookahead
    loads here and the other way round. A parameter without a gradient at a synchronisation
    is left alone (timm). The inner optimizer must take torch's closure (``"backward"``).
    Lookahead runs one instance per race trajectory (``elementwise`` False), whatever the
    inner optimizer.

    Reference: Zhang, Lucas, Hinton and Ba, "Lookahead Optimizer: k steps forward, 1 step
    back", NeurIPS 2019.
    """

    constraints = {
        "inner": _Inner(),
        "lookahead_k": Integer(1),
        "lookahead_alpha": Range(0.0, 1.0),
        "slow_init": Choice(("start", "sync")),
    }
    elementwise = False
    family = "wrapper"
    paper = "Zhang et al. 2019"

    def __init__(
        self,
        params: Any,
        inner: str | type = "adam",
        *,
        lookahead_k: int = 5,
        lookahead_alpha: float = 0.5,
        slow_init: str = "start",
        check_finite: bool = True,
        **hyperparameters: Any,
    ) -> None:
        own = {"lookahead_k": lookahead_k, "lookahead_alpha": lookahead_alpha}
        self.validate({**own, "slow_init": slow_init})
        if isinstance(params, torch.optim.Optimizer):
            if hyperparameters:
                raise ValueError(
                    "Lookahead: give the inner optimizer's hyperparameters to it, not to "
                    f"Lookahead around an optimizer (got {', '.join(hyperparameters)})"
                )
            self.inner = params
        else:
            from .registry import resolve  # the registry imports this module

            self.validate({"inner": inner})
            info = resolve(inner)
            if info.closure_kind != "backward" or info.cls is Lookahead:
                raise ValueError(
                    f"Lookahead: inner={inner!r} takes a {info.closure_kind!r} closure; "
                    "Lookahead wraps optimizers of torch's closure ('backward') only"
                )
            if info.is_ravine:  # torch's optimizers do not check gradients
                hyperparameters["check_finite"] = check_finite
            self.inner = info.build(params, **hyperparameters)
        self.slow_init = slow_init
        self._defaults = own
        # torch.optim.Optimizer's attributes, its __init__ not called: the groups are the
        # inner optimizer's own list (as timm's Lookahead does)
        self.defaults = self.inner.defaults
        self.defaults.update(self._defaults)
        for name in (
            "_optimizer_step_pre_hooks",
            "_optimizer_step_post_hooks",
            "_optimizer_state_dict_pre_hooks",
            "_optimizer_state_dict_post_hooks",
            "_optimizer_load_state_dict_pre_hooks",
            "_optimizer_load_state_dict_post_hooks",
        ):
            setattr(self, name, OrderedDict())
        self._patch_step_function()
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)  # slow weights
        self.param_groups = self.inner.param_groups
        self._warned_capturable_if_run_uncaptured = True
        for group in self.param_groups:
            self._complete(group)

    def _complete(self, group: dict[str, Any]) -> None:
        """Lookahead's keys in ``group``, checked, with its step count."""
        for name in GROUP_DEFAULTS:
            group.setdefault(name, self._defaults[name])
        group.setdefault("lookahead_step", 0)
        self.validate({k: group[k] for k in GROUP_DEFAULTS})

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """The inner optimizer's ``add_param_group``, with Lookahead's keys checked."""
        self.inner.add_param_group(param_group)
        try:
            self._complete(self.param_groups[-1])
        except ValueError:
            self.param_groups.pop()
            raise

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One inner step; every ``lookahead_k``-th step of a group, the group's
        synchronisation of fast and slow weights."""
        starting = []  # the parameters before their first step, kept once it succeeds
        if self.slow_init == "start":
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None and SLOW not in self.state.get(p, {}):
                        starting.append((p, p.detach().clone()))
        loss = self.inner.step(closure)
        for p, slow in starting:
            self.state[p][SLOW] = slow
        for group in self.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self._synchronise(group)
        return loss

    def _synchronise(self, group: dict[str, Any]) -> None:
        """phi <- phi + alpha (theta - phi); theta <- phi, for the group's parameters that
        have a gradient."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if SLOW not in state:  # slow_init="sync", or a parameter's first gradient late
                state[SLOW] = p.detach().clone()
            slow = state[SLOW]
            slow.add_(p - slow, alpha=group["lookahead_alpha"])
            p.copy_(slow)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner.zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """The inner optimizer's state dict, each parameter's slow weights added to its
        state (its groups hold Lookahead's keys already)."""
        saved = self.inner.state_dict()
        index = {id(p): i for i, p in enumerate(p for g in self.param_groups for p in g["params"])}
        state = dict(saved["state"])
        for p, own in self.state.items():
            if SLOW in own:
                i = index[id(p)]
                state[i] = {**state.get(i, {}), SLOW: own[SLOW]}
        return {**saved, "state": state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """The inner optimizer's state and groups, and the slow weights where saved (a state
        dict of the inner optimizer alone loads too: Lookahead's keys then keep their
        values and the slow weights start afresh)."""
        params = [p for g in self.param_groups for p in g["params"]]
        inner_state, slow = {}, {}
        for i, entry in state_dict["state"].items():
            entry = dict(entry)
            if SLOW in entry:
                slow[i] = entry.pop(SLOW)
            if entry:
                inner_state[i] = entry
        self.inner.load_state_dict({**state_dict, "state": inner_state})
        self.param_groups = self.inner.param_groups
        for group in self.param_groups:
            self._complete(group)
        self.state = defaultdict(dict)
        for i, value in slow.items():
            p = params[int(i)]
            self.state[p][SLOW] = value.to(device=p.device, dtype=p.dtype).clone()

    @classmethod
    def hyperparameter_defaults(cls) -> dict[str, Any]:
        """Lookahead's own defaults, then those of its default inner optimizer (Adam)."""
        from .registry import resolve

        own = super().hyperparameter_defaults()
        return own | resolve(own["inner"]).defaults

    @classmethod
    def constraint(cls, name: str) -> Constraint | None:
        """Lookahead's own constraints, then those of its default inner optimizer."""
        own = super().constraint(name)
        if own is not None:
            return own
        from .registry import resolve

        return resolve(cls.hyperparameter_defaults()["inner"]).constraint(name)

    def __repr__(self) -> str:
        return f"Lookahead({self.inner!r})"
