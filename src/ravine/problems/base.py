"""What a training problem is: a model factory, a train/validation split, a loss and a metric."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Problem", "accuracy", "batches"]


def accuracy(outputs: Tensor, targets: Tensor) -> Tensor:
    """Fraction of rows whose arg-max output equals the integer target."""
    return (outputs.argmax(dim=-1) == targets).to(torch.float32).mean()


@dataclass
class Problem:
    """A supervised training problem.

    ``model()`` builds a fresh model; the caller seeds torch's generator before calling it, so
    initialisation is reproducible. ``loss(outputs, targets)`` is the training objective (mean
    over the batch) and ``metric(outputs, targets)`` the reported score (``metric_name``,
    better when higher unless ``higher_is_better`` is false). ``target`` is the validation
    metric whose first crossing defines "steps to target" in study summaries.

    ``x_test`` and ``y_test`` (optional) are a held-out test split, apart from the validation
    split that studies tune on: never seen while choosing a setting, it is evaluated once on
    each chosen setting's final models (:mod:`ravine.study.heldout`).

    ``combine`` says how an ensemble averages its members' outputs: ``"softmax"`` averages the
    class probabilities p = (1/K) sum_k softmax(z_k) and returns log p as the ensemble's logits
    (so cross-entropy of them is the negative log-likelihood of the averaged prediction);
    ``"mean"`` averages the raw outputs (regression).
    """

    name: str
    model: Callable[[], nn.Module]
    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    loss: Callable[[Tensor, Tensor], Tensor] = F.cross_entropy
    metric: Callable[[Tensor, Tensor], Tensor] = accuracy
    metric_name: str = "accuracy"
    higher_is_better: bool = True
    target: float | None = None
    combine: str = "softmax"
    info: dict = field(default_factory=dict)
    x_test: Tensor | None = None
    y_test: Tensor | None = None

    def __post_init__(self) -> None:
        if len(self.x_train) != len(self.y_train):
            raise ValueError(
                f"problem {self.name!r}: x_train has {len(self.x_train)} rows but y_train has "
                f"{len(self.y_train)}"
            )
        if len(self.x_val) != len(self.y_val):
            raise ValueError(
                f"problem {self.name!r}: x_val has {len(self.x_val)} rows but y_val has "
                f"{len(self.y_val)}"
            )
        if (self.x_test is None) != (self.y_test is None) or (
            self.x_test is not None and len(self.x_test) != len(self.y_test)
        ):
            raise ValueError(
                f"problem {self.name!r}: x_test and y_test must come together, with as many rows"
            )
        if len(self.x_train) == 0:
            raise ValueError(f"problem {self.name!r}: the training set is empty")
        if self.combine not in {"softmax", "mean"}:
            raise ValueError(
                f"problem {self.name!r}: combine must be 'softmax' or 'mean', got {self.combine!r}"
            )

    def __repr__(self) -> str:
        # A summary (sizes, metric, model), never the data tensors.
        shape = "x".join(str(n) for n in self.x_train.shape[1:]) or "scalar"
        extra = ", ".join(f"{k}={v}" for k, v in self.info.items())
        better = "higher" if self.higher_is_better else "lower"
        target = "" if self.target is None else f", target {self.target:g}"
        return "\n".join(
            [
                f"Problem {self.name!r}: {self.n_train} training and {len(self.x_val)} "
                f"validation examples of shape [{shape}]" + (f" ({extra})" if extra else ""),
                f"  metric: {self.metric_name} ({better} is better{target}); "
                f"loss: {getattr(self.loss, '__name__', type(self.loss).__name__)}",
                f"  model: {self._model_summary()}",
            ]
        )

    def _model_summary(self) -> str:
        """The model's class, layers and parameter count, from one copy built without
        touching the caller's random state."""
        with torch.random.fork_rng(devices=[]):
            model = self.model()
        layers = [type(m).__name__ for m in model.modules() if not list(m.children())]
        count = sum(p.numel() for p in model.parameters())
        shown = ", ".join(f"{n} {name}" for name, n in _counts(layers).items())
        return f"{type(model).__name__} ({shown}), {count:,} parameters"

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    def steps_per_epoch(self, batch_size: int | str) -> int:
        """Optimizer steps in one pass over the training set (the last batch may be short)."""
        if batch_size == "full":
            return 1
        return math.ceil(self.n_train / int(batch_size))

    @torch.no_grad()
    def evaluate(self, model: nn.Module, x: Tensor, y: Tensor, chunk: int = 4096) -> tuple:
        """(mean loss, metric) of ``model`` on (x, y), in chunks to bound memory."""
        outputs = self.outputs(model, x, chunk)
        return float(self.loss(outputs, y)), float(self.metric(outputs, y))

    @torch.no_grad()
    def outputs(self, model: nn.Module, x: Tensor, chunk: int = 4096) -> Tensor:
        """The model's outputs on ``x`` in evaluation mode."""
        was_training = model.training
        model.eval()
        try:
            return torch.cat([model(x[i : i + chunk]) for i in range(0, len(x), chunk)])
        finally:
            model.train(was_training)

    def ensemble(self, outputs: list[Tensor]) -> Tensor:
        """The ensemble's outputs from its members' outputs (see ``combine``)."""
        stacked = torch.stack(outputs)
        if self.combine == "mean":
            return stacked.mean(0)
        return torch.logsumexp(F.log_softmax(stacked, dim=-1), dim=0) - math.log(len(outputs))


def _counts(names: list[str]) -> dict[str, int]:
    """How often each name occurs, in order of first occurrence."""
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    return counts


def batches(n: int, batch_size: int | str, generator: torch.Generator) -> list[Tensor]:
    """Index batches for one epoch: a fresh permutation drawn from ``generator`` split into
    consecutive slices of ``batch_size`` (the last one may be short); ``"full"`` is one batch
    of every index in order (full-batch gradient descent), ``1`` is single-example SGD."""
    if batch_size == "full":
        return [torch.arange(n)]
    order = torch.randperm(n, generator=generator)
    return list(order.split(int(batch_size)))
