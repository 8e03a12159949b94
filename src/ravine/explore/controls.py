"""The page's hyperparameter controls, generated from the registry: each optimizer's
defaults and declared constraints (:mod:`ravine.optim.constraints`) become sliders, switches
and menus, so that a newly registered optimizer appears on the page with no page change.

A control is a JSON object with ``name``, ``kind`` and ``default``:

* ``"log"``: a positive number on a log slider from ``low`` to ``high`` (learning rates, eps);
* ``"linear"``: a number on a linear slider from ``low`` to ``high`` (momentum, decay rates);
* ``"number"``: a number typed in, at least ``low`` (weight decay, damping);
* ``"integer"``: a whole number from ``low`` to ``high``;
* ``"switch"``: a convention switch (True or False);
* ``"choice"``: one of ``options``;
* ``"betas"``: ``count`` linear sliders, each in ``[0, high]``.

The ranges are those of the sliders; the server checks every value sent back against the
optimizer's own constraints (:meth:`OptimizerInfo.check`), never against these.
"""

from __future__ import annotations

import math
from typing import Any

from ..optim.constraints import Betas, Choice, Integer, Range, Scalar
from ..optim.registry import OptimizerInfo

__all__ = ["INTEGER_CAP", "LR_DECADES", "control", "controls"]

#: A learning-rate slider spans this many decades either side of its default.
LR_DECADES = 3
#: The largest whole number the explorer accepts for an integer hyperparameter (iteration
#: counts such as ``max_iter``): a request cannot ask for unbounded work.
INTEGER_CAP = 1000
#: The top of a slider over [0, 1): the end point itself is excluded.
UNIT_TOP = 0.9999


def controls(info: OptimizerInfo, lr: float | None = None) -> list[dict[str, Any]]:
    """The controls of every hyperparameter of ``info`` that has one, in the constructor's
    order; ``lr``: the learning rate to start the slider at (the landscape's suggestion)."""
    out = []
    for name, default in info.defaults.items():
        if name == "lr" and lr is not None:
            default = lr
        made = control(name, default, info.constraint(name))
        if made is not None:
            out.append(made)
    return out


def control(name: str, default: Any, constraint: Any) -> dict[str, Any] | None:
    """One hyperparameter's control, or None where its values have no control (a free
    keyword of a torch class, a default of None)."""
    if isinstance(constraint, Scalar):
        constraint = constraint.inner
    base = {"name": name, "default": _jsonable(default)}
    if isinstance(constraint, Choice):
        if all(isinstance(o, bool) for o in constraint.options):
            return {**base, "kind": "switch"}
        options = [_jsonable(o) for o in constraint.options]
        return {**base, "kind": "choice", "options": options}
    if isinstance(constraint, Betas) and isinstance(default, tuple | list):
        return {**base, "kind": "betas", "count": constraint.count, "high": UNIT_TOP}
    if isinstance(constraint, Integer) and isinstance(default, int):
        high = INTEGER_CAP if constraint.high is None else min(constraint.high, INTEGER_CAP)
        return {**base, "kind": "integer", "low": constraint.low, "high": high}
    if isinstance(constraint, Range) and isinstance(default, int | float):
        return _range(base, float(default), constraint)
    return None


def _range(base: dict[str, Any], default: float, r: Range) -> dict[str, Any]:
    """A slider or number box for a real interval."""
    if r.low >= 0 and r.high <= 1:
        top = min(r.high, UNIT_TOP) if r.high_open else r.high
        return {**base, "kind": "linear", "low": r.low, "high": top}
    if default > 0 and r.high == math.inf:
        decades = 10.0**LR_DECADES
        return {**base, "kind": "log", "low": default / decades, "high": default * decades}
    low = r.low if math.isfinite(r.low) else None
    return {**base, "kind": "number", "low": low}


def _jsonable(value: Any) -> Any:
    """A default as JSON writes it: tuples as lists, anything else left as is."""
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value
