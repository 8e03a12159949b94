"""The typed records a study passes from stage to stage, each parsed once where it enters.

* :class:`Interval` a budget or an evaluation interval: ``N`` epochs or ``N`` steps;
* :class:`ProblemSpec` and :class:`OptimizerSpec` the spec's entries, validated;
* :class:`TrialConfig` one trial: what the protocols make, the store keeps (as the JSON of
  :meth:`TrialConfig.to_dict`, whose SHA-256 identifies the trial) and the executors run;
* :class:`MetricRow` one evaluation of a trial (:data:`METRIC_COLUMNS`);
* :class:`EpochEvent` what a running trial reports after each epoch;
* :class:`TrialResult` what a trial returns and the store commits;
* :class:`StoredTrial` a trial as the store holds it: its config and where it stands.

A :class:`TrialConfig` resolves its optimizer through :func:`ravine.optim.registry.resolve`
once (:attr:`TrialConfig.info`), however many times the batching, the trial and the display
ask. Its schedules are kept as their strings: a schedule has state (``reduce_on_plateau``
watches the metric), so each run builds its own from the text (:meth:`TrialConfig.scheduler`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    import torch

    from ..optim.registry import OptimizerInfo
    from .values import Values

__all__ = [
    "DIVERGE_FACTOR",
    "FINISHED",
    "METRIC_COLUMNS",
    "EpochEvent",
    "Interval",
    "MetricRow",
    "OptimizerSpec",
    "ProblemSpec",
    "StoredTrial",
    "TrialConfig",
    "TrialResult",
    "divergence",
    "failure_reason",
    "setting_label",
    "trial_score",
]

FINISHED = ("done", "diverged", "failed")

DIVERGE_FACTOR = 1e4
"""A trial whose training loss grows past this many times its initial loss has diverged
(the spec key ``diverge_factor``): a loss of 3.9e20 is not a result."""


class MetricRow(NamedTuple):
    """One evaluation of a trial: the losses and metrics on the whole training set (in
    evaluation mode, not a running average of batch losses) and on the validation set, the
    first param group's learning rate, the seconds since the trial started, and the step
    size a learning-rate-free optimizer estimated itself (Prodigy's d lr; NaN for the others
    and in stores written before it was recorded)."""

    step: int
    epoch: float
    train_loss: float
    train_metric: float
    val_loss: float
    val_metric: float
    lr: float
    wall_time: float
    estimated_lr: float = math.nan

    @classmethod
    def stored(cls, values: tuple) -> MetricRow:
        """A row read back from a store: ``estimated_lr`` NULL (nothing estimated, or a
        store written before it was recorded) as NaN, as the trial wrote it."""
        row = cls(*values)
        return row._replace(estimated_lr=math.nan) if row.estimated_lr is None else row


METRIC_COLUMNS: tuple[str, ...] = MetricRow._fields


class EpochEvent(NamedTuple):
    """Where a running trial (or batch) stands after an epoch; ``val_metric`` is the latest."""

    epoch: int
    epochs: int
    step: int
    steps: int
    val_metric: float


@dataclass(frozen=True)
class Interval:
    """``n`` epochs or ``n`` steps: a trial's budget, or how often it is evaluated."""

    unit: str  # "epochs" or "steps"
    n: int

    @classmethod
    def from_dict(cls, data: dict[str, int]) -> Interval:
        (unit, n), *_ = data.items()
        return cls(unit, int(n))

    def to_dict(self) -> dict[str, int]:
        return {self.unit: self.n}

    def steps(self, per_epoch: int) -> int:
        """The interval in optimizer steps, with ``per_epoch`` steps to an epoch."""
        return self.n if self.unit == "steps" else self.n * per_epoch


@dataclass(frozen=True)
class ProblemSpec:
    """A problem of the spec: a built-in name or ``module:function``, its options, the label
    results are filed under, and the target of "steps to target" (None: the problem's own)."""

    name: str
    options: dict[str, Any]
    label: str
    target: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProblemSpec:
        return cls(data["name"], dict(data.get("options") or {}), data["label"], data.get("target"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "options": self.options,
            "label": self.label,
            "target": self.target,
        }

    def build(self):
        """The :class:`ravine.problems.Problem` (cached by name and options)."""
        from .. import problems

        return problems.get(self.name, **self.options)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer of the spec: its name, label, hyperparameter values as written (``raw``,
    what the spec stored in its store keeps) and as parsed (``values``: a grid list or a
    :class:`~ravine.study.values.Range` per hyperparameter), and schedule strings."""

    name: str
    label: str
    raw: dict[str, Any]
    values: dict[str, Values]
    schedules: dict[str, str]
    info: OptimizerInfo = field(compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "label": self.label, **self.raw}
        if self.schedules:
            out["schedules"] = dict(self.schedules)
        return out


def _tuples(hyperparameters: dict[str, Any]) -> dict[str, Any]:
    """Lists (as JSON writes tuples) back to tuples: ``betas = (0.9, 0.999)``."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in hyperparameters.items()}


@dataclass(frozen=True)
class TrialConfig:
    """One trial: train ``problem`` with the optimizer ``optimizer`` (labelled
    ``optimizer_label``) at ``hyperparameters`` from ``seed`` for ``budget``, in mini-batches
    of ``batch_size`` (an integer or ``"full"``), evaluated every ``eval_every``.

    ``threads`` (None: leave torch's setting) is torch's intra-op threads for the trial;
    ``save_model`` keeps the final weights; ``diverge_factor``: see :func:`divergence`.
    :meth:`to_dict` is the JSON form the store keeps and hashes; it is the same dict ravine
    has always stored, so older stores resume."""

    problem: ProblemSpec
    optimizer: str
    optimizer_label: str
    hyperparameters: dict[str, Any]
    seed: int
    budget: Interval
    batch_size: int | str
    eval_every: Interval
    schedules: dict[str, str] = field(default_factory=dict)
    device: str = "cpu"
    save_model: bool = True
    threads: int | None = None
    diverge_factor: float = DIVERGE_FACTOR

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialConfig:
        """Read the stored JSON form (``schedules``, ``device``, ``save_model`` and
        ``threads`` may be missing)."""
        p = data["problem"]
        problem = ProblemSpec(
            p["name"], dict(p.get("options") or {}), p.get("label", p["name"]), p.get("target")
        )
        return cls(
            problem=problem,
            optimizer=data["optimizer"]["name"],
            optimizer_label=data["optimizer"].get("label", data["optimizer"]["name"]),
            hyperparameters=_tuples(data.get("hyperparameters") or {}),
            seed=int(data["seed"]),
            budget=Interval.from_dict(data["budget"]),
            batch_size=data["batch_size"],
            eval_every=Interval.from_dict(data["eval_every"]),
            schedules=dict(data.get("schedules") or {}),
            device=data.get("device", "cpu"),
            save_model=bool(data.get("save_model", True)),
            threads=data.get("threads"),
            diverge_factor=float(data.get("diverge_factor", DIVERGE_FACTOR)),
        )

    @classmethod
    def of(cls, config: TrialConfig | dict[str, Any]) -> TrialConfig:
        """``config`` itself, or the TrialConfig of its stored dict form."""
        return config if isinstance(config, TrialConfig) else cls.from_dict(config)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able dict the store keeps (tuples written as lists)."""
        out = {
            "problem": self.problem.to_dict(),
            "optimizer": {"name": self.optimizer, "label": self.optimizer_label},
            "hyperparameters": {
                k: list(v) if isinstance(v, tuple) else v for k, v in self.hyperparameters.items()
            },
            "schedules": dict(self.schedules),
            "seed": self.seed,
            "budget": self.budget.to_dict(),
            "batch_size": self.batch_size,
            "eval_every": self.eval_every.to_dict(),
            "device": self.device,
            "save_model": self.save_model,
        }
        if self.threads is not None:
            out["threads"] = self.threads
        if self.diverge_factor != DIVERGE_FACTOR:  # the default is left out: old hashes hold
            out["diverge_factor"] = self.diverge_factor
        return out

    @cached_property
    def info(self) -> OptimizerInfo:
        """The optimizer's registry record, resolved once per config."""
        from ..optim.registry import resolve

        return resolve(self.optimizer)

    def optimizer_hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters to build the optimizer with: the config's, and the trial's
        seed for an optimizer that draws random numbers of its own (DiagonalNewton's probes)
        unless the config sets one."""
        hps = dict(self.hyperparameters)
        if self.info.is_ravine and "seed" in self.info.defaults:
            hps.setdefault("seed", self.seed)
        return hps

    def scheduler(self, optimizer: torch.optim.Optimizer):
        """A :class:`ravine.schedules.Scheduler` driving each hyperparameter that has a
        schedule, stepped once after every optimizer step; None when there are none
        (``ravine.schedules`` is imported only then)."""
        if not self.schedules:
            return None
        from .. import schedules

        return schedules.Scheduler(
            optimizer, {hp: schedules.parse(text) for hp, text in self.schedules.items()}
        )

    def batch_key(self) -> str:
        """What trials that could run as one batched computation share: everything but the
        hyperparameter values and the seed (same problem, optimizer, budget, batching)."""
        shared = {k: v for k, v in self.to_dict().items() if k not in {"hyperparameters", "seed"}}
        return json.dumps(shared, sort_keys=True)

    def describe(self) -> str:
        """``problem optimizer lr=0.1 seed=0``: one line naming the trial."""
        return (
            f"{self.problem.label} {self.optimizer_label} "
            f"{setting_label(self.hyperparameters)} seed={self.seed}"
        )


@dataclass
class TrialResult:
    """What a trial returns: ``status`` (``done``, ``diverged`` or ``failed``), its metric
    rows, the steps taken, its wall time, an error message (None when done), the final
    ``state_dict`` serialised with ``torch.save`` (or None) and the environment it ran in
    (package versions, device; ``batch`` when it ran in a batch)."""

    status: str
    rows: list[MetricRow] = field(default_factory=list)
    steps: int = 0
    wall_time: float | None = None
    error: str | None = None
    model: bytes | None = None
    environment: dict[str, Any] | None = None

    @classmethod
    def failed(cls, err: BaseException, detail: str = "") -> TrialResult:
        """A trial that raised ``err`` (``detail``: a traceback, appended)."""
        return cls(
            "failed", error=f"{type(err).__name__}: {err}" + (f"\n{detail}" if detail else "")
        )

    @property
    def reason(self) -> str:
        """Why the trial did not finish ``done``, in one line (see :func:`failure_reason`)."""
        return failure_reason(self.error)

    @property
    def final(self) -> MetricRow | None:
        """The last row, or None when there is none."""
        return self.rows[-1] if self.rows else None

    @property
    def val_metric(self) -> float:
        """The last validation metric (NaN when there is no row)."""
        return self.rows[-1].val_metric if self.rows else math.nan


@dataclass(frozen=True)
class StoredTrial:
    """A trial as the store holds it: its config and where it stands. ``trial["id"]`` reads
    ``trial.id`` (the dict-style access the command line uses)."""

    id: int
    hash: str
    config: TrialConfig
    stage: str
    status: str
    claimed_by: str | None = None
    heartbeat: float | None = None
    attempts: int = 0
    started: float | None = None
    finished: float | None = None
    wall_time: float | None = None
    steps: int | None = None
    error: str | None = None
    environment: dict[str, Any] | None = None

    @property
    def problem(self) -> str:
        """The problem's label."""
        return self.config.problem.label

    @property
    def optimizer(self) -> str:
        """The optimizer's label."""
        return self.config.optimizer_label

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def hyperparameters(self) -> dict[str, Any]:
        return self.config.hyperparameters

    @property
    def reason(self) -> str:
        """Why it failed or diverged, in one line (empty when done)."""
        return failure_reason(self.error)


def divergence(rows: list[MetricRow], factor: float = DIVERGE_FACTOR) -> str | None:
    """Why the last of a trial's ``rows`` (after row 0) ends it as diverged, or None: a loss
    that is not finite, or a training loss above ``factor`` times the initial one (row 0's,
    when that is positive and finite)."""
    last, first = rows[-1], rows[0].train_loss
    if not (math.isfinite(last.train_loss) and math.isfinite(last.val_loss)):
        return f"non-finite loss at step {last.step}"
    if len(rows) > 1 and math.isfinite(first) and first > 0 and last.train_loss > factor * first:
        return (
            f"training loss {last.train_loss:.3g} at step {last.step} is over "
            f"{factor:g} times the initial {first:.3g} (diverge_factor)"
        )
    return None


def failure_reason(error: str | None) -> str:
    """A stored error in one line: the exception as its traceback's last line reads
    (``ValueError: lr must be positive``), without the traceback ravine keeps after it."""
    for line in (error or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def setting_label(hyperparameters: dict[str, Any]) -> str:
    """A short stable label of a hyperparameter setting: ``lr=0.001, momentum=0.9``."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        if isinstance(v, list | tuple):
            return "(" + ", ".join(fmt(x) for x in v) + ")"
        return str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in sorted(hyperparameters.items())) or "defaults"


def trial_score(status: str, final: MetricRow | None) -> float | None:
    """A trial's score: its final validation metric, or None when it did not finish ``done``
    or its last metric is missing or not finite (how the protocols and the summary rank)."""
    if status != "done" or final is None or final.val_metric is None:
        return None
    v = float(final.val_metric)
    return v if math.isfinite(v) else None
