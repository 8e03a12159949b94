"""An elementwise optimizer's step as a plain function of one parameter, for tiny steps.

A race advances one ``[dim, n]`` parameter per optimizer through thousands of steps of a
few dozen numbers each. There :meth:`Optimizer.step <ravine.optim.base.Optimizer.step>`
costs about 100 microseconds, almost all of it the machinery around the rule (the plan of
each group, buckets, the profiler hook torch wraps ``step`` in, the hyperparameters read
back from the group), not the rule's own ops. :class:`Stepper` keeps the rule and drops the
machinery: the hyperparameters and the shared preprocessing are read once (again after
:meth:`Stepper.refresh`, where a schedule changed them), the state is a plain dict, and a
step is :func:`~ravine.optim.rule.apply_rule` on the parameter and its gradient, out of
place, nothing written back.

It computes what the optimizer's own step computes on the same parameter, op for op: the
multi-tensor path's rule over a contiguous gradient where the group's hyperparameters are
numbers, the reference's rule over the parameter's own gradient where they are tensors.
:func:`stepper` returns None for what it does not serve (steps of their own, compiled
paths, a ``state_dtype``, the finiteness check, more than one parameter), which then steps
through ``step()``.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import Tensor

from .base import Optimizer
from .rule import State, apply_rule

__all__ = ["Stepper", "plain_step", "stepper"]


class Stepper:
    """The step of ``opt`` (a ravine optimizer over the one parameter ``p``) as a function.

    ``state`` is the rule's state, created by the optimizer (:meth:`init_state`) and
    replaced by each :meth:`step`; the step counter is the caller's ``t`` (1 for the first
    step)."""

    def __init__(self, opt: Optimizer, p: Tensor) -> None:
        self.opt, self.p = opt, p
        self.group = opt.param_groups[0]
        state = opt._state_of(p, self.group)
        self.state: State = {k: v for k, v in state.items() if k != "step"}
        self.looks_ahead = type(opt).gradient_offset is not Optimizer.gradient_offset
        self.refresh()

    def refresh(self) -> None:
        """Read the group's hyperparameters again (after a schedule wrote them)."""
        opt, group = self.opt, self.group
        self.contiguous = opt._path(group, [(0, self.p)]) == "eager"
        self.hyper, self.prep = opt._hyper(group), opt._prep(group)

    def offset(self, p: Tensor, t: int) -> Tensor | None:
        """The look-ahead offset at which step ``t`` takes its gradient, or None. As in
        ``step()``, the first step (before any state exists) takes it at ``p``."""
        if not self.looks_ahead or t == 1:
            return None
        return self.opt.gradient_offset(p, self.state, self.group)

    def step(self, p: Tensor, g: Tensor, t: int) -> Tensor:
        """The parameter after step ``t`` from ``p`` with gradient ``g``; updates
        :attr:`state`."""
        if self.contiguous:  # the multi-tensor path copies the gradient into its chunk
            g = g.contiguous()
        new_p, self.state = apply_rule(self.opt.rule, p, g, self.state, t, self.hyper, **self.prep)
        return new_p


def stepper(opt: Any, p: Tensor) -> Stepper | None:
    """A :class:`Stepper` for ``opt`` over its one parameter ``p``, or None where ``opt``
    steps otherwise than its rule on the eager paths: not a ravine optimizer, a class with
    its own ``step``, one that mixes coordinates, compiled, a ``state_dtype``, the
    finiteness check on, or more than the one parameter."""
    if not isinstance(opt, Optimizer) or not plain_step(type(opt)):
        return None
    if not opt.elementwise or opt.state_dtype is not None or opt.check_finite:
        return None
    groups = opt.param_groups
    if len(groups) != 1 or len(groups[0]["params"]) != 1 or groups[0]["params"][0] is not p:
        return None
    if opt._path(groups[0], [(0, p)]) not in ("eager", None):
        return None
    return Stepper(opt, p)


def plain_step(cls: type) -> bool:
    """Whether ``cls`` (an optimizer class) steps by the shared ``Optimizer.step``, its rule
    on the eager paths: what :func:`stepper` serves. ``inspect.unwrap`` sees through
    ``no_grad`` and the profiling wrapper torch.optim puts around each class's ``step``."""
    own = getattr(cls, "step", None)
    return issubclass(cls, Optimizer) and inspect.unwrap(own) is inspect.unwrap(Optimizer.step)
