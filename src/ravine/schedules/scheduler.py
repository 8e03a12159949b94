"""The :class:`Scheduler`: applies schedules to named hyperparameters of an optimizer's param
groups, checks what it writes, and saves and restores its place."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..optim.base import Optimizer as RavineOptimizer
from .base import Schedule
from .checks import Value, fmt
from .grammar import parse

__all__ = ["Scheduler"]

_NAME = re.compile(r"^\s*([A-Za-z_]\w*)\s*(?:\[\s*(\d+)\s*\])?\s*$")


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    return isinstance(v, Tensor) and not v.is_complex() and v.dtype != torch.bool


def _schedulable(group: Mapping[str, Any]) -> list[str]:
    """Names of the numeric hyperparameters of a param group (``betas[0]`` for tuples)."""
    names = []
    for key, v in group.items():
        if key == "params" or key.startswith("initial_"):
            continue
        if _is_number(v):
            names.append(key)
        elif isinstance(v, tuple | list) and v and all(_is_number(x) for x in v):
            names.extend(f"{key}[{i}]" for i in range(len(v)))
    return names


def _snapshot(v: Any) -> Any:
    return v.detach().clone() if isinstance(v, Tensor) else v


def _replaced(old: Any, index: int | None, v: Value) -> Any:
    """``v`` in place of ``old``, or of its entry ``index`` (a tuple stays a tuple)."""
    if index is None:
        return v
    entries = list(old)
    entries[index] = v
    return type(old)(entries) if isinstance(old, tuple) else entries


def _one_number(metric: float | Tensor) -> float:
    if isinstance(metric, Tensor):
        if metric.numel() != 1:
            raise ValueError(
                f"Scheduler.step: metric must be one number, got a tensor of shape "
                f"{tuple(metric.shape)}"
            )
        metric = metric.item()
    return float(metric)


class Scheduler:
    """Applies schedules to named hyperparameters of an optimizer's param groups.

    ``schedules`` maps a hyperparameter name (``"lr"``, ``"momentum"``, ``"betas[0]"``,
    ``"decay"``, ``"eps"``, any numeric entry of the param groups; ``"name[i]"`` for entry
    ``i`` of a tuple) to a :class:`Schedule`, a spec string for :func:`parse`
    (``"cosine:1000"``), or a list of schedules, one per selected group. ``groups`` picks
    the param groups (indices; default all). Drive each hyperparameter from one scheduler
    only: the last one to write it wins.

    The value for step 0 is applied at construction (like ``torch.optim.lr_scheduler``);
    call :meth:`step` once after each ``optimizer.step()``; after ``n`` calls the groups hold
    the values for step ``n``. Relative schedules scale the value each group held when the
    scheduler was built. Works with ravine optimizers and with any ``torch.optim.Optimizer``;
    a ``torch.optim.lr_scheduler`` may drive other hyperparameters of the same optimizer.

    ``validate`` (default True) checks every applied value against a ravine optimizer's
    allowed ranges (a ValueError names the hyperparameter, step and range); with tensor
    values this reads them back from the device each step, so GPU races may pass False.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        schedules: Mapping[str, Schedule | Sequence[Schedule]],
        groups: Sequence[int] | None = None,
        *,
        validate: bool = True,
    ) -> None:
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(
                f"Scheduler: optimizer must be a torch.optim.Optimizer, "
                f"got {type(optimizer).__name__}"
            )
        if not isinstance(schedules, Mapping) or not schedules:
            raise ValueError(
                "Scheduler: schedules must be a non-empty mapping from hyperparameter name "
                "to schedule, e.g. {'lr': cosine(1000)}"
            )
        self.optimizer = optimizer
        self.validate = validate
        self.groups = self._select(groups)
        self.names: list[tuple[str, str, int | None]] = []
        self.schedules: dict[str, list[Schedule]] = {}
        for name, sched in schedules.items():
            key, index = self._resolve(name)
            self.names.append((name, key, index))
            self.schedules[name] = self._per_group(name, sched)
        self.initial: dict[str, list[Value]] = {
            name: [_snapshot(self._get(g, key, index)) for g in self.groups]
            for name, key, index in self.names
        }
        self.last_step = 0
        self._apply()

    # -- construction helpers ---------------------------------------------------------

    def _select(self, groups: Sequence[int] | None) -> list[int]:
        """The indices of the param groups to drive (negative ones counted from the end)."""
        n = len(self.optimizer.param_groups)
        if groups is None:
            return list(range(n))
        for g in groups:
            if isinstance(g, bool) or not isinstance(g, int) or not -n <= g < n:
                raise ValueError(
                    f"Scheduler: invalid group {g!r}; the optimizer has {n} param "
                    f"group(s): allowed indices 0..{n - 1}"
                )
        return [g % n for g in groups]

    def _resolve(self, name: str) -> tuple[str, int | None]:
        """``"betas[0]"`` -> ``("betas", 0)``, once each selected group is seen to hold a
        number there."""
        if not isinstance(name, str):
            raise ValueError(f"Scheduler: hyperparameter names are strings, got {name!r}")
        m = _NAME.match(name)
        for g in self.groups:
            self._check_name(name, m, g)
        assert m is not None
        return m.group(1), None if m.group(2) is None else int(m.group(2))

    def _check_name(self, name: str, m: re.Match[str] | None, g: int) -> None:
        """A ValueError unless param group ``g`` holds a number under ``name``; it lists the
        group's schedulable hyperparameters."""
        owner = type(self.optimizer).__name__
        group = self.optimizer.param_groups[g]
        valid = ", ".join(_schedulable(group)) or "(none)"
        if m is None:
            raise ValueError(
                f"Scheduler: malformed hyperparameter name {name!r}; write 'name' or "
                f"'name[i]'; {owner} param group {g} has: {valid}"
            )
        key, index = m.group(1), m.group(2)
        value = group.get(key)
        if key not in group or key == "params":
            raise ValueError(
                f"Scheduler: {owner} has no hyperparameter {key!r} (param group {g}); "
                f"schedulable hyperparameters: {valid}"
            )
        if index is None:
            if not _is_number(value):
                hint = (
                    f" (schedule {key}[0], {key}[1], ...)"
                    if isinstance(value, tuple | list)
                    else ""
                )
                raise ValueError(
                    f"Scheduler: {owner} hyperparameter {key!r} is {value!r}, not a "
                    f"number{hint}; schedulable hyperparameters: {valid}"
                )
        elif not isinstance(value, tuple | list) or not int(index) < len(value):
            raise ValueError(
                f"Scheduler: {owner} has no entry {name!r} (param group {g} holds "
                f"{key}={value!r}); schedulable hyperparameters: {valid}"
            )
        elif not _is_number(value[int(index)]):
            raise ValueError(
                f"Scheduler: {name!r} is {value[int(index)]!r}, not a number; "
                f"schedulable hyperparameters: {valid}"
            )

    def _per_group(self, name: str, sched: Any) -> list[Schedule]:
        if isinstance(sched, Schedule):
            return [sched] * len(self.groups)
        if isinstance(sched, str):
            return [parse(sched)] * len(self.groups)
        if isinstance(sched, Sequence) and all(isinstance(s, Schedule) for s in sched):
            if len(sched) != len(self.groups):
                raise ValueError(
                    f"Scheduler: {len(sched)} schedules for {name!r} but {len(self.groups)} "
                    "param group(s) selected; give one schedule, or one per group"
                )
            return list(sched)
        raise ValueError(
            f"Scheduler: the schedule for {name!r} must be a Schedule (e.g. cosine(1000)), a "
            f"spec string for parse(), or one Schedule per group; got {sched!r}"
        )

    def _get(self, g: int, key: str, index: int | None) -> Value:
        """The value of ``key`` (entry ``index``) in param group ``g``."""
        value = self.optimizer.param_groups[g][key]
        return value if index is None else value[index]

    def _metric_leaves(self) -> list[Schedule]:
        """Every metric-reading schedule inside the schedules, each once even if shared."""
        seen: dict[int, Schedule] = {}
        todo = [s for scheds in self.schedules.values() for s in scheds]
        while todo:
            s = todo.pop()
            kids = s.children()
            if kids:
                todo.extend(kids)
            elif s.needs_metric:
                seen.setdefault(id(s), s)
        return list(seen.values())

    # -- applying ----------------------------------------------------------------------

    def _apply(self) -> None:
        """Write each schedule's value for :attr:`last_step` into its param groups."""
        check = self.validate and isinstance(self.optimizer, RavineOptimizer)
        for name, key, index in self.names:
            for j, g in enumerate(self.groups):
                group = self.optimizer.param_groups[g]
                v = self.schedules[name][j].at(self.last_step, self.initial[name][j])
                old = group[key]
                group[key] = _replaced(old, index, v)
                if not check:
                    continue
                try:
                    self.optimizer.validate({key: group[key]})
                except ValueError as err:
                    group[key] = old
                    raise ValueError(
                        f"Scheduler: the schedule for {name!r} gives {fmt(v)} at step "
                        f"{self.last_step} (param group {g}), out of range: {err}"
                    ) from None

    def step(self, metric: float | Tensor | None = None) -> None:
        """Advance one step; call after each ``optimizer.step()``. ``metric`` feeds the
        metric-driven schedules (``reduce_on_plateau``), which then require it."""
        leaves = self._metric_leaves()
        if leaves:
            if metric is None:
                raise ValueError(
                    "Scheduler.step: a reduce_on_plateau schedule needs the metric: call "
                    "step(metric=validation_loss)"
                )
            value = _one_number(metric)
            for s in leaves:
                s.observe(value)
        self.last_step += 1
        self._apply()

    def values(self) -> list[dict[str, Value]]:
        """The current value of each scheduled hyperparameter, one dict per selected group."""
        return [
            {name: self._get(g, key, index) for name, key, index in self.names} for g in self.groups
        ]

    # -- checkpointing -----------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The step, the initial values and the state of stateful schedules."""
        return {
            "last_step": self.last_step,
            "groups": list(self.groups),
            "initial": {k: [_snapshot(v) for v in vs] for k, vs in self.initial.items()},
            "schedules": {k: [s.state_dict() for s in vs] for k, vs in self.schedules.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict` and re-apply the values for the restored step."""
        if set(state["schedules"]) != set(self.schedules):
            raise ValueError(
                f"Scheduler.load_state_dict: the saved state schedules "
                f"{sorted(state['schedules'])}, this scheduler {sorted(self.schedules)}"
            )
        if list(state["groups"]) != self.groups:
            raise ValueError(
                f"Scheduler.load_state_dict: saved for param groups {state['groups']}, "
                f"this scheduler drives {self.groups}"
            )
        self.last_step = int(state["last_step"])
        self.initial = {k: [_snapshot(v) for v in vs] for k, vs in state["initial"].items()}
        for k, vs in self.schedules.items():
            for s, st in zip(vs, state["schedules"][k], strict=True):
                s.load_state_dict(st)
        self._apply()

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v[0]!r}" for k, v in self.schedules.items())
        step = getattr(self, "last_step", None)
        return f"Scheduler({type(self.optimizer).__name__}, {{{inner}}}, step={step})"
