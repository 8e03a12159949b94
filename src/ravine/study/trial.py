"""One trial: train one model with one optimizer setting from one seed, measuring as it goes.

:func:`run_trial` is a pure function of its config (a JSON-able dict) and is what every
executor ships to its workers. A trial is deterministic given its seed: the seed fixes the
model's initialisation (through a forked copy of torch's global generator, so the caller's
generator is untouched) and the order of the mini-batches (a dedicated ``torch.Generator``).

Each evaluation records one row::

    (step, epoch, train_loss, train_metric, val_loss, val_metric, lr, wall_time)

with the training loss and metric measured on the whole training set in evaluation mode
(not a running average of batch losses), the validation ones on the validation set,
``lr`` the first param group's learning rate when the row is taken and ``wall_time`` the
seconds since the trial started. Row 0 is the untrained model. A loss that turns NaN or
infinite, or a gradient ravine rejects as non-finite (``FloatingPointError``), ends the trial
as ``diverged``; its rows up to then are kept.

Every optimizer steps once per mini-batch. First-order ones take the plain
``zero_grad(); loss.backward(); step()`` loop; the closure-driven ones (quasi-Newton,
Newton, Gauss-Newton, natural gradient, Hessian-free, diagonal and block-diagonal Newton,
``torch.optim.LBFGS``) get ``step(closure)`` with the closure their ``closure_kind`` asks for
on that batch; K-FAC is built on the model. An optimizer with a ``seed`` hyperparameter
(DiagonalNewton's probes) gets the trial's seed unless the config sets one.
"""

from __future__ import annotations

import io
import math
import platform
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from ..optim.registry import resolve

__all__ = ["METRIC_COLUMNS", "batch_key", "build_optimizer", "environment", "run_trial"]

METRIC_COLUMNS = (
    "step",
    "epoch",
    "train_loss",
    "train_metric",
    "val_loss",
    "val_metric",
    "lr",
    "wall_time",
)


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


def batch_key(config: dict[str, Any]) -> str:
    """The part of a config shared by trials that could run as one batched computation: they
    differ only in hyperparameter values and seed (same problem, optimizer, budget, batching).
    Executors may group trials by this key; each trial's results stay its own."""
    import json

    shared = {k: v for k, v in config.items() if k not in {"hyperparameters", "seed"}}
    return json.dumps(shared, sort_keys=True)


def _hyperparameters(config: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in config["hyperparameters"].items()}


def build_optimizer(
    name: str, params: Any, hyperparameters: dict[str, Any]
) -> torch.optim.Optimizer:
    """The optimizer ``name`` (a ravine registry name or ``torch.optim.X``) over ``params``:
    parameters, param groups or a module (see :meth:`OptimizerInfo.build`)."""
    return resolve(name).build(params, **hyperparameters)


def _per_example_losses(loss_fn: Callable, outputs: torch.Tensor, targets: torch.Tensor):
    """The vector [N] of ``loss_fn`` on each example alone (``loss_fn`` averages over a
    batch), with its graph: vectorized by ``torch.func.vmap``, one call per example where the
    loss cannot be vectorized."""
    one = lambda z, y: loss_fn(z.unsqueeze(0), y.unsqueeze(0))  # noqa: E731
    try:
        return torch.func.vmap(one)(outputs, targets)
    except Exception:  # a loss vmap cannot trace: one example at a time
        return torch.stack([one(z, y) for z, y in zip(outputs, targets, strict=True)])


def _closure(optimizer, model, loss_fn, x, y) -> Callable[[], Any]:
    """The closure ``optimizer.step`` asks for (see :mod:`ravine.optim.closures`) on the
    batch ``(x, y)``; the ``"outputs"`` kind gets the vector of per-example losses where the
    optimizer asks for them (``per_example_losses``, the empirical Fisher)."""
    from ..optim.closures import make_closure

    per_example = bool(getattr(optimizer, "per_example_losses", False))

    def outputs():
        z = model(x)
        return (_per_example_losses(loss_fn, z, y) if per_example else loss_fn(z, y)), z

    return make_closure(
        getattr(optimizer, "closure_kind", "backward"),
        zero_grad=lambda: optimizer.zero_grad(set_to_none=True),
        loss=lambda: loss_fn(model(x), y),
        outputs=outputs,
    )


def _scalar_loss(value: Any) -> float:
    """The loss ``step(closure)`` returned as a float: the first of a pair, averaged."""
    if isinstance(value, tuple | list):
        value = value[0]
    if isinstance(value, torch.Tensor):
        return float(value.detach().mean())
    return math.nan if value is None else float(value)


def apply_schedules(optimizer: torch.optim.Optimizer, schedules: dict[str, str]):
    """A scheduler driving each named hyperparameter of ``optimizer`` by its schedule string
    (``{"lr": "cosine:1000"}``), stepped once after every optimizer step; None when there
    are none. ``ravine.schedules`` is imported here only, so studies without schedules never
    need it."""
    if not schedules:
        return None
    from .. import schedules as _schedules

    return _schedules.Scheduler(
        optimizer, {hp: _schedules.parse(text) for hp, text in schedules.items()}
    )


def _lr(optimizer: torch.optim.Optimizer) -> float:
    lr = optimizer.param_groups[0].get("lr", math.nan)
    if isinstance(lr, torch.Tensor):
        return float(lr.detach().reshape(-1)[0]) if lr.numel() else math.nan
    return float(lr)


def run_trial(
    config: dict[str, Any],
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Train as ``config`` says and return the result: ``status`` ("done", "diverged" or
    "failed"), ``rows`` (one tuple per evaluation, :data:`METRIC_COLUMNS`), ``steps``,
    ``wall_time``, ``error`` (None or a message), ``model`` (the final ``state_dict``
    serialised with ``torch.save``, or None) and the ``environment``.

    ``config["threads"]`` (if given) sets torch's intra-op threads for the trial; the caller's
    setting is restored afterwards. ``progress``, if given, is called after each epoch with
    ``{"epoch", "epochs", "step", "steps", "val_metric"}`` (the latest validation metric).
    """
    from .. import problems

    start = time.perf_counter()
    device = torch.device(config.get("device", "cpu"))
    rows: list[tuple] = []
    result: dict[str, Any] = {
        "status": "done",
        "rows": rows,
        "steps": 0,
        "error": None,
        "model": None,
        "environment": None,
    }
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(int(config.get("threads", threads)))
        result["environment"] = environment(str(device))
        prob = config["problem"]
        problem = problems.get(prob["name"], **prob.get("options", {}))
        seed = int(config["seed"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            model = problem.model().to(device)
        xs, ys = problem.x_train.to(device), problem.y_train.to(device)
        xv, yv = problem.x_val.to(device), problem.y_val.to(device)
        hyperparameters = _hyperparameters(config)
        info = resolve(config["optimizer"]["name"])
        if info.is_ravine and "seed" in info.defaults:  # e.g. DiagonalNewton's probes
            hyperparameters.setdefault("seed", seed)
        optimizer = info.build(model, **hyperparameters)
        closure_driven = info.needs_closure
        scheduler = apply_schedules(optimizer, config.get("schedules") or {})
        batch_size = config["batch_size"]
        per_epoch = problem.steps_per_epoch(batch_size)
        budget = config["budget"]
        total = budget["steps"] if "steps" in budget else budget["epochs"] * per_epoch
        every = config["eval_every"]
        eval_steps = every["steps"] if "steps" in every else every["epochs"] * per_epoch
        generator = torch.Generator().manual_seed(seed)

        def evaluate(step: int) -> bool:
            tl, tm = problem.evaluate(model, xs, ys)
            vl, vm = problem.evaluate(model, xv, yv)
            rows.append(
                (
                    step,
                    step / per_epoch,
                    tl,
                    tm,
                    vl,
                    vm,
                    _lr(optimizer),
                    time.perf_counter() - start,
                )
            )
            return math.isfinite(tl) and math.isfinite(vl)

        evaluate(0)
        step, epoch, diverged = 0, 0, False
        model.train()
        while step < total and not diverged:
            for idx in problem_batches(problem.n_train, batch_size, generator):
                idx = idx.to(device)
                try:
                    if closure_driven:  # the loss before the step, as step(closure) returns it
                        closure = _closure(optimizer, model, problem.loss, xs[idx], ys[idx])
                        finite = math.isfinite(_scalar_loss(optimizer.step(closure)))
                    else:
                        optimizer.zero_grad(set_to_none=True)
                        loss = problem.loss(model(xs[idx]), ys[idx])
                        finite = bool(torch.isfinite(loss))
                        if finite:
                            loss.backward()
                            optimizer.step()
                except FloatingPointError:  # ravine rejects non-finite gradients: divergence
                    finite = False
                if not finite:
                    diverged = True
                    break
                if scheduler is not None:
                    scheduler.step()
                step += 1
                if (step % eval_steps == 0 or step == total) and not evaluate(step):
                    diverged = True
                    break
                if step >= total:
                    break
            epoch += 1
            if progress is not None:
                progress(
                    {
                        "epoch": epoch,
                        "epochs": math.ceil(total / per_epoch),
                        "step": step,
                        "steps": total,
                        "val_metric": rows[-1][5],
                    }
                )
        result["steps"] = step
        if diverged:
            result["status"] = "diverged"
            result["error"] = f"non-finite loss or gradient at step {step}"
        elif config.get("save_model", True):
            buffer = io.BytesIO()
            torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
            result["model"] = buffer.getvalue()
    except Exception as err:  # a failed trial is recorded; the study goes on
        result["status"] = "failed"
        result["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=4)}"
    finally:
        torch.set_num_threads(threads)
    result["wall_time"] = time.perf_counter() - start
    return result


def problem_batches(n: int, batch_size: int | str, generator: torch.Generator):
    from ..problems import batches

    return batches(n, batch_size, generator)
