"""One trial: train one model with one optimizer setting from one seed, measuring as it goes.

:func:`run_trial` is a pure function of its :class:`~ravine.study.records.TrialConfig` and
is what every executor ships to its workers. A trial is deterministic given its seed: the
seed fixes the model's initialisation (through a forked copy of torch's global generator, so
the caller's generator is untouched) and the order of the mini-batches (a dedicated
``torch.Generator``).

Each evaluation records one :class:`~ravine.study.records.MetricRow`::

    (step, epoch, train_loss, train_metric, val_loss, val_metric, lr, wall_time, estimated_lr)

with the training loss and metric measured on the whole training set in evaluation mode
(not a running average of batch losses), the validation ones on the validation set,
``lr`` the first param group's learning rate when the row is taken, ``wall_time`` the
seconds since the trial started and ``estimated_lr`` the step size an optimizer estimates
itself (its ``learning_rate()``: Prodigy's d lr; NaN for the others). Row 0 is the
untrained model. A loss that turns NaN or infinite or grows past ``diverge_factor`` times
its initial value, or a gradient ravine rejects as non-finite (``FloatingPointError``),
ends the trial as ``diverged``; its rows up to then are kept.

Every optimizer steps once per mini-batch. First-order ones take the plain
``zero_grad(); loss.backward(); step()`` loop; the closure-driven ones (quasi-Newton,
Newton, Gauss-Newton, natural gradient, Hessian-free, diagonal and block-diagonal Newton,
``torch.optim.LBFGS``) get ``step(closure)`` with the closure their ``closure_kind`` asks for
on that batch; K-FAC is built on the model. An optimizer with a ``seed`` hyperparameter
(DiagonalNewton's probes) gets the trial's seed unless the config sets one.

Optimizers with a train and an eval mode (Schedule-Free, whose parameters hold the
gradient point y while training and the average x for evaluation): every evaluation
switches them to ``eval()`` first and back to ``train()`` after, and the saved final model
is taken in eval mode, so every recorded metric and every kept model is x's. Any optimizer
with callable ``train`` and ``eval`` methods is switched this way (:func:`evaluation_mode`).
"""

from __future__ import annotations

import contextlib
import io
import math
import platform
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import torch

from ..optim.closures import make_closure
from .records import (
    METRIC_COLUMNS,
    EpochEvent,
    MetricRow,
    TrialConfig,
    TrialResult,
    divergence,
)

__all__ = [
    "METRIC_COLUMNS",
    "environment",
    "estimated_lr",
    "evaluation_mode",
    "problem_batches",
    "run_trial",
    "state_bytes",
]


def environment(device: str = "cpu") -> dict[str, Any]:
    """The package versions and the device a trial ran with, recorded for reproduction."""
    import numpy

    import ravine

    versions = {
        "python": platform.python_version(),
        "ravine": ravine.__version__,
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
    try:
        import sklearn

        versions["scikit-learn"] = sklearn.__version__
    except ImportError:  # pragma: no cover
        pass
    if device.startswith("cuda") and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
    else:
        name = platform.processor() or platform.machine()
    return {
        "versions": versions,
        "device": f"{device} ({name}; {torch.get_num_threads()} threads; {platform.node()})",
    }


def problem_batches(n: int, batch_size: int | str, generator: torch.Generator):
    """The mini-batch indices of one epoch, drawn by ``generator``."""
    from ..problems import batches

    return batches(n, batch_size, generator)


def state_bytes(state: dict[str, torch.Tensor]) -> bytes:
    """A ``state_dict`` serialised with ``torch.save`` (tensors detached, on the CPU)."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buffer)
    return buffer.getvalue()


def _per_example_losses(loss_fn: Callable, outputs: torch.Tensor, targets: torch.Tensor):
    """The vector [N] of ``loss_fn`` on each example alone (``loss_fn`` averages over a
    batch), with its graph: vectorized by ``torch.func.vmap``, one call per example where the
    loss cannot be vectorized."""
    one = lambda z, y: loss_fn(z.unsqueeze(0), y.unsqueeze(0))  # noqa: E731
    try:
        return torch.func.vmap(one)(outputs, targets)
    except Exception:  # a loss vmap cannot trace: one example at a time
        return torch.stack([one(z, y) for z, y in zip(outputs, targets, strict=True)])


def _scalar_loss(value: Any) -> float:
    """The loss ``step(closure)`` returned as a float: the first of a pair, averaged."""
    if isinstance(value, tuple | list):
        value = value[0]
    if isinstance(value, torch.Tensor):
        return float(value.detach().mean())
    return math.nan if value is None else float(value)


def _has_modes(optimizer: torch.optim.Optimizer) -> bool:
    return callable(getattr(optimizer, "eval", None)) and callable(
        getattr(optimizer, "train", None)
    )


@contextlib.contextmanager
def evaluation_mode(optimizer: torch.optim.Optimizer) -> Iterator[None]:
    """The parameters in the optimizer's eval mode for the block (Schedule-Free's average
    x), back in train mode after; nothing for optimizers without modes."""
    if not _has_modes(optimizer):
        yield
        return
    optimizer.eval()
    try:
        yield
    finally:
        optimizer.train()


def estimated_lr(optimizer: torch.optim.Optimizer) -> float:
    """The step size ``optimizer`` estimated itself (``learning_rate()``, Prodigy's d lr),
    or NaN for optimizers that have none."""
    learning_rate = getattr(optimizer, "learning_rate", None)
    return float(learning_rate()) if callable(learning_rate) else math.nan


def _lr(optimizer: torch.optim.Optimizer) -> float:
    lr = optimizer.param_groups[0].get("lr", math.nan)
    if isinstance(lr, torch.Tensor):
        return float(lr.detach().reshape(-1)[0]) if lr.numel() else math.nan
    return float(lr)


class _Trial:
    """One trial's model, data, optimizer and rows, from its config."""

    def __init__(self, config: TrialConfig, start: float):
        self.config, self.start = config, start
        self.problem = problem = config.problem.build()
        device = torch.device(config.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = problem.model().to(device)
        self.xs, self.ys = problem.x_train.to(device), problem.y_train.to(device)
        self.xv, self.yv = problem.x_val.to(device), problem.y_val.to(device)
        self.device = device
        self.optimizer = config.info.build(self.model, **config.optimizer_hyperparameters())
        self.scheduler = config.scheduler(self.optimizer)
        self.per_epoch = problem.steps_per_epoch(config.batch_size)
        self.total = config.budget.steps(self.per_epoch)
        self.eval_steps = config.eval_every.steps(self.per_epoch)
        self.rows: list[MetricRow] = []
        self.step = 0
        self.why: str | None = None  # why it diverged, once it has

    def evaluate(self) -> bool:
        """Record a row; False when it shows divergence (:func:`.records.divergence`)."""
        with evaluation_mode(self.optimizer):
            tl, tm = self.problem.evaluate(self.model, self.xs, self.ys)
            vl, vm = self.problem.evaluate(self.model, self.xv, self.yv)
        now = time.perf_counter() - self.start
        lr, estimated = _lr(self.optimizer), estimated_lr(self.optimizer)
        row = MetricRow(self.step, self.step / self.per_epoch, tl, tm, vl, vm, lr, now, estimated)
        self.rows.append(row)
        self.why = divergence(self.rows, self.config.diverge_factor)
        return self.why is None

    def _closure(self, x: torch.Tensor, y: torch.Tensor) -> Callable[[], Any]:
        """The closure ``optimizer.step`` asks for (see :mod:`ravine.optim.closures`) on the
        batch ``(x, y)``; the ``"outputs"`` kind gets the vector of per-example losses where
        the optimizer asks for them (``per_example_losses``, the empirical Fisher)."""
        model, loss_fn, optimizer = self.model, self.problem.loss, self.optimizer
        per_example = bool(getattr(optimizer, "per_example_losses", False))

        def outputs():
            z = model(x)
            return (_per_example_losses(loss_fn, z, y) if per_example else loss_fn(z, y)), z

        return make_closure(
            self.config.info.closure_kind,
            zero_grad=lambda: optimizer.zero_grad(set_to_none=True),
            loss=lambda: loss_fn(model(x), y),
            outputs=outputs,
        )

    def descend(self, idx: torch.Tensor) -> bool:
        """One optimizer step on the mini-batch ``idx``; False when the loss or a gradient
        is not finite (ravine's optimizers raise ``FloatingPointError`` on the latter)."""
        x, y = self.xs[idx], self.ys[idx]
        try:
            if self.config.info.needs_closure:  # the loss before the step, as step() returns it
                return math.isfinite(_scalar_loss(self.optimizer.step(self._closure(x, y))))
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.problem.loss(self.model(x), y)
            if not bool(torch.isfinite(loss)):
                return False
            loss.backward()
            self.optimizer.step()
            return True
        except FloatingPointError:
            return False

    def run(self, progress: Callable[[EpochEvent], None] | None) -> bool:
        """Train to the budget, evaluating as the config says; True when it diverged."""
        generator = torch.Generator().manual_seed(self.config.seed)
        self.evaluate()
        epoch, epochs = 0, math.ceil(self.total / self.per_epoch)
        self.model.train()
        while self.step < self.total:
            for idx in problem_batches(self.problem.n_train, self.config.batch_size, generator):
                if not self.descend(idx.to(self.device)):
                    return True
                if self.scheduler is not None:
                    self.scheduler.step()
                self.step += 1
                due = self.step % self.eval_steps == 0 or self.step == self.total
                if due and not self.evaluate():
                    return True
                if self.step >= self.total:
                    break
            epoch += 1
            if progress is not None:
                progress(EpochEvent(epoch, epochs, self.step, self.total, self.rows[-1].val_metric))
        return False


def run_trial(
    config: TrialConfig | dict[str, Any],
    progress: Callable[[EpochEvent], None] | None = None,
) -> TrialResult:
    """Train as ``config`` says (a TrialConfig, or its stored dict form) and return the
    :class:`~ravine.study.records.TrialResult`: ``done``, ``diverged`` (with its rows up to
    then) or ``failed`` (an error raised; the study goes on).

    ``config.threads`` (if set) is torch's intra-op threads for the trial; the caller's
    setting is restored afterwards. ``progress``, if given, gets an
    :class:`~ravine.study.records.EpochEvent` after each epoch.
    """
    start = time.perf_counter()
    result = TrialResult("done")
    threads = torch.get_num_threads()
    try:
        config = TrialConfig.of(config)
        torch.set_num_threads(config.threads or threads)
        result.environment = environment(config.device)
        trial = _Trial(config, start)
        result.rows = trial.rows
        diverged = trial.run(progress)
        result.steps = trial.step
        if diverged:
            result.status = "diverged"
            result.error = trial.why or f"non-finite loss or gradient at step {trial.step}"
        elif config.save_model:
            if _has_modes(trial.optimizer):
                trial.optimizer.eval()  # the model kept is the average x
            result.model = state_bytes(trial.model.state_dict())
    except Exception as err:  # a failed trial is recorded; the study goes on
        result.status = "failed"
        result.error = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}"
    finally:
        torch.set_num_threads(threads)
    result.wall_time = time.perf_counter() - start
    return result
