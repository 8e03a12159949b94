"""What torch.optim's users bring to a ravine optimizer, taken as torch takes it.

* numpy scalars as hyperparameters (``lr=np.float32(0.01)``): read as the Python number
  they hold, which is the value torch's kernels use;
* the keywords that choose how an optimizer runs (:func:`machinery`), torch's among them:
  ``foreach`` and ``fused`` choose ravine's paths (``fused=True`` is ``compile=True``),
  ``capturable`` and ``differentiable`` are refused when True (ravine has neither
  CUDA-graph capture nor a differentiable step);
* torch's ``state_dict``: see :mod:`ravine.optim.loading`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from .constraints import BOOL, OPTIONAL_BOOL

__all__ = ["machinery", "plain", "plain_group"]


def plain(value: Any) -> Any:
    """``value`` with numpy scalars (also inside tuples and lists) as Python numbers."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list):
        return type(value)(plain(v) for v in value)
    return value


def plain_group(group: Mapping[str, Any]) -> dict[str, Any]:
    """A param group (or defaults) with every hyperparameter through :func:`plain`."""
    return {k: v if k == "params" else plain(v) for k, v in group.items()}


def machinery(
    owner: str,
    *,
    check_finite: bool,
    foreach: bool | None,
    compile: bool | None,
    state_dtype: torch.dtype | None,
    fused: bool | None,
    capturable: bool,
    differentiable: bool,
) -> bool | None:
    """Check the keywords that choose how an optimizer runs, not what it computes; returns
    the ``compile`` setting, which torch's ``fused`` sets where given (``fused=True`` is
    ``compile=True``). ``ValueError`` names a bad value, or the torch options ravine does
    not have (``capturable=True``, ``differentiable=True``)."""
    BOOL.check("check_finite", check_finite, owner)
    for name, value in (("foreach", foreach), ("compile", compile), ("fused", fused)):
        OPTIONAL_BOOL.check(name, value, owner)
    for name, value in (("capturable", capturable), ("differentiable", differentiable)):
        if value is not False:
            raise ValueError(
                f"{owner}: {name}={value!r} is not supported (ravine's step is neither "
                f"CUDA-graph capturable nor differentiable); allowed: {name}=False"
            )
    if state_dtype is not None and not (
        isinstance(state_dtype, torch.dtype) and state_dtype.is_floating_point
    ):
        raise ValueError(
            f"{owner}: invalid state_dtype={state_dtype!r}; allowed: None (the "
            "parameter's dtype) or a floating torch.dtype such as torch.float32"
        )
    if fused is None:
        return compile
    if compile is not None and compile != fused:
        raise ValueError(f"{owner}: fused={fused} contradicts compile={compile}")
    return fused
