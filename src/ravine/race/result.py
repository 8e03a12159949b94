"""The result of a race: every optimizer's trajectories as tensors with named axes."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from ..landscapes import Landscape
from .measures import ESCAPED, OUTCOMES

__all__ = ["RaceResult", "Run"]


@dataclass
class Run:
    """The trajectories of one optimizer, as tensors with named axes.

    ``axes`` names the grid axes and is always ``("lr", *varying, "start", "seed")``: one
    axis per learning rate, per other hyperparameter given as a list, per start point and
    per seed. With ``grid = [len(coords[a]) for a in axes]``:

    * ``positions``: ``[*grid, steps + 1, dim]``, the start and the position after each step
      (NaN after a divergence);
    * ``losses``, ``grad_norms``: ``[*grid, steps + 1]``, the landscape's (noise-free,
      full-data) loss and gradient norm at each position;
    * ``outcome``: ``[*grid]`` codes into :data:`OUTCOMES`; ``minimum``: index into
      ``landscape.minima`` (saddle outcome: into ``landscape.saddles``), -1 if none;
      ``diverged_step``: the step at which a trajectory left the box (diverged or
      escaped), -1 if it did not;
      ``arrival_step``: the first step from which it stayed within ``tol`` of its minimum.
    """

    label: str
    optimizer: str
    hyperparameters: dict[str, Any]
    axes: tuple[str, ...]
    coords: dict[str, Any]
    positions: Tensor
    losses: Tensor
    grad_norms: Tensor
    outcome: Tensor
    minimum: Tensor
    diverged_step: Tensor
    arrival_step: Tensor
    batched: bool

    def __repr__(self) -> str:
        # A summary (grid, steps, outcomes), never the trajectory tensors.
        return f"Run({self.label!r}: {self._line()})"

    def _line(self) -> str:
        """One line: the optimizer, the grid's axes and sizes, steps, outcomes counted."""
        sizes = zip(self.axes, self.grid_shape, strict=True)
        grid = " x ".join(f"{n} {axis}{'s' if n > 1 else ''}" for axis, n in sizes)
        steps = self.positions.shape[-2] - 1
        counts = [(name, int((self.outcome == c).sum())) for c, name in enumerate(OUTCOMES)]
        outcomes = ", ".join(f"{n} {name}" for name, n in counts if n)
        return f"{self.optimizer}, {grid}, {steps} steps: {outcomes}"

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(self.outcome.shape)

    @property
    def lrs(self) -> list[float]:
        return [float(v) for v in self.coords["lr"]]

    def outcome_names(self) -> list[str]:
        """The outcome of every trajectory, flattened in grid order."""
        return [OUTCOMES[int(c)] for c in self.outcome.flatten()]

    def trajectories(self) -> Iterator[tuple[dict[str, Any], Tensor]]:
        """(coordinates, positions ``[steps + 1, dim]``) for every trajectory, in grid order."""
        flat = self.positions.reshape(-1, *self.positions.shape[-2:])
        grid = itertools.product(*(range(n) for n in self.grid_shape))
        for k, index in enumerate(grid):
            where = {}
            for axis, i in zip(self.axes, index, strict=True):
                value = self.coords[axis][i]
                where[axis] = value.tolist() if isinstance(value, Tensor) else value
            yield where, flat[k]

    def final_losses(self) -> Tensor:
        """Loss at the last recorded position: inf where the trajectory diverged, -inf
        where it escaped downhill (its loss unbounded below)."""
        last = self.losses[..., -1].clone()
        last = torch.where(self.diverged_step >= 0, torch.full_like(last, math.inf), last)
        return last.masked_fill(self.outcome == ESCAPED, -math.inf)


@dataclass
class RaceResult:
    """Every optimizer's :class:`Run` on one landscape, plus the race's settings."""

    landscape: Landscape
    runs: dict[str, Run]
    steps: int
    starts: Tensor
    seeds: tuple[int, ...]
    tol: float
    bound: tuple[Tensor, Tensor]
    schedules: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        # A summary (landscape, optimizers, grids, outcomes), never the tensors.
        width = max((len(label) for label in self.runs), default=0)
        lines = [f"RaceResult on {self.landscape.settings()}: {len(self.runs)} optimizer(s)"]
        lines += [f"  {label:<{width}}  {run._line()}" for label, run in self.runs.items()]
        return "\n".join(lines)

    def __getitem__(self, label: str) -> Run:
        return self.runs[label]

    @property
    def labels(self) -> list[str]:
        return list(self.runs)

    def settings(self) -> str:
        """One line stating the race's settings, for figure captions."""
        parts = [self.landscape.settings(), f"{self.steps} steps", "lr: " + self._lrs()]
        if len(self.starts) > 1:
            parts.append(f"{len(self.starts)} starts")
        for label, run in self.runs.items():
            shown = ", ".join(f"{k}={format_value(v)}" for k, v in run.hyperparameters.items())
            varying = [a for a in run.axes if a not in {"lr", "start", "seed"}]
            shown = ", ".join(filter(None, [shown, *(f"{a} varies" for a in varying)]))
            if shown:
                parts.append(f"{label}: {shown}")
        if self.landscape.stochastic:
            parts.append(f"{len(self.seeds)} seed(s)")
        if self.schedules:
            parts.append("scheduled: " + ", ".join(self.schedules))
        return "; ".join(parts)

    def _lrs(self) -> str:
        """The learning rates of the caption: per optimizer, or once when all share them."""
        grids = {tuple(run.lrs) for run in self.runs.values()}
        if len(grids) == 1 and len(self.runs) > 1:
            values = next(iter(grids))
            if len(values) == 1:
                return f"{values[0]:g} for all"
            return f"{len(values)} values {min(values):g}..{max(values):g} for all"
        lrs = []
        for label, run in self.runs.items():
            values = run.lrs
            if len(values) == 1:
                lrs.append(f"{label} {values[0]:g}")
            else:
                lrs.append(f"{label} {len(values)} lrs {min(values):g}..{max(values):g}")
        return ", ".join(lrs)

    def summary(self) -> list[tuple[str, ...]]:
        """A table: one row per optimizer and learning rate, outcomes counted over the rest."""
        rows = [("optimizer", "lr", "final loss (median)", *OUTCOMES)]
        for label, run in self.runs.items():
            final = run.final_losses()
            for i, lr in enumerate(run.lrs):
                codes = run.outcome[i].flatten()
                counts = [str(int((codes == c).sum())) for c in range(len(OUTCOMES))]
                med = float(final[i].flatten().median())
                rows.append((label, f"{lr:g}", f"{med:.4g}", *counts))
        return rows


def format_value(value: Any) -> str:
    """A hyperparameter value as captions and tables write it: ``0.001``, ``(0.9, 0.999)``."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)
