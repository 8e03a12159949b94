"""The race plan: the arguments of a race checked and resolved once, before any work.

:meth:`RacePlan.build` turns the arguments of :func:`ravine.race` into a frozen plan: the
landscape, one :class:`Entry` per optimizer (its
:class:`~ravine.optim.registry.OptimizerInfo`, learning rates, fixed and varying
hyperparameters, schedules parsed), the start points, seeds and steps, the divergence box
and the arrival tolerance. Every check happens here, and each refusal is a
:class:`PlanError` naming the argument at fault, so a race never fails once its work has
begun and the command line can point at the flag that set the argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import Tensor

from .. import landscapes
from ..landscapes import Landscape
from ..optim.registry import OptimizerInfo, resolve
from .entry import Entry, PlanError, build_entry, default_lr
from .scheduling import check_schedules, has, parse, with_schedules

__all__ = ["Entry", "PlanError", "RacePlan", "check_raceable", "default_lr", "log_grid"]


@dataclass(frozen=True)
class RacePlan:
    """A race ready to run (:func:`ravine.race.run`); build it with :meth:`build`."""

    landscape: Landscape
    entries: tuple[Entry, ...]
    starts: Tensor
    seeds: tuple[int, ...]
    steps: int
    tol: float
    box: tuple[Tensor, Tensor]
    dtype: torch.dtype

    @classmethod
    def build(
        cls,
        landscape: Landscape | str,
        optimizers: Any,
        *,
        lrs: float | Sequence[float] | Tensor | None = None,
        starts: Any = None,
        steps: int = 100,
        seeds: int | Sequence[int] = (0,),
        schedules: Mapping[str, Mapping[str, Any]] | None = None,
        tol: float | None = None,
        bound: float = 10.0,
        dtype: torch.dtype = torch.float64,
    ) -> RacePlan:
        """The plan of :func:`ravine.race` with these arguments (see there for each).

        Raises :class:`PlanError` (a ValueError) naming the argument whose value cannot be
        raced, TypeError for an argument of the wrong kind."""
        land = _landscape(landscape)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
            raise PlanError("steps", f"steps must be an integer >= 0, got {steps!r}")
        seed_list = [seeds] if isinstance(seeds, int) else list(seeds)
        if not seed_list or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in seed_list
        ):
            raise PlanError("seeds", f"seeds must be integers >= 0 (at least one), got {seeds!r}")
        if not (isinstance(bound, int | float) and bound >= 1):
            raise PlanError("bound", f"bound must be a number >= 1, got {bound!r}")
        entries = [build_entry(land, label, spec, lrs) for label, spec in _items(optimizers)]
        for entry in entries:
            _check_model(land, entry.info, entry.label)
        labels = [e.label for e in entries]
        if len(set(labels)) != len(labels):
            raise PlanError("optimizers", f"optimizer labels must be distinct, got {labels}")
        entries = with_schedules(entries, schedules)
        for entry in entries:
            check_schedules(entry, steps, land.dim)
        start_pts = _starts(land, starts, dtype)
        lo, hi = land.box(dtype)
        centre, half = (lo + hi) / 2, (hi - lo) / 2
        if tol is None:
            tol = 1e-3 * float((hi - lo).norm())
        if not (isinstance(tol, int | float) and tol > 0):
            raise PlanError("tol", f"tol must be a number > 0, got {tol!r}")
        box = (centre - bound * half, centre + bound * half)
        return cls(land, tuple(entries), start_pts, tuple(seed_list), steps, float(tol), box, dtype)

    @property
    def labels(self) -> list[str]:
        return [e.label for e in self.entries]

    @property
    def schedules(self) -> dict[str, dict[str, Any]]:
        """``label -> {hyperparameter: schedule}`` of the optimizers given schedules."""
        return {e.label: e.schedule for e in self.entries if e.schedule is not None}

    def grid(self, entry: Entry) -> tuple[int, ...]:
        """The shape of ``entry``'s trajectories, one length per axis of ``entry.axes``."""
        varying = (len(v) for v in entry.varying.values())
        return (len(entry.lrs), *varying, len(self.starts), len(self.seeds))

    @property
    def work(self) -> int:
        """Trajectory-steps in all: what the race's ``progress`` callback counts up to."""
        return self.steps * sum(math.prod(self.grid(e)) for e in self.entries)

    def scheduled(self, hyperparameter: str, schedule: Any) -> RacePlan:
        """This plan with ``schedule`` (a schedule, or a string for ``ravine.schedules.parse``)
        driving ``hyperparameter`` of every optimizer that has it, replacing an earlier
        schedule of it; PlanError when none has it."""
        base = hyperparameter.split("[", 1)[0]
        parsed = parse(schedule, "")
        having = {e.label for e in self.entries if has(e.info, base)}
        if not having:
            raise PlanError(
                "schedules",
                f"none of {', '.join(self.labels)} has a hyperparameter {base!r}",
            )
        entries = tuple(
            replace(e, schedule={**(e.schedule or {}), hyperparameter: parsed})
            if e.label in having
            else e
            for e in self.entries
        )
        for entry in entries:
            if entry.label in having:
                check_schedules(entry, self.steps, self.landscape.dim)
        return replace(self, entries=entries)


def log_grid(low: float, high: float, n: int) -> list[float]:
    """``n`` learning rates log-spaced from ``low`` to ``high``, both included (``ravine race
    --lr-grid`` and the explorer's fan); the caller checks ``0 < low < high`` and ``n >= 2``."""
    return [low * (high / low) ** (k / (n - 1)) for k in range(n)]


def check_raceable(landscape: Landscape, optimizer: str | type, label: str | None = None) -> None:
    """Raise ValueError, naming the landscapes that would do, when ``optimizer`` (a name or a
    class) needs a model's outputs or layers that ``landscape`` does not define."""
    info = resolve(optimizer)
    _check_model(landscape, info, label or (optimizer if isinstance(optimizer, str) else info.name))


def _check_model(landscape: Landscape, info: OptimizerInfo, label: str) -> None:
    kind, model, name = info.closure_kind, landscape.model, info.cls.__name__
    if kind == "outputs" and model is None:
        raise PlanError(
            "optimizers",
            f"optimizer {label!r}: {name} needs a model's outputs and per-example losses, "
            f"which {landscape.name} does not define; race it on {_have('outputs')}",
        )
    if kind == "model" and (model is None or model.inputs is None):
        raise PlanError(
            "optimizers",
            f"optimizer {label!r}: {name} needs the layers of a model, and "
            f"{landscape.name} is not a linear model; race it on {_have('layers')}",
        )


def _have(what: str) -> str:
    names = []
    for name in landscapes.names():
        try:
            model = landscapes.get(name).model
        except Exception:  # a landscape that cannot be built with its defaults
            continue
        if model is not None and (what == "outputs" or model.inputs is not None):
            names.append(name)
    return "one of " + ", ".join(names) + (" (without added noise)" if what == "outputs" else "")


def _landscape(landscape: Landscape | str) -> Landscape:
    if isinstance(landscape, str):
        try:
            return landscapes.get(landscape)
        except ValueError as err:
            raise PlanError("landscape", str(err)) from None
    if not isinstance(landscape, Landscape):
        raise TypeError(f"landscape must be a Landscape or a name, got {type(landscape).__name__}")
    return landscape


def _items(optimizers: Any) -> list[tuple[Any, Any]]:
    """``(label, hyperparameters)`` pairs from the forms ``optimizers`` may take."""
    if isinstance(optimizers, str | type):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        items = list(optimizers.items())
    elif isinstance(optimizers, Sequence):
        items = [(o if isinstance(o, str) else o.__name__, {"optimizer": o}) for o in optimizers]
    else:
        raise TypeError(
            "optimizers must be a name, a class, a list of them, or a mapping label -> "
            f"hyperparameters; got {type(optimizers).__name__}"
        )
    if not items:
        raise PlanError("optimizers", "optimizers: give at least one optimizer")
    return items


def _starts(landscape: Landscape, starts: Any, dtype: torch.dtype) -> Tensor:
    if starts is None:
        if not landscape.default_start:
            raise PlanError("starts", f"{landscape.name} has no default start; pass starts=")
        return landscape.start(dtype)[None]
    s = torch.as_tensor(starts, dtype=dtype)
    if s.ndim == 1:
        s = s[None]
    if s.ndim != 2 or s.shape[-1] != landscape.dim or s.shape[0] == 0:
        raise PlanError(
            "starts",
            f"starts must be one point or a list of points with {landscape.dim} coordinates "
            f"each, got shape {tuple(s.shape)}",
        )
    if not torch.isfinite(s).all():
        raise PlanError("starts", "starts must be finite")
    lo, hi = landscape.box(dtype)
    outside = ~((s >= lo) & (s <= hi)).all(dim=1)
    if bool(outside.any()):  # it would count as diverged before its first step
        point = [round(float(c), 6) for c in s[int(outside.nonzero()[0])]]
        domain = " x ".join(f"[{a:g}, {b:g}]" for a, b in landscape.domain)
        raise PlanError("starts", f"start {point} lies outside {landscape.name}'s domain {domain}")
    return s
