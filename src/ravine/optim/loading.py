"""Loading a state dict: ravine's own, or the matching ``torch.optim`` optimizer's.

torch's state keys (``exp_avg``, ``momentum_buffer``, ...) are renamed to the rule's
(each class's ``torch_state``), what torch does not keep is completed (``complete_state``),
and every key the rule needs is checked before anything is loaded: a state dict that cannot
work is refused at load time with an error naming what is missing, never a ``KeyError`` at
the next step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from torch import Tensor

from .torch_compat import plain

__all__ = ["StateLoading", "translate_state"]


class StateLoading:
    """The ``load_state_dict`` of :class:`ravine.optim.base.Optimizer` (a mixin over
    ``torch.optim.Optimizer``)."""

    # torch's state keys where they differ from the rule's: torch's key -> the rule's.
    torch_state: ClassVar[Mapping[str, str]] = {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """torch's ``load_state_dict``, which also takes the matching ``torch.optim``
        optimizer's state dict: its state keys are renamed (:attr:`torch_state`), the keys a
        saved group lacks keep this optimizer's values (as torch's ``__setstate__`` does
        for new options), and a state that lacks what the rule needs is refused here with
        a ``ValueError`` naming it, before anything is loaded. The multi-tensor buckets are
        rebuilt on the next step. torch casts floating state to the parameter's dtype:
        with a ``state_dtype``, the saved values are taken again in that dtype."""
        params = [p for g in self.param_groups for p in g["params"]]
        if self.elementwise:
            state_dict = translate_state(
                type(self).__name__,
                state_dict,
                params,
                self.torch_state,
                lambda p, group: {"step", *self.init_state(p, self._merged(group))},
                lambda p, state, group: self.complete_state(p, state, self._merged(group)),
            )
        before = [dict(g) for g in self.param_groups]
        self._buckets.clear()
        super().load_state_dict(state_dict)
        for group, old in zip(self.param_groups, before, strict=True):
            for key, value in old.items():
                group.setdefault(key, value)
        if self.state_dtype is None:
            return
        saved = [i for g in state_dict["param_groups"] for i in g["params"]]
        for pid, p in zip(saved, params, strict=True):
            for k, v in state_dict["state"].get(pid, {}).items():
                if k != "step" and isinstance(v, Tensor) and v.is_floating_point():
                    self.state[p][k] = v.to(device=p.device, dtype=self.state_dtype)

    def _merged(self, saved_group: Mapping[str, Any]) -> dict[str, Any]:
        """A saved param group over this optimizer's defaults (for keys it lacks)."""
        return {**self.defaults, **{k: plain(v) for k, v in saved_group.items()}}

    def complete_state(self, p: Tensor, state: dict[str, Any], group: Mapping[str, Any]) -> None:
        """Add to a loaded ``state`` of ``p`` what torch's optimizer does not keep but the
        rule needs (e.g. the step count torch's SGD does not store); by default nothing."""


def translate_state(
    owner: str,
    state_dict: Mapping[str, Any],
    params: list[Tensor],
    renames: Mapping[str, str],
    expected: Callable[[Tensor, dict[str, Any]], set[str]],
    complete: Callable[[Tensor, dict[str, Any], dict[str, Any]], None],
) -> dict[str, Any]:
    """``state_dict`` with torch's state keys renamed (``renames``: torch's key -> the
    rule's), each parameter's state completed (``complete(p, state, group)`` adds what
    torch does not keep, e.g. SGD's step count) and checked against ``expected(p, group)``:
    a ``ValueError`` names the parameter and its missing keys before anything is loaded.

    ``params`` are the optimizer's parameters in param-group order, as the saved ids are."""
    groups = state_dict.get("param_groups", [])
    saved = [(pid, g) for g in groups for pid in g["params"]]
    if len(saved) != len(params):
        return dict(state_dict)  # torch's own load_state_dict reports the mismatch
    state = {}
    for (pid, group), p in zip(saved, params, strict=True):
        entry = state_dict.get("state", {}).get(pid)
        if entry is None:
            continue
        entry = {renames.get(k, k): v for k, v in entry.items()}
        if entry:
            complete(p, entry, group)
            missing = sorted(expected(p, group) - set(entry))
            if missing:
                raise ValueError(
                    f"{owner}.load_state_dict: the state of parameter {pid} lacks "
                    f"{', '.join(missing)} (it holds {', '.join(sorted(entry)) or 'nothing'}): "
                    "this state dict comes from another optimizer or another convention"
                )
        state[pid] = entry
    return {**state_dict, "state": state}
