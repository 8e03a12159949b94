"""Batched trials: T trials that differ only in hyperparameters and seed, run as one computation.

The T models are stacked: every parameter gets a leading trial dimension ``[T, ...]`` and
the model runs once for all of them, as stacked layers (an ``nn.Sequential`` MLP: one
batched matmul per layer) or through ``torch.func.functional_call`` under ``vmap`` (any
other model: batched matmuls, grouped convolutions). Each trial keeps what makes it itself:

* its initialisation: trial i's model is built from its own seed exactly as
  :func:`~ravine.study.trial.run_trial` builds it, then stacked (bitwise the same weights);
* its data order: a ``torch.Generator`` seeded with its seed draws its mini-batches, so
  step k of trial i sees the same examples as step k of the sequential trial;
* its hyperparameters: a value that differs between trials becomes a tensor of shape
  ``[T, 1, ...]`` in the param group of each stacked parameter, which ravine's elementwise
  rules broadcast (a value shared by all trials stays the plain number the sequential
  trial uses).

The optimizer is built with ``check_finite=False``; divergence is detected per trial
instead (a non-finite loss, a non-finite gradient in its slice, a non-finite evaluation)
and the diverged trial is masked: its loss leaves the sum that is differentiated and its
gradients are zeroed, so the remaining trials step on with unchanged numbers. Every trial's
result has the same fields as :func:`run_trial`'s; ``environment["batch"]`` says how many
trials ran together. The reductions inside a batched matmul or loss are summed in another
order than the single-trial ones, so the numbers agree with the sequential runner to float32
rounding (tests/study/test_batched.py states the tolerance), not bitwise.

:func:`batch_group_key` decides which trials may share a batch (ravine's elementwise,
first-order optimizers; ``torch.optim.*`` names and closure-driven methods run one at a
time); :func:`run_batch` runs a list of configs, batched when it can and one at a time
otherwise (a model with buffers, such as batch-norm statistics, or with random layers
such as dropout, which ``vmap`` refuses, runs sequentially and says why).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from .records import EpochEvent, MetricRow, TrialConfig, TrialResult, divergence
from .trial import environment, problem_batches, run_trial, state_bytes

__all__ = ["MAX_BATCH", "CannotBatch", "batch_group_key", "run_batch", "unbatchable"]

MAX_BATCH = 64  # trials stacked in one computation at most


class CannotBatch(Exception):
    """The trials cannot run as one batched computation (they run one at a time)."""


def unbatchable(config: TrialConfig | dict[str, Any]) -> str | None:
    """Why the trial ``config`` cannot join a batch, or None when it can.

    Batching needs an optimizer whose rule acts on each coordinate alone (``elementwise``),
    driven by the plain ``backward(); step()`` loop, without a seed of its own."""
    config = TrialConfig.of(config)
    name = config.optimizer
    if name.startswith("torch.optim."):
        return f"{name} takes scalar hyperparameters only"
    try:
        info = config.info
    except (KeyError, ValueError) as err:
        return str(err)
    if not info.elementwise:
        return f"{name} mixes coordinates (not elementwise)"
    if info.needs_closure or info.closure_kind != "backward":
        return f"{name} is closure-driven"
    if "seed" in info.defaults:
        return f"{name} draws random numbers of its own"
    if config.device != "cpu" and not config.device.startswith("cuda"):
        return f"device {config.device!r}"
    return None


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def batch_group_key(config: TrialConfig | dict[str, Any]) -> str | None:
    """The key shared by exactly the trials that may run batched with ``config`` (None if it
    cannot batch): :meth:`~ravine.study.records.TrialConfig.batch_key`, the names of its
    hyperparameters, and the values of those that are not numbers (flags such as ``amsgrad``
    or ``nesterov`` pick the rule, so they must agree; numbers may differ and become
    tensors)."""
    config = TrialConfig.of(config)
    if unbatchable(config) is not None:
        return None
    fixed = {}
    for k, v in sorted(config.hyperparameters.items()):
        items = v if isinstance(v, list | tuple) else [v]
        fixed[k] = [None if _is_number(x) else x for x in items]
    return config.batch_key() + json.dumps(fixed, sort_keys=True)


def _stack_models(problem: Any, seeds: list[int], device: torch.device):
    """Trial i's model built from seed i as run_trial builds it; returns the first model (the
    skeleton functional_call runs) and its parameters stacked ``{name: [T, ...]}``."""
    models = []
    for seed in seeds:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            models.append(problem.model().to(device))
    skeleton = models[0]
    if any(True for _ in skeleton.buffers()):
        raise CannotBatch("the model has buffers (e.g. batch-norm statistics)")
    names = [n for n, _ in skeleton.named_parameters()]
    stacked = {}
    for name in names:
        leaves = [dict(m.named_parameters())[name] for m in models]
        stacked[name] = torch.stack([p.detach() for p in leaves]).requires_grad_(
            leaves[0].requires_grad  # a frozen parameter stays frozen
        )
    return skeleton, stacked


def _tensor_values(values: list[Any], like: Tensor) -> Any:
    """One hyperparameter across the trials: the shared value itself when all trials agree,
    else a tensor ``[T, 1, ...]`` broadcasting against the stacked parameter ``like``."""
    if all(v == values[0] for v in values[1:]) and type(values[0]) is type(values[-1]):
        return values[0]
    if isinstance(values[0], tuple):
        return tuple(_tensor_values([v[j] for v in values], like) for j in range(len(values[0])))
    if not all(_is_number(v) for v in values):
        raise CannotBatch(f"hyperparameter values {values!r} differ and are not numbers")
    shape = (len(values),) + (1,) * (like.dim() - 1)
    return torch.tensor(values, dtype=like.dtype, device=like.device).reshape(shape)


def _optimizer(configs: list[TrialConfig], stacked: dict[str, Tensor]):
    """The batched optimizer: one param group per stacked parameter, each holding the
    trials' hyperparameters shaped to broadcast against it; finite checks are ours."""
    hps = [c.hyperparameters for c in configs]
    groups = []
    for p in stacked.values():
        group: dict[str, Any] = {"params": [p]}
        for key in hps[0]:
            group[key] = _tensor_values([h[key] for h in hps], p)
        groups.append(group)
    return configs[0].info.build(groups, **{**hps[0], "check_finite": False})


def _per_trial(fn: Callable[[Tensor, Tensor], Tensor]) -> Callable[[Tensor, Tensor], Tensor]:
    """``fn(outputs, targets) -> scalar`` applied to each trial of ``[T, N, ...]`` outputs and
    ``[T, N]`` targets, giving ``[T]``: cross-entropy as one call with the classes on dim 1
    (a layout whose log-softmax vectorizes over the examples), other functions through
    ``vmap``, or one call per trial where ``vmap`` cannot trace them."""
    if fn is F.cross_entropy:
        return lambda out, y: F.cross_entropy(out.transpose(1, 2), y, reduction="none").mean(1)
    state = {"vmap": True}

    def apply(out: Tensor, y: Tensor) -> Tensor:
        if state["vmap"]:
            try:
                return torch.func.vmap(fn)(out, y)
            except Exception:  # not traceable by vmap: one trial at a time
                state["vmap"] = False
        return torch.stack([fn(o, t) for o, t in zip(out, y, strict=True)])

    return apply


_ACTIVATIONS = (
    torch.nn.ReLU,
    torch.nn.Tanh,
    torch.nn.GELU,
    torch.nn.Sigmoid,
    torch.nn.SiLU,
    torch.nn.LeakyReLU,
    torch.nn.ELU,
    torch.nn.Softplus,
    torch.nn.Identity,
)


def _stacked_mlp(skeleton: torch.nn.Module) -> Callable | None:
    """For an ``nn.Sequential`` of ``nn.Linear`` layers and elementwise activations, the
    forward pass of the stacked models written with batched matmuls: ``forward(params, x)``
    with ``x`` either ``[T, N, in]`` (each trial its own mini-batch) or ``[N, in]`` (one set
    shared by all trials).
    None for other models, which run through ``vmap``. On CPU this is faster than ``vmap``
    (measured in benchmarks/batched_trials.py) and computes the same products."""
    if not isinstance(skeleton, torch.nn.Sequential):
        return None
    layers = []
    for name, child in skeleton.named_children():
        if type(child) is torch.nn.Linear:
            layers.append((f"{name}.weight", f"{name}.bias" if child.bias is not None else None))
        elif isinstance(child, _ACTIVATIONS):
            layers.append(child)
        else:
            return None

    def forward(params: dict[str, Tensor], x: Tensor) -> Tensor:
        for layer in layers:
            if not isinstance(layer, tuple):
                x = layer(x)
                continue
            w, b = params[layer[0]], params[layer[1]] if layer[1] else None
            if x.dim() == 2:  # an input shared by all trials
                x = x.expand(len(w), *x.shape)
            if b is None:
                x = torch.bmm(x, w.transpose(1, 2))
            else:
                x = torch.baddbmm(b.unsqueeze(1), x, w.transpose(1, 2))
        return x

    return forward


class _Batch:
    """The state of T trials stepping together: stacked model, optimizer, rows, liveness."""

    def __init__(self, configs: list[TrialConfig]):
        self.configs = configs
        c0 = configs[0]
        self.device = torch.device(c0.device)
        self.problem = problem = c0.problem.build()
        self.seeds = [c.seed for c in configs]
        self.skeleton, self.params = _stack_models(problem, self.seeds, self.device)
        self.forward = self.forward_shared = _stacked_mlp(self.skeleton)
        self.engine = "stacked layers"
        if self.forward is None:
            self.forward = torch.func.vmap(self._call, in_dims=(0, 0))
            self.forward_shared = torch.func.vmap(self._call, in_dims=(0, None))
            self.engine = "torch.func.vmap"
        self.loss = _per_trial(problem.loss)
        self.metric = _per_trial(problem.metric)
        self.optimizer = _optimizer(configs, self.params)
        self.scheduler = c0.scheduler(self.optimizer)
        d = self.device
        self.xs, self.ys = problem.x_train.to(d), problem.y_train.to(d)
        self.xv, self.yv = problem.x_val.to(d), problem.y_val.to(d)
        self.batch_size = c0.batch_size
        self.per_epoch = problem.steps_per_epoch(self.batch_size)
        self.total = c0.budget.steps(self.per_epoch)
        self.eval_steps = c0.eval_every.steps(self.per_epoch)
        self.generators = [torch.Generator().manual_seed(s) for s in self.seeds]
        T = len(configs)
        self.alive = torch.ones(T, dtype=torch.bool, device=d)
        self.rows: list[list[MetricRow]] = [[] for _ in range(T)]
        self.steps = [0] * T
        self.diverged = [False] * T
        self.why: list[str | None] = [None] * T  # why each diverged, where a row shows it
        self.start = time.perf_counter()

    def _call(self, params: dict[str, Tensor], x: Tensor) -> Tensor:
        return torch.func.functional_call(self.skeleton, params, (x,))

    # -- divergence -------------------------------------------------------------------------

    def _diverge(self, bad: Tensor, step: int) -> None:
        """Mark the trials in the bool mask ``bad`` diverged at ``step`` and drop them."""
        if not bool(bad.any()):
            return
        for i in bad.nonzero().flatten().tolist():
            self.diverged[i], self.steps[i] = True, step
        self.alive &= ~bad

    def _finite_grads(self) -> Tensor:
        """[T] bool: whether every gradient entry of each trial is finite."""
        ok = self.alive.clone()
        for p in self.params.values():
            if p.grad is not None:
                flat = p.grad.reshape(len(ok), -1)
                ok &= torch.isfinite(flat.amax(1)) & torch.isfinite(flat.amin(1))
        return ok

    def _mask_grads(self) -> None:
        """Zero the gradients of diverged trials, so their slices hold no NaN to spread."""
        if bool(self.alive.all()):
            return
        for p in self.params.values():
            if p.grad is not None:
                shape = (-1,) + (1,) * (p.dim() - 1)
                p.grad.mul_(self.alive.reshape(shape)).nan_to_num_(0.0, 0.0, 0.0)

    # -- training -------------------------------------------------------------------------

    def step(self, idx: Tensor, step: int) -> None:
        """One optimizer step of every live trial on its own mini-batch ``idx[i]``."""
        xb, yb = self.xs[idx], self.ys[idx]
        self.optimizer.zero_grad(set_to_none=True)
        losses = self.loss(self.forward(self.params, xb), yb)
        self._diverge(self.alive & ~torch.isfinite(losses.detach()), step)
        torch.where(self.alive, losses, torch.zeros((), device=losses.device)).sum().backward()
        self._diverge(self.alive & ~self._finite_grads(), step)
        self._mask_grads()
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()

    @torch.no_grad()
    def _measure(self, x: Tensor, y: Tensor) -> tuple[list, list]:
        """Per trial (mean loss, metric) on (x, y) in evaluation mode. The outputs are
        computed in chunks of about 4096 / T examples, so that the T trials' activations stay
        in cache (the sequential trial's chunk of 4096 examples, shared out among them)."""
        chunk = max(32, 4096 // len(self.rows))
        self.skeleton.eval()
        try:
            parts = [
                self.forward_shared(self.params, x[i : i + chunk]) for i in range(0, len(x), chunk)
            ]
        finally:
            self.skeleton.train()
        out = torch.cat(parts, dim=1)
        targets = y.expand(out.shape[0], *y.shape)
        return self.loss(out, targets).tolist(), self.metric(out, targets).tolist()

    def _lrs(self) -> list[float]:
        lr = self.optimizer.param_groups[0].get("lr", math.nan)
        if isinstance(lr, Tensor):
            return (
                lr.detach().reshape(-1).tolist() if lr.numel() > 1 else [float(lr)] * len(self.rows)
            )
        return [float(lr)] * len(self.rows)

    def evaluate(self, step: int) -> None:
        """Append a row to every live trial; one whose losses are not finite diverges (after
        step 0, as in run_trial, whose row 0 never ends a trial)."""
        tl, tm = self._measure(self.xs, self.ys)
        vl, vm = self._measure(self.xv, self.yv)
        lrs, now = self._lrs(), time.perf_counter() - self.start
        bad = torch.zeros_like(self.alive)
        for i in self.alive.nonzero().flatten().tolist():
            self.rows[i].append(
                MetricRow(step, step / self.per_epoch, tl[i], tm[i], vl[i], vm[i], lrs[i], now)
            )
            if step > 0:
                self.why[i] = divergence(self.rows[i], self.configs[i].diverge_factor)
                bad[i] = self.why[i] is not None
        self._diverge(bad, step)

    def run(self, progress: Callable[[EpochEvent], None] | None) -> None:
        """Train every trial to the budget, or until it diverges."""
        self.evaluate(0)
        step, epoch = 0, 0
        while step < self.total and bool(self.alive.any()):
            orders = [
                problem_batches(self.problem.n_train, self.batch_size, g) for g in self.generators
            ]
            for idx in zip(*orders, strict=True):
                self.step(torch.stack(idx).to(self.device), step)
                step += 1
                for i in self.alive.nonzero().flatten().tolist():
                    self.steps[i] = step
                if step % self.eval_steps == 0 or step == self.total:
                    self.evaluate(step)
                if step >= self.total or not bool(self.alive.any()):
                    break
            epoch += 1
            if progress is not None:
                self._progress(progress, epoch, step)

    def _progress(self, progress: Callable[[EpochEvent], None], epoch: int, step: int) -> None:
        live = self.alive.nonzero().flatten().tolist()
        rows = self.rows[live[0] if live else 0]
        epochs = math.ceil(self.total / self.per_epoch)
        progress(
            EpochEvent(epoch, epochs, step, self.total, rows[-1].val_metric if rows else math.nan)
        )

    def results(self, env: dict[str, Any]) -> list[TrialResult]:
        """One result per trial, as run_trial gives; wall_time is the trial's share."""
        wall = (time.perf_counter() - self.start) / len(self.rows)
        out = []
        for i, config in enumerate(self.configs):
            result = TrialResult("done", self.rows[i], self.steps[i], wall, environment=env)
            if self.diverged[i]:
                result.status = "diverged"
                result.error = self.why[i] or f"non-finite loss or gradient at step {self.steps[i]}"
            elif config.save_model:
                # a clone: the view of row i would save the whole stacked storage
                result.model = state_bytes(
                    {k: v[i].detach().clone() for k, v in self.params.items()}
                )
            out.append(result)
        return out


def _sequential(
    configs: list[TrialConfig], progress: Callable | None, reason: str | None
) -> list[TrialResult]:
    results = [run_trial(c, progress) for c in configs]
    if reason is not None and len(configs) > 1:
        for r in results:
            if r.environment is not None:
                r.environment = {**r.environment, "batch": {"trials": 1, "why_not": reason}}
    return results


def run_batch(
    configs: list[TrialConfig | dict[str, Any]],
    progress: Callable[[EpochEvent], None] | None = None,
) -> list[TrialResult]:
    """Results of ``configs`` (TrialConfigs or their stored dict form, in order), as
    :func:`run_trial` would give them one by one.

    Configs sharing one :func:`batch_group_key` run as one batched computation; otherwise,
    or when the model cannot be stacked (buffers, random layers), they run one at a time and
    ``environment["batch"]["why_not"]`` says why. ``threads`` of the first config sets
    torch's threads for the batch."""
    if not configs:
        return []
    configs = [TrialConfig.of(c) for c in configs]
    keys = {batch_group_key(c) for c in configs}
    if len(configs) == 1 or None in keys or len(keys) > 1:
        why = unbatchable(configs[0]) or "the trials differ in more than hyperparameters and seed"
        return _sequential(configs, progress, why if len(configs) > 1 else None)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(configs[0].threads or threads)
        env = environment(configs[0].device)
        batch = _Batch(configs)
        env["batch"] = {"trials": len(configs), "engine": batch.engine}
        batch.run(progress)
        return batch.results(env)
    except Exception as err:  # not stackable (or a trial fails): run them one at a time
        reason = f"{type(err).__name__}: {err}"
        if "random operation" in str(err):  # vmap refuses dropout and the like
            reason = "the model draws random numbers (dropout?), which vmap cannot batch"
    finally:
        torch.set_num_threads(threads)
    return _sequential(configs, progress, reason)
