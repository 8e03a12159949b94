"""The schedules of a race: strings parsed once, each hyperparameter checked against its
optimizer, and every value each schedule will write over the race checked against the
hyperparameter's range, before any work."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..optim.registry import OptimizerInfo
from .entry import Entry, PlanError

__all__ = ["check_schedules", "has", "parse", "with_schedules"]


def with_schedules(entries: list[Entry], schedules: Any) -> list[Entry]:
    """The entries with their schedules (``label -> {hyperparameter: schedule}``), strings
    parsed once and every hyperparameter checked against its optimizer."""
    if not schedules:
        return entries
    if not isinstance(schedules, Mapping):
        raise TypeError(
            "schedules must be a mapping label -> {hyperparameter: schedule}, "
            f"got {type(schedules).__name__}"
        )
    labels = [e.label for e in entries]
    unknown = set(schedules) - set(labels)
    if unknown:
        raise PlanError(
            "schedules", f"schedules name unknown optimizers {sorted(unknown)}; racing {labels}"
        )
    out = []
    for e in entries:
        given = schedules.get(e.label)
        if given is None:
            out.append(e)
            continue
        if not isinstance(given, Mapping):
            raise PlanError(
                "schedules",
                f"schedules[{e.label!r}] must be a mapping hyperparameter -> schedule, "
                f"got {given!r}",
            )
        for hp in given:
            base = hp.split("[", 1)[0] if isinstance(hp, str) else hp
            if not has(e.info, base):
                raise PlanError(
                    "schedules",
                    f"optimizer {e.label!r}: {e.info.cls.__name__} has no hyperparameter "
                    f"{base!r} to schedule; its hyperparameters are: {', '.join(e.info.defaults)}",
                )
        parsed = {hp: parse(s, f"optimizer {e.label!r}, {hp}: ") for hp, s in given.items()}
        out.append(replace(e, schedule=parsed))
    return out


def has(info: OptimizerInfo, hyperparameter: Any) -> bool:
    names = info.hyperparameters
    return names is None or hyperparameter in names


def parse(schedule: Any, where: str) -> Any:
    """A schedule given as a string, parsed (once, here); any other value as it is."""
    if not isinstance(schedule, str):
        return schedule
    from .. import schedules

    try:
        return schedules.parse(schedule)
    except ValueError as err:
        raise PlanError("schedules", f"{where}{err}") from None


#: Steps of a schedule dry-run at most (a Scheduler step costs microseconds).
DRY_RUN_STEPS = 100_000


def check_schedules(entry: Entry, steps: int, dim: int) -> None:
    """Drive ``entry``'s schedules over the race's ``steps`` on a throwaway optimizer (its
    first lr and varying values), so that a hyperparameter the scheduler cannot drive
    (``betas`` rather than ``betas[0]``) or a value out of its range at any step is a
    PlanError now rather than an error mid-race. Metric-driven schedules (whose state a
    dry run would change) are only attached, and optimizers that need a model's layers
    are left to the race."""
    if not entry.schedule or entry.info.closure_kind == "model":
        return
    import torch

    from ..schedules import Scheduler

    values = {k: v[0] for k, v in entry.varying.items()}
    if entry.takes_lr:
        values["lr"] = entry.lrs[0]
    x = torch.zeros(1, dim, dtype=torch.float64, requires_grad=True)
    where = f"optimizer {entry.label!r}: "
    try:
        optimizer = entry.info.build([x], **entry.fixed, **values)
    except (TypeError, ValueError):
        return  # the entry's own checks name it; the race reports what remains
    try:
        scheduler = Scheduler(optimizer, dict(entry.schedule))
        if any(s.needs_metric for s in entry.schedule.values() if hasattr(s, "needs_metric")):
            return
        for _ in range(min(steps, DRY_RUN_STEPS)):
            scheduler.step()
    except ValueError as err:
        raise PlanError("schedules", f"{where}{err}") from None
