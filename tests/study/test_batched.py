"""Batched trials against the sequential runner: T trials stepping together as one computation
record, trial by trial, the rows run_trial records for each alone.

Tolerance. Both run in float32. A batched matmul (``bmm``), the per-trial loss of a
``[T, B, C]`` output and a tensor learning rate round the same formulas as the sequential
``mm``, loss and Python-float learning rate, but accumulate the sums in another order, so
each operation may differ in the last bit or two (relative 1e-7). Over a few dozen steps of
non-chaotic training these differences grow to about 1e-6 (measured); the rows are compared
at rtol 2e-5 with atol 1e-6, well below any difference a wrong batch, data order or
learning rate would make (those move the losses at 1e-2). What involves no reduction is
compared bitwise: the initial weights, steps, epochs, statuses, and the rows of trials that
run in two different batches (the same batched kernels: masking a diverged trial must leave
the others' numbers unchanged to the bit).
"""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from ravine import problems
from ravine.study import Store, run_study, run_trial
from ravine.study.batched import _stack_models, batch_group_key, run_batch, unbatchable
from support.study import tiny_spec

RTOL, ATOL = 2e-5, 1e-6


def config(lr: float, seed: int, optimizer: str = "sgd", **over) -> dict:
    cfg = {
        "problem": {"name": "ravine_test_blobs:blobs", "options": {}, "label": "blobs"},
        "optimizer": {"name": optimizer, "label": optimizer},
        "hyperparameters": {"lr": lr},
        "schedules": {},
        "seed": seed,
        "budget": {"steps": 30},
        "batch_size": 20,
        "eval_every": {"steps": 5},
        "device": "cpu",
        "save_model": True,
        "threads": 1,
    }
    cfg.update(over)
    return cfg


def assert_rows_close(batched: dict, alone: dict) -> None:
    """Same status, steps and rows (step and epoch exact; losses, metrics, lr to tolerance;
    wall time not compared)."""
    assert batched.status == alone.status and batched.steps == alone.steps
    assert len(batched.rows) == len(alone.rows)
    for rb, ra in zip(batched.rows, alone.rows, strict=True):
        assert rb[:2] == ra[:2]
        torch.testing.assert_close(
            torch.tensor(rb[2:7], dtype=torch.float64),
            torch.tensor(ra[2:7], dtype=torch.float64),
            rtol=RTOL,
            atol=ATOL,
            equal_nan=True,
        )


def load(blob: bytes) -> dict:
    return torch.load(io.BytesIO(blob), weights_only=True)


CASES = {
    "sgd": ("sgd", {}),
    "momentum": ("momentum", {"momentum": 0.9}),
    "adam-betas": ("adam", {}),
    "rmsprop-scheduled": ("rmsprop", {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_batched_trials_record_the_sequential_rows(user_module, case):
    name, extra = CASES[case]
    lrs, seeds = (
        ([0.3, 0.05, 0.1], [0, 1, 1]) if name == "sgd" else ([0.01, 0.003, 0.02], [2, 0, 1])
    )
    configs = []
    for i, (lr, seed) in enumerate(zip(lrs, seeds, strict=True)):
        hps = {"lr": lr, **extra}
        if case == "adam-betas":  # a tuple hyperparameter varying in one entry only
            hps["betas"] = [0.9 - 0.1 * i, 0.999]
        over = {"schedules": {"lr": "cosine:30"}} if case == "rmsprop-scheduled" else {}
        configs.append({**config(lr, seed, name, **over), "hyperparameters": hps})
    assert len({batch_group_key(c) for c in configs}) == 1
    batched = run_batch(configs)
    for b, c in zip(batched, configs, strict=True):
        assert b.environment["batch"] == {"trials": 3, "engine": "stacked layers"}
        alone = run_trial(c)
        assert_rows_close(b, alone)
        mb, ma = load(b.model), load(alone.model)
        assert mb.keys() == ma.keys()
        for k in ma:
            torch.testing.assert_close(mb[k], ma[k], rtol=1e-4, atol=1e-6)


def test_each_trial_starts_from_its_own_seed_bitwise(user_module):
    problem = problems.get("ravine_test_blobs:blobs")
    _, stacked = _stack_models(problem, [5, 0, 5], torch.device("cpu"))
    for i, seed in enumerate([5, 0, 5]):
        torch.manual_seed(seed)
        for name, p in problem.model().named_parameters():
            assert torch.equal(stacked[name][i], p.detach())


def test_divergence_masks_the_trial_and_the_others_go_on_unchanged(user_module):
    """lr 1e3 on a squared-error loss blows up within a few steps: that trial is recorded as
    diverged at the sequential runner's step, with its rows up to then; the others finish
    with their sequential rows, and bitwise the rows they get in a batch without it."""
    mse = {"name": "ravine_test_blobs:blobs", "options": {"mse": True}, "label": "blobs"}
    configs = [config(lr, s, problem=mse) for lr, s in [(0.1, 0), (1e3, 1), (0.3, 2)]]
    batched = run_batch(configs)
    assert [b.status for b in batched] == ["done", "diverged", "done"]
    assert batched[1].model is None and "diverge_factor" in batched[1].error
    for b, c in zip(batched, configs, strict=True):
        assert_rows_close(b, run_trial(c))
    without = run_batch([configs[0], configs[2]])
    assert without[0].environment["batch"]["trials"] == 2
    assert batched[0].rows[-1][:7] == without[0].rows[-1][:7]
    assert [r[:7] for r in batched[2].rows] == [r[:7] for r in without[1].rows]


def test_a_cnn_batches_through_vmap():
    problem = {"name": "digits_cnn", "options": {"channels": 2}, "label": "cnn"}
    configs = [
        config(lr, s, "adam", problem=problem, budget={"steps": 6}, eval_every={"steps": 3})
        for lr, s in [(0.01, 0), (0.003, 1)]
    ]
    batched = run_batch(configs)
    for b, c in zip(batched, configs, strict=True):
        assert b.environment["batch"]["engine"] == "torch.func.vmap"
        assert_rows_close(b, run_trial(c))


def _odd_blobs(layer: str = "batchnorm", n: int = 60) -> problems.Problem:
    """A model with batch-norm statistics (buffers) or dropout (random numbers)."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(n, 3, generator=g), torch.randint(2, (n,), generator=g)
    middle = {"batchnorm": lambda: nn.BatchNorm1d(4), "dropout": lambda: nn.Dropout(0.5)}[layer]
    return problems.Problem(
        name="odd_blobs",
        model=lambda: nn.Sequential(nn.Linear(3, 4), middle(), nn.Linear(4, 2)),
        x_train=x,
        y_train=y,
        x_val=x,
        y_val=y,
    )


def test_what_cannot_batch_runs_one_at_a_time_and_says_why(user_module):
    assert "torch.optim.SGD" in unbatchable(config(0.1, 0, "torch.optim.SGD"))
    assert "closure" in unbatchable(config(0.1, 0, "gauss_newton")) or "elementwise" in (
        unbatchable(config(0.1, 0, "gauss_newton"))
    )
    assert batch_group_key(config(0.1, 0, "lbfgs")) is None
    a = config(0.1, 0, "adam")
    b = {**config(0.2, 1, "adam"), "hyperparameters": {"lr": 0.2, "amsgrad": True}}
    c = {**config(0.3, 2, "adam"), "hyperparameters": {"lr": 0.3, "amsgrad": False}}
    assert batch_group_key(a) != batch_group_key(b) != batch_group_key(c)
    assert batch_group_key(a) == batch_group_key(config(0.5, 7, "adam"))
    if "odd_blobs" not in problems.PROBLEMS:
        problems.register("odd_blobs", _odd_blobs)
    for layer, why in [("batchnorm", "buffers"), ("dropout", "random numbers")]:
        odd = {"name": "odd_blobs", "options": {"layer": layer}, "label": layer}
        results = run_batch([config(0.1, s, problem=odd, batch_size=15) for s in (0, 1)])
        assert all(r.status == "done" for r in results)
        assert why in results[0].environment["batch"]["why_not"]


def test_a_study_batches_by_default_says_so_and_no_batch_turns_it_off(user_module, tmp_path):
    from ravine.study import Progress

    spec = tiny_spec(
        seeds=[0, 1],
        optimizers=[{"name": "adam", "lr": [0.01, 0.05]}, {"name": "torch.optim.SGD", "lr": [0.1]}],
    )
    out = io.StringIO()
    a = run_study(spec, tmp_path / "a.db", progress=Progress(out))
    b = run_study(spec, tmp_path / "b.db", progress=False, batch=False)
    said = out.getvalue()
    assert "batched: 4 trials of ravine_test_blobs:blobs adam step together" in said
    assert "one at a time: torch.optim.SGD takes scalar hyperparameters only" in said
    with Store(a) as sa, Store(b) as sb:
        ta = {(t.optimizer, t.hyperparameters["lr"], t.seed): t for t in sa.trials()}
        tb = {(t.optimizer, t.hyperparameters["lr"], t.seed): t for t in sb.trials()}
        ma, mb = sa.metrics(), sb.metrics()
    assert ta.keys() == tb.keys() and len(ta) == 6
    for k in ta:
        assert ta[k].environment.get("batch", {}).get("trials") == (4 if k[0] == "adam" else None)
        assert "batch" not in tb[k].environment and ta[k].attempts == 1
        ra, rb = ma[ta[k].id], mb[tb[k].id]
        assert [r.step for r in ra] == [r.step for r in rb]
        for x, y in zip(ra, rb, strict=True):
            assert x.train_loss == pytest.approx(y.train_loss, rel=RTOL, abs=ATOL)
            assert x.val_metric == pytest.approx(y.val_metric, rel=RTOL, abs=ATOL)
