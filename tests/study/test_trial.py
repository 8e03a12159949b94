"""One trial: deterministic given its seed, plain gradient descent at full batch, schedules
that follow their formula; and the second-order and quasi-Newton optimizers, each given the
closure its ``closure_kind`` asks for (K-FAC is built on the model), training
deterministically, a divergence recorded, never raised."""

from __future__ import annotations

import io
import itertools
import math

import pytest
import torch

import ravine.optim as ro
from ravine.study import Results, Store, run_study, run_trial, summarize
from ravine.study.records import METRIC_COLUMNS
from support.study import tiny_spec


def test_trial_is_deterministic_and_leaves_global_rng_alone(user_module):
    cfg = {
        "problem": {"name": "ravine_test_blobs:blobs", "options": {}, "label": "b"},
        "optimizer": {"name": "adam", "label": "adam"},
        "hyperparameters": {"lr": 0.01},
        "seed": 3,
        "budget": {"epochs": 2},
        "batch_size": 16,
        "eval_every": {"steps": 4},
    }
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a, b = run_trial(cfg), run_trial(cfg)
    assert torch.equal(torch.get_rng_state(), before)
    strip = lambda rows: [r._replace(wall_time=0) for r in rows]  # noqa: E731  (it differs)
    assert a.status == "done" and strip(a.rows) == strip(b.rows)
    c = run_trial({**cfg, "seed": 4})
    assert strip(c.rows) != strip(a.rows)
    assert len(a.rows[0]) == len(METRIC_COLUMNS)
    # 180 examples / 16 = 12 steps per epoch (last batch short): evals at 0, 4, 8, ..., 24
    assert [r[0] for r in a.rows] == [0, 4, 8, 12, 16, 20, 24]


def test_full_batch_trial_is_gradient_descent(user_module):
    """batch_size = "full" is plain gradient descent: compare with torch.optim.SGD on the
    whole training set, step by step, from the same initialisation."""
    from ravine import problems

    cfg = {
        "problem": {"name": "ravine_test_blobs:blobs", "options": {}, "label": "b"},
        "optimizer": {"name": "sgd", "label": "sgd"},
        "hyperparameters": {"lr": 0.3},
        "seed": 5,
        "budget": {"steps": 7},
        "batch_size": "full",
        "eval_every": {"steps": 1},
    }
    out = run_trial(cfg)
    problem = problems.get("ravine_test_blobs:blobs")
    torch.manual_seed(5)
    model = problem.model()
    opt = torch.optim.SGD(model.parameters(), lr=0.3)
    losses = []
    for _ in range(7):
        opt.zero_grad()
        loss = problem.loss(model(problem.x_train), problem.y_train)
        loss.backward()
        opt.step()
        with torch.no_grad():
            losses.append(float(problem.loss(model(problem.x_train), problem.y_train)))
    assert [r[2] for r in out.rows[1:]] == pytest.approx(losses, rel=1e-5)
    via_torch = run_trial({**cfg, "optimizer": {"name": "torch.optim.SGD", "label": "t"}})
    assert [r[2] for r in via_torch.rows[1:]] == pytest.approx(losses, rel=1e-5)
    single = run_trial(
        {**cfg, "batch_size": 1, "budget": {"epochs": 1}, "eval_every": {"epochs": 1}}
    )
    assert single.steps == problem.n_train  # single-example SGD: one step per example


def test_schedules_in_a_trial_follow_their_formula(user_module):
    """A spec's schedule strings drive the optimizer: step decay halves lr every 4 steps,
    momentum rises linearly from 0.5 to 0.9 over 8 steps (recorded lr checked per eval)."""
    cfg = {
        "problem": {"name": "ravine_test_blobs:blobs", "options": {}, "label": "b"},
        "optimizer": {"name": "momentum", "label": "momentum"},
        "hyperparameters": {"lr": 0.2, "momentum": 0.5},
        "schedules": {"lr": "step:4:0.5", "momentum": "linear:0.5:0.9:8"},
        "seed": 0,
        "budget": {"steps": 12},
        "batch_size": 30,
        "eval_every": {"steps": 2},
    }
    out = run_trial(cfg)
    steps = [r[0] for r in out.rows]
    lrs = [r[METRIC_COLUMNS.index("lr")] for r in out.rows]
    assert steps == [0, 2, 4, 6, 8, 10, 12]
    assert lrs == pytest.approx([0.2 * 0.5 ** (s // 4) for s in steps], rel=1e-12)
    unscheduled = run_trial({**cfg, "schedules": {}})
    assert unscheduled.rows[-1][2] != out.rows[-1][2]


MOONS = {"name": "moons", "options": {"n": 200, "hidden": 8}, "label": "moons"}

# Settings that make a short full-batch run on moons descend steadily.
CASES = {
    "lbfgs": {"line_search_fn": "strong_wolfe"},
    "bfgs": {},
    "newton": {"damping": 0.1, "line_search_fn": "backtracking"},
    "levenberg_marquardt": {},
    "gauss_newton": {"damping": 0.1},
    "natural_gradient": {"damping": 0.1},
    "natural_gradient-empirical": {"damping": 0.1, "fisher": "empirical"},
    "hessian_free": {},
    "diagonal_newton": {"lr": 0.1},
    "block_newton": {"damping": 0.1, "lr": 0.5},
    "kfac": {"lr": 0.2, "damping": 0.1, "momentum": 0.0, "inverse_update_interval": 1},
    "shampoo": {"lr": 0.1},
    "soap": {"lr": 0.05, "precondition_frequency": 2},
    "muon": {"lr": 0.1, "weight_decay": 0.0},
    "lookahead": {"lr": 0.03, "lookahead_k": 2, "lookahead_alpha": 0.8},
    "sophia": {"lr": 0.02, "weight_decay": 0.0},
    "sophia_h": {"lr": 0.02, "weight_decay": 0.0},
}
# Optimizers whose first step does not move: SOAP's builds its eigenbasis.
STILL_AT_FIRST_STEP = {"soap"}


def config(name: str, hyperparameters: dict, **overrides) -> dict:
    cfg = {
        "problem": MOONS,
        "optimizer": {"name": name, "label": name},
        "hyperparameters": hyperparameters,
        "seed": 0,
        "budget": {"steps": 6},
        "batch_size": "full",
        "eval_every": {"steps": 1},
    }
    return cfg | overrides


def strip(rows: list) -> list:
    return [r._replace(wall_time=0) for r in rows]  # wall time differs between runs


def _closure_driven(name: str) -> bool:
    cls = ro.lookup(name)
    return bool(cls.needs_closure) or cls.closure_kind == "model"


def test_every_closure_driven_optimizer_has_a_case():
    """New second-order optimizers must be added here (and so be usable in studies)."""
    covered = {label.split("-")[0] for label in CASES}
    missing = {n for n in ro.names() if _closure_driven(n)} - covered
    assert not missing, f"closure-driven optimizers without a case: {sorted(missing)}"


@pytest.mark.parametrize("name", ro.names())
def test_every_registered_optimizer_runs_a_trial(name):
    """Three mini-batch steps on moons, each optimizer at its defaults (the closure-driven
    ones at their case's settings, with the closure their kind asks for): the trial
    finishes, with finite losses, and the same numbers twice."""
    hyperparameters = CASES.get(name, {}) if _closure_driven(name) else {}
    cfg = config(name, hyperparameters, budget={"steps": 3}, batch_size=50)
    a, b = run_trial(cfg), run_trial(cfg)
    assert a.status == "done", a.error
    assert a.steps == 3 and all(math.isfinite(r.train_loss) for r in a.rows)
    assert a.model is not None
    assert strip(a.rows) == strip(b.rows)


@pytest.mark.parametrize("label", sorted(CASES))
def test_closure_driven_optimizer_trains_in_a_trial(label):
    cfg = config(label.split("-")[0], CASES[label])
    a, b = run_trial(cfg), run_trial(cfg)
    assert a.status == "done", a.error
    assert a.steps == 6 and [r[0] for r in a.rows] == list(range(7))
    losses = [r[2] for r in a.rows]
    assert all(math.isfinite(v) for v in losses)
    if label in STILL_AT_FIRST_STEP:
        assert losses[1] == losses[0]
        losses = losses[1:]
    # full batch: every step lowers the training loss, and by a good margin in all
    assert all(later < earlier for earlier, later in itertools.pairwise(losses))
    assert losses[-1] < 0.85 * losses[0]
    assert strip(a.rows) == strip(b.rows)  # the same trial twice: the same numbers


def test_trial_with_minibatches_is_deterministic_and_descends():
    cfg = config("natural_gradient", CASES["natural_gradient-empirical"], batch_size=40)
    a, b = run_trial(cfg), run_trial(cfg)
    assert a.status == "done", a.error
    assert strip(a.rows) == strip(b.rows)
    assert a.rows[-1][2] < 0.7 * a.rows[0][2]


def test_lbfgs_trial_matches_torch_lbfgs():
    """ravine's LBFGS and torch.optim.LBFGS with the same settings, each driven by the trial's
    closure: the same iterates, so the same recorded losses and metrics. (max_eval is given:
    the two libraries' defaults differ for max_iter=1.)"""
    settings = {"max_iter": 1, "max_eval": 25, "history_size": 10, "line_search_fn": "strong_wolfe"}
    ours = run_trial(config("lbfgs", settings))
    theirs = run_trial(config("torch.optim.LBFGS", settings))
    assert ours.status == theirs.status == "done"
    assert strip(ours.rows) == strip(theirs.rows)


def test_empirical_fisher_trial_uses_per_example_losses():
    """The empirical Fisher needs the per-example losses; the trial hands them over, and the
    step equals one computed by hand: d = -(F + lambda I)^-1 g with
    F = (1/N) sum_n grad l_n grad l_n^T, dense, from a per-example loop."""
    from ravine import problems

    damping = 0.1
    out = run_trial(
        config(
            "natural_gradient",
            {"damping": damping, "fisher": "empirical", "cg_max_iter": 500, "cg_tol": 1e-12},
            budget={"steps": 1},
        )
    )
    problem = problems.get("moons", n=200, hidden=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = problem.model().double()
    x, y = problem.x_train.double(), problem.y_train
    params = list(model.parameters())
    rows = []
    for n in range(len(x)):
        loss = problem.loss(model(x[n : n + 1]), y[n : n + 1])
        rows.append(torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)]))
    J = torch.stack(rows)
    g = J.mean(0)
    F = J.T @ J / len(x)
    d = torch.linalg.solve(F + damping * torch.eye(len(g), dtype=g.dtype), -g)
    with torch.no_grad():
        offset = 0
        for p in params:
            p += d[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        expected = float(problem.loss(model(x), y))
    assert out.rows[1][2] == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("name", "hyperparameters"),
    [
        ("lbfgs", {"lr": 1e6}),
        ("gauss_newton", {"lr": 1e6}),
        ("kfac", {"lr": 1e6, "momentum": 0.0}),
        ("sgd", {"lr": 1e6}),
    ],
)
def test_divergence_is_recorded_not_raised(user_module, name, hyperparameters):
    """Squared error on blobs with an absurd step: the loss or the gradient turns non-finite
    (ravine raises FloatingPointError on a non-finite gradient) or grows past the diverge
    factor first; the trial records it."""
    blobs = {"name": "ravine_test_blobs:blobs", "options": {"mse": True}, "label": "b"}
    out = run_trial(config(name, hyperparameters, problem=blobs, budget={"steps": 30}))
    assert out.status == "diverged", out.error
    assert "non-finite" in out.error or "diverge_factor" in out.error
    assert out.steps < 30 and out.model is None


def test_study_with_second_order_optimizers(tmp_path):
    """A small study: the spec accepts them, the runner finishes every trial."""
    spec = tiny_spec(
        seeds=[0],
        budget={"steps": 4},
        batch_size="full",
        eval_every={"steps": 2},
        problems=[MOONS],
        optimizers=[
            {"name": "lbfgs", "lr": [1.0]},
            {"name": "kfac", "lr": [0.2], "damping": 0.1, "momentum": 0.0},
            {"name": "hessian_free", "damping": [1.0, 10.0]},
            {"name": "shampoo", "lr": [0.05]},
            {"name": "soap", "lr": [0.05]},
        ],
    )
    path = run_study(spec, tmp_path / "second.db", progress=False)
    with Store(path) as s:
        trials = s.trials()
        assert {t.status for t in trials} == {"done"} and len(trials) == 6
        metrics = s.metrics()
        for t in trials:
            rows = metrics[t.id]
            assert rows[-1].train_loss < rows[0].train_loss
        assert {r["optimizer"] for r in summarize(Results.from_store(s))} == {
            "lbfgs",
            "kfac",
            "hessian_free",
            "shampoo",
            "soap",
        }


def test_non_finite_gradient_of_a_finite_loss_is_a_divergence(monkeypatch):
    """loss = mean sqrt|z| at z = 0 is finite (0) but its gradient is not (inf * 0 = NaN):
    ravine's SGD raises FloatingPointError, which the trial records as a divergence (it used
    to end the trial as failed)."""
    from torch import nn

    from ravine import problems

    def zero_model() -> nn.Module:
        layer = nn.Linear(2, 1)
        nn.init.zeros_(layer.weight)
        nn.init.zeros_(layer.bias)
        return layer

    def sqrt_problem() -> problems.Problem:
        x = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
        return problems.Problem(
            name="sqrt",
            model=zero_model,
            x_train=x,
            y_train=torch.zeros(8),
            x_val=x,
            y_val=torch.zeros(8),
            loss=lambda z, y: (z.squeeze(-1) - y).abs().sqrt().mean(),
            metric=lambda z, y: -(z.squeeze(-1) - y).abs().mean(),
        )

    monkeypatch.setitem(problems.PROBLEMS, "ravine_test_sqrt", sqrt_problem)
    problem = {"name": "ravine_test_sqrt", "options": {}, "label": "sqrt"}
    for name in ("sgd", "lbfgs"):
        out = run_trial(config(name, {"lr": 0.1}, problem=problem))
        assert out.status == "diverged", out.error
        assert out.steps == 0 and len(out.rows) == 1 and out.rows[0][2] == 0.0


def _exploding(**overrides):
    """SGD climbing a squared error (maximize): the loss grows 1 + 2 lr-fold a step or so,
    finite for the whole budget but far past its start."""
    from ravine.study.protocols import trial_config
    from ravine.study.spec import Spec

    spec = Spec.from_dict(
        tiny_spec(
            seeds=[0, 1],
            budget={"epochs": 2},
            problems=[{"name": "ravine_test_blobs:blobs", "options": {"mse": True}}],
            optimizers=[{"name": "sgd", "lr": [3.0], "maximize": True}],
            **overrides,
        )
    )
    return [
        trial_config(spec, spec.problems[0], spec.optimizers[0], {"lr": 3.0, "maximize": True}, s)
        for s in (0, 1)
    ]


def test_a_loss_grown_past_the_diverge_factor_is_a_divergence(user_module):
    from ravine.study.batched import run_batch

    configs = _exploding()
    for result in [run_trial(configs[0]), *run_batch(configs)]:
        assert result.status == "diverged", result.rows
        assert all(math.isfinite(r.train_loss) for r in result.rows)
        assert result.rows[-1].train_loss > 1e4 * result.rows[0].train_loss
        assert "diverge_factor" in result.reason
    relaxed = _exploding(diverge_factor=math.inf)
    assert run_trial(relaxed[0]).status == "done"
    assert relaxed[0].to_dict()["diverge_factor"] == math.inf
    assert "diverge_factor" not in configs[0].to_dict()  # the default keeps old hashes


def test_the_diverge_factor_is_checked():
    from ravine.study.spec import Spec, SpecError

    for bad in (1, 0.5, "big", True):
        with pytest.raises(SpecError, match="diverge_factor"):
            Spec.from_dict(tiny_spec(diverge_factor=bad), check_problems=False)


def _moons_model():
    from ravine import problems

    problem = problems.get("moons", n=200, hidden=8)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = problem.model()
    return problem, model


def test_schedule_free_metrics_and_saved_model_are_the_average():
    """Every row is measured at x (eval mode) and the saved model is x, while training steps
    at y: the same run by hand with the authors' ``schedulefree`` package, switched to eval
    for each measurement and back, gives the same numbers."""
    schedulefree = pytest.importorskip("schedulefree")
    out = run_trial(config("schedule_free_adamw", {"lr": 0.05}, budget={"steps": 5}))
    problem, model = _moons_model()
    opt = schedulefree.AdamWScheduleFree(model.parameters(), lr=0.05)
    x, y = problem.x_train, problem.y_train
    losses = []
    for step in range(6):
        opt.eval()
        losses.append(problem.evaluate(model, x, y)[0])
        opt.train()
        if step < 5:
            opt.zero_grad()
            problem.loss(model(x), y).backward()
            opt.step()
    assert [r.train_loss for r in out.rows] == losses
    opt.eval()
    saved = torch.load(io.BytesIO(out.model))
    for key, value in model.state_dict().items():
        assert torch.equal(saved[key], value), key
    opt.train()  # y, where training stands, measures otherwise
    assert problem.evaluate(model, x, y)[0] != losses[-1]


def test_prodigy_rows_record_its_estimated_learning_rate():
    """``estimated_lr`` is d lr after each step, as prodigyopt's d; NaN for optimizers
    that estimate nothing."""
    prodigyopt = pytest.importorskip("prodigyopt")
    out = run_trial(config("prodigy", {"lr": 0.5}, budget={"steps": 5}))
    problem, model = _moons_model()
    opt = prodigyopt.Prodigy(model.parameters(), lr=0.5)
    expected = [0.5 * 1e-6]
    for _ in range(5):
        opt.zero_grad()
        problem.loss(model(problem.x_train), problem.y_train).backward()
        opt.step()
        expected.append(0.5 * opt.param_groups[0]["d"])
    assert [r.estimated_lr for r in out.rows] == pytest.approx(expected, rel=1e-6)
    assert out.rows[-1].estimated_lr > 5 * out.rows[0].estimated_lr  # it grew from d0 lr
    assert [r.lr for r in out.rows] == [0.5] * 6
    adam = run_trial(config("adam", {}, budget={"steps": 2}))
    assert all(math.isnan(r.estimated_lr) for r in adam.rows)
