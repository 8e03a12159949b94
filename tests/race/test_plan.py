"""The race plan: every argument checked and resolved once, each refusal naming its argument
before any trajectory moves."""

from __future__ import annotations

import math
import re

import pytest
import torch

from ravine import landscapes, optim, schedules
from ravine.cli.race import DEFAULT_OPTIMIZERS, DEFAULT_STEPS
from ravine.race import OUTCOMES, PlanError, RacePlan, race

RACEABLE = [n for n in optim.names() if optim.lookup(n).closure_kind in ("backward", "loss")]

MODEL_ONLY = [n for n in optim.names() if n not in RACEABLE]

#: The first-order optimizers: each family a landscape suggests a learning rate for.
FIRST_ORDER = [n for n in optim.names() if optim.lookup(n).elementwise]


def _progress(result, label):
    """(escaped, diverged, start loss, final loss) of the one trajectory of ``label``."""
    run = result[label]
    outcome = OUTCOMES[int(run.outcome.flatten()[0])]
    losses = run.losses.flatten()
    return outcome, float(losses[0]), float(run.final_losses().flatten()[0])


@pytest.mark.parametrize("name", landscapes.names())
def test_a_race_with_no_options_makes_progress_on_every_landscape(name):
    # What `ravine race NAME --out x.png` runs (its steps, the default optimizers, the
    # landscape's start and suggested learning rates): none diverges; each ends clearly
    # below its start (a tenth of the way to the global minimum at least) or, on a
    # landscape unbounded below, escapes downhill.
    f = landscapes.get(name)
    result = race(f, list(DEFAULT_OPTIMIZERS), steps=DEFAULT_STEPS)
    best = f.global_minimum
    for label in DEFAULT_OPTIMIZERS:
        outcome, start, final = _progress(result, label)
        assert outcome != "diverged", (name, label)
        if best is None:  # the saddles: x^2 - y^2 and the monkey saddle fall without end
            assert outcome == "escaped", (name, label, final)
        else:
            assert final <= start - 0.1 * (start - best.value), (name, label, start, final)


@pytest.mark.parametrize("name", landscapes.names())
def test_every_first_order_optimizer_makes_progress_with_the_suggested_lr(name):
    f = landscapes.get(name)
    result = race(f, FIRST_ORDER, steps=200)
    best = f.global_minimum
    floor = best.value if best is not None else -math.inf
    for label in FIRST_ORDER:
        outcome, start, final = _progress(result, label)
        assert outcome != "diverged", (name, label)
        assert final <= start - 0.05 * min(start - floor, 1.0), (name, label, start, final)


def test_the_lr_given_wins_over_the_landscape_suggestion_and_the_name_over_the_family():
    f = landscapes.get("rosenbrock")
    assert f.default_lr("adam", "adam") == f.lrs["adam"]
    assert f.default_lr("adadelta", "adaptive") == f.lrs["adadelta"] != f.lrs["adaptive"]
    assert f.default_lr("newton", "second-order") is None
    plan = RacePlan.build(f, ["sgd", "adam", "adadelta", "newton"])
    lrs = {e.label: e.lrs for e in plan.entries}
    assert lrs == {
        "sgd": [f.lrs["gradient descent"]],
        "adam": [f.lrs["adam"]],
        "adadelta": [f.lrs["adadelta"]],
        "newton": [optim.lookup("newton").hyperparameter_defaults()["lr"]],
    }
    assert RacePlan.build(f, ["sgd"], lrs=0.123).entries[0].lrs == [0.123]


@pytest.mark.parametrize("name", MODEL_ONLY)
def test_optimizers_that_need_a_model_say_which_landscapes_have_one(name):
    # the saddle x^2 - y^2 is no model's loss (tests/test_race_models.py races them on those)
    with pytest.raises(ValueError, match=r"saddle .* race it on one of .*moons"):
        race(landscapes.get("saddle"), [name], steps=2)


def test_optimizers_that_need_a_model_are_refused_with_the_landscapes_that_have_one():
    with pytest.raises(ValueError, match=r"saddle does not define.*rosenbrock.*moons"):
        race("saddle", ["gauss_newton"], steps=2)
    with pytest.raises(ValueError, match=r"not a linear model; race it on one of moons"):
        race("rosenbrock", ["kfac"], steps=2)
    noisy = landscapes.get("rosenbrock", noise=0.1)  # added noise has no model
    with pytest.raises(ValueError, match="does not define"):
        race(noisy, ["hessian_free"], steps=2)


def test_race_errors_are_clear():
    with pytest.raises(ValueError, match="unknown optimizer 'adamz'"):
        race("beale", ["adamz"])
    with pytest.raises(ValueError, match="unknown landscape"):
        race("bael", ["adam"])
    with pytest.raises(ValueError, match="invalid lr=-1"):
        race("beale", ["adam"], lrs=[-1.0])
    with pytest.raises(ValueError, match="2 coordinates"):
        race("beale", ["adam"], starts=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="steps must be"):
        race("beale", ["adam"], steps=-3)
    with pytest.raises(ValueError, match="seeds must be"):
        race("beale", ["adam"], seeds=[-1])
    with pytest.raises(ValueError, match="invalid momentum"):
        race("beale", {"momentum": {"momentum": [0.5, 1.5]}})
    with pytest.raises(ValueError, match="switch and cannot vary"):
        race("beale", {"nesterov": {"lookahead": [True, False]}})
    with pytest.raises(ValueError, match="hyperparameters are"):
        race("beale", {"adam": {"nope": 1.0}}, steps=1)


BAD = [
    ({"landscape": "bael"}, "landscape", "unknown landscape 'bael'"),
    ({"optimizers": ["adamz"]}, "optimizers", "unknown optimizer 'adamz'"),
    ({"optimizers": []}, "optimizers", "give at least one optimizer"),
    ({"optimizers": ["sgd", "sgd"]}, "optimizers", "labels must be distinct"),
    ({"optimizers": {"adam": {"nope": 1.0}}}, "optimizers", "Adam has no hyperparameter 'nope'"),
    ({"optimizers": {"adam": {"eps": -1.0}}}, "optimizers", "invalid eps=-1.0"),
    ({"optimizers": {"momentum": {"momentum": [0.5, 1.5]}}}, "optimizers", "invalid momentum"),
    ({"optimizers": {"m": {"optimizer": "momentum", "momentum": []}}}, "optimizers", "no values"),
    ({"optimizers": {"levenberg_marquardt": {"lr": 0.1}}}, "optimizers", "no learning rate"),
    ({"optimizers": {"sgd": {"lr": [0.1, -2.0]}}}, "optimizers", "invalid lr=-2.0"),
    ({"lrs": [0.1, float("nan")]}, "lrs", "invalid lr=nan"),
    ({"lrs": []}, "lrs", "lr lists no values"),
    ({"starts": [1.0, 2.0, 3.0]}, "starts", "2 coordinates"),
    ({"starts": [[float("inf"), 0.0]]}, "starts", "starts must be finite"),
    ({"steps": -3}, "steps", "steps must be an integer >= 0"),
    ({"seeds": []}, "seeds", "seeds must be integers >= 0"),
    ({"bound": 0.5}, "bound", "bound must be a number >= 1"),
    ({"tol": 0.0}, "tol", "tol must be a number > 0"),
    ({"schedules": {"adam": {"lr": "cosine:10"}}}, "schedules", "unknown optimizers ['adam']"),
    (
        {"schedules": {"sgd": {"rho": "cosine:10"}}},
        "schedules",
        "no hyperparameter 'rho'",
    ),
    ({"schedules": {"sgd": {"lr": "cosine:ten"}}}, "schedules", "optimizer 'sgd', lr: "),
    ({"landscape": "saddle", "optimizers": ["gauss_newton"]}, "optimizers", "race it on one of"),
]


@pytest.mark.parametrize(("change", "argument", "message"), BAD, ids=[b[1] for b in BAD])
def test_each_bad_argument_is_refused_by_name_before_any_work(
    monkeypatch, change, argument, message
):
    def no_work(*args, **kwargs):
        raise AssertionError("a trajectory moved before the arguments were checked")

    monkeypatch.setattr("ravine.race.runner.start", no_work)
    # The first optimizer is fine: nothing of it may run before a later fault is found.
    kwargs = {"landscape": "beale", "optimizers": {"sgd": {}, "momentum": {}}, "steps": 5}
    kwargs.update(change)
    with pytest.raises(PlanError, match=re.escape(message)) as caught:
        race(**kwargs)
    assert caught.value.argument == argument
    assert isinstance(caught.value, ValueError)


def test_later_optimizer_at_fault_stops_the_race_before_the_first_runs(monkeypatch):
    moved = []
    monkeypatch.setattr("ravine.race.runner.start", lambda *a, **k: moved.append(1))
    with pytest.raises(PlanError, match=r"invalid momentum=1\.5"):
        race("beale", {"sgd": {}, "momentum": {"momentum": 1.5}}, steps=5)
    assert not moved


def test_every_optimizer_is_resolved_once(monkeypatch):
    import ravine.race.entry as plan_module

    calls = []
    real = plan_module.resolve
    monkeypatch.setattr(plan_module, "resolve", lambda which: calls.append(which) or real(which))
    plan = RacePlan.build("rosenbrock", ["sgd", "adam", "gauss_newton"], steps=1)
    assert calls == ["sgd", "adam", "gauss_newton"]
    assert [e.info.cls for e in plan.entries] == [optim.SGD, optim.Adam, optim.GaussNewton]


def test_plan_holds_resolved_entries_and_parsed_schedules():
    spec = {
        "sgd": {},
        "mom": {"optimizer": "momentum", "momentum": [0.5, 0.9], "lr": [0.1, 0.2, 0.3]},
        "torch-adam": {"optimizer": torch.optim.Adam, "amsgrad": True},
    }
    plan = RacePlan.build(
        "booth",
        spec,
        lrs=0.01,
        seeds=[3, 4],
        steps=7,
        schedules={"mom": {"lr": "cosine:7", "momentum": schedules.constant(0.8)}},
    )
    sgd, mom, adam = plan.entries
    assert (sgd.lrs, sgd.fixed, sgd.varying) == ([0.01], {}, {})
    assert mom.lrs == [0.1, 0.2, 0.3] and mom.varying == {"momentum": [0.5, 0.9]}
    assert mom.axes == ("lr", "momentum", "start", "seed")
    assert isinstance(mom.schedule["lr"], schedules.Schedule)  # the string, parsed once
    assert adam.fixed == {"amsgrad": True} and not adam.info.is_ravine
    assert plan.grid(mom) == (3, 2, 1, 2) and plan.seeds == (3, 4)
    assert plan.work == 7 * (2 + 12 + 2)
    assert set(plan.schedules) == {"mom"}


def test_scheduled_reaches_every_optimizer_that_has_the_hyperparameter():
    plan = RacePlan.build("booth", ["adagrad", "momentum", "adam"], steps=3)
    plan = plan.scheduled("momentum", "linear:0.5:0.9:3").scheduled("lr", "cosine:3")
    assert set(plan.schedules["momentum"]) == {"momentum", "lr"}
    assert set(plan.schedules["adagrad"]) == {"lr"} and set(plan.schedules["adam"]) == {"lr"}
    with pytest.raises(PlanError, match="none of sgd, adam has a hyperparameter 'rho'") as caught:
        RacePlan.build("booth", ["sgd", "adam"], steps=3).scheduled("rho", "cosine:3")
    assert caught.value.argument == "schedules"


def test_a_start_outside_the_domain_is_refused_naming_the_domain():
    from ravine import landscapes
    from ravine.race import PlanError, RacePlan

    beale = landscapes.get("beale")
    (lo, hi) = beale.domain[0]
    with pytest.raises(PlanError, match=r"start \[1000000000.0, 1.0\] lies outside beale's"):
        RacePlan.build(beale, ["adam"], lrs=0.01, starts=[[1e9, 1.0]])
    RacePlan.build(beale, ["adam"], lrs=0.01, starts=[[lo, hi]])  # the edges are inside
