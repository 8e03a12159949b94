"""What a study searched: per optimizer, each hyperparameter's values as the spec gave them
(fixed, a grid, or a range sampled by random search) and the schedules it ran with.

Read from the spec the store keeps, so that a random search's hyperparameters are described
as the ranges they were sampled from, not as the grid of values that happened to be drawn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["protocol_kind", "search_space"]

_RESERVED = {"name", "label", "schedules"}


def protocol_kind(spec: dict[str, Any]) -> str:
    """``grid``, ``two_stage`` or ``random`` from a stored spec (a string in old stores)."""
    protocol = spec.get("protocol") or "grid"
    return protocol.get("kind", "grid") if isinstance(protocol, dict) else str(protocol)


def _g(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def describe(values: Any, sampled: bool) -> str:
    """One hyperparameter's values (a list or a :class:`~ravine.study.values.Range`) in words."""
    from ..study.values import Range

    if isinstance(values, Range):
        lo, hi = _g(values.low), _g(values.high)
        if sampled:
            kind = "log-uniformly" if values.kind == "log" else "uniformly"
            return f"sampled {kind} from {lo} to {hi}"
        spacing = "log-spaced" if values.kind == "log" else "evenly spaced"
        return f"grid of {values.n} {spacing} values from {lo} to {hi}"
    shown = ", ".join(_g(v) for v in values)
    if len(values) == 1:
        return f"fixed at {shown}"
    return f"sampled from [{shown}]" if sampled else f"grid [{shown}]"


def search_space(spec: dict[str, Any]) -> list[dict[str, str]]:
    """One row per optimizer and hyperparameter of the stored ``spec``: ``optimizer``,
    ``hyperparameter`` and ``values`` (in words); then its ``schedules``."""
    from ..study.values import SpecError, expand_values

    sampled = protocol_kind(spec) == "random"
    rows = []
    for entry in spec.get("optimizers") or []:
        label = str(entry.get("label") or entry.get("name"))
        for hp, raw in entry.items():
            if hp in _RESERVED:
                continue
            try:
                text = describe(expand_values(hp, raw), sampled)
            except SpecError:
                text = str(raw)
            rows.append({"optimizer": label, "hyperparameter": hp, "values": text})
        for hp, schedule in sorted((entry.get("schedules") or {}).items()):
            rows.append(
                {"optimizer": label, "hyperparameter": hp, "values": f"schedule {schedule}"}
            )
    return rows
