"""What a rule is, and the preprocessing every way of applying one shares.

An algorithm is written once, as a *rule*: a pure function of plain torch ops (see
:mod:`ravine.optim.base`). :func:`apply_rule` wraps it with the shared handling of
``maximize`` and weight decay; the per-tensor reference, the multi-tensor path and the
compiled kernel all call it, so none of them writes that handling again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "Rule",
    "State",
    "apply_rule",
    "arguments",
    "check_broadcast",
    "is_scalar",
    "keyword_only",
    "zeros",
]

State = dict[str, Tensor]
Rule = Callable[..., tuple[Tensor, State]]


def apply_rule(
    rule: Rule,
    p: Tensor,
    g: Tensor,
    state: Mapping[str, Any],
    t: Any,
    hyper: Mapping[str, Any],
    *,
    lr: Any,
    weight_decay: Any,
    maximize: bool,
    decoupled: bool,
) -> tuple[Tensor, State]:
    """``rule`` with the shared preprocessing, the one place it is written: every path runs
    it (per tensor, multi-tensor and compiled).

    ``maximize`` negates the gradient; ``weight_decay`` (None for none) is coupled L2, added
    to the gradient as ``weight_decay * p``, or with ``decoupled`` shrinks the parameter
    first, ``p (1 - lr weight_decay)`` (AdamW)."""
    if decoupled and weight_decay is not None:
        p = p * (1 - lr * weight_decay)
    if maximize:
        g = -g
    if not decoupled and weight_decay is not None:
        g = g + weight_decay * p
    return rule(p, g, state, t, **hyper)


def zeros(p: Tensor) -> Tensor:
    """A zero state buffer shaped, typed and laid out like ``p``."""
    return torch.zeros_like(p, memory_format=torch.preserve_format)


def check_broadcast(
    owner: str, gi: int, params: Iterable[tuple[int, Tensor]], values: Mapping[str, Any]
) -> None:
    """Refuse a tensor hyperparameter of group ``gi`` (``values``: name -> value) that would
    enlarge one of ``params`` (index, parameter) when broadcast against it, naming both."""
    tensors = [(k, v) for k, v in _named(values) if isinstance(v, Tensor) and v.numel() > 1]
    for pi, p in params if tensors else ():
        for name, v in tensors:
            shape = _broadcast(tuple(p.shape), tuple(v.shape))
            if shape == tuple(p.shape):
                continue
            what = (
                f"does not broadcast against parameter {pi} of shape {tuple(p.shape)}"
                if shape == (-1,)
                else f"broadcasts parameter {pi} from {tuple(p.shape)} to {shape}"
            )
            raise ValueError(
                f"{owner}: hyperparameter {name} (a tensor of shape {tuple(v.shape)}) of group "
                f"{gi} {what}; tensor hyperparameters must broadcast against the parameter "
                "without enlarging it"
            )


def _broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast of two shapes, or ``(-1,)`` when they do not broadcast (a shape no
    parameter has). Plain Python: ``torch.broadcast_shapes`` costs 30 microseconds a call,
    a tenth of a small race's step."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            return (-1,)
        out.append(y if x == 1 else x)
    return tuple(out)


def _named(values: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """``values`` with tuples spelled out: ``betas`` -> ``betas[0]``, ``betas[1]``."""
    out: list[tuple[str, Any]] = []
    for k, v in values.items():
        if isinstance(v, tuple | list):
            out += _named({f"{k}[{i}]": x for i, x in enumerate(v)})
        else:
            out.append((k, v))
    return out


def as_number(value: Any) -> Any:
    """A one-element tensor hyperparameter as a 0-d tensor (tuples element by element): on
    the multi-tensor path a ``[1, 1]`` lr would otherwise broadcast a flat chunk to 2-D."""
    if isinstance(value, tuple | list):
        return type(value)(as_number(v) for v in value)
    if isinstance(value, Tensor) and value.numel() == 1 and value.dim() > 0:
        return value.reshape(())
    return value


def is_scalar(value: Any) -> bool:
    """Whether a hyperparameter value is one number (a Python number, a one-element tensor,
    or a tuple of such), as the multi-tensor path needs."""
    if type(value) in (float, int, bool):
        return True
    if isinstance(value, tuple | list):
        return all(is_scalar(v) for v in value)
    return not isinstance(value, Tensor) or value.numel() == 1


def arguments(local_vars: Mapping[str, Any], **fixed: Any) -> dict[str, Any]:
    """The arguments of a subclass ``__init__``, from its ``locals()``, to pass on to
    :class:`Optimizer`: ``super().__init__(**arguments(locals()))``. Keywords in ``fixed``
    are added (or override), e.g. ``decoupled_weight_decay=True`` for AdamW."""
    args = {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}
    return args | fixed


def keyword_only(rule: Rule) -> tuple[str, ...]:
    """The names of ``rule``'s keyword-only arguments: its hyperparameters."""
    sig = inspect.signature(rule)
    return tuple(
        name for name, prm in sig.parameters.items() if prm.kind is inspect.Parameter.KEYWORD_ONLY
    )
