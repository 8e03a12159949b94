"""torch.optim's names in ravine.optim are a literal drop-in: torch's argument names,
positional order and defaults (read from the installed torch), and torch's numbers (float64,
120 steps, two param groups, parameters of several shapes), also under torch's lr
schedulers; the paper-named classes keep their papers' defaults."""

from __future__ import annotations

import inspect

import pytest
import torch

import ravine.optim as ro

NAMES = ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "Adamax", "NAdam", "LBFGS")
SHAPES = ((5, 3), (3,), (2, 3, 4), (1,))
STEPS = 120
RTOL = 1e-12

# (constructor keywords, second group's hyperparameters): each option of each class
CASES = {
    "SGD": [
        ({}, {"lr": 0.01}),
        ({"momentum": 0.9}, {"lr": 0.02, "momentum": 0.5}),
        ({"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}, {"lr": 0.005}),
        ({"momentum": 0.9, "nesterov": True, "maximize": True}, {"momentum": 0.8}),
    ],
    "Adagrad": [
        ({}, {"lr": 0.05}),
        ({"lr_decay": 0.01, "initial_accumulator_value": 0.1, "weight_decay": 0.01},
         {"lr": 0.1, "lr_decay": 0.001}),
    ],
    "RMSprop": [
        ({}, {"lr": 0.001}),
        ({"momentum": 0.9, "centered": True, "alpha": 0.9}, {"lr": 0.002, "alpha": 0.95}),
        ({"weight_decay": 0.1, "maximize": True}, {"eps": 1e-6}),
    ],
    "Adadelta": [({}, {"lr": 0.5}), ({"rho": 0.95, "weight_decay": 0.01}, {"rho": 0.8})],
    "Adam": [
        ({}, {"lr": 0.01}),
        ({"amsgrad": True, "weight_decay": 0.01}, {"betas": (0.8, 0.99)}),
        ({"decoupled_weight_decay": True, "weight_decay": 0.1}, {"lr": 3e-3}),
    ],
    "AdamW": [({}, {"lr": 0.01}), ({"amsgrad": True, "maximize": True}, {"weight_decay": 0.1})],
    "Adamax": [({}, {"lr": 0.01}), ({"weight_decay": 0.01}, {"betas": (0.8, 0.99)})],
    "NAdam": [
        ({}, {"lr": 0.01}),
        ({"decoupled_weight_decay": True, "weight_decay": 0.1, "momentum_decay": 0.01},
         {"lr": 3e-3}),
    ],
}  # fmt: skip


def _params() -> list[torch.nn.Parameter]:
    g = torch.Generator().manual_seed(0)
    return [torch.nn.Parameter(torch.randn(s, generator=g, dtype=torch.float64)) for s in SHAPES]


def _loss(params, step: int) -> torch.Tensor:
    return sum(
        (i + 1) * (p**2).sum() + ((step % 5 + 1) * p.sin()).sum() for i, p in enumerate(params)
    )


def _run(cls, kwargs, second, schedule=None, steps=STEPS):
    params = _params()
    opt = cls([{"params": params[:2]}, {"params": params[2:], **second}], **kwargs)
    sched = schedule(opt) if schedule else None
    for step in range(steps):
        opt.zero_grad()
        loss = _loss(params, step)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step(loss.item()) if isinstance(
                sched, torch.optim.lr_scheduler.ReduceLROnPlateau
            ) else sched.step()
    return params, opt


def _assert_same(ours, theirs, what: str) -> None:
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        err = ((a - b).abs().max() / b.abs().max()).item()
        assert err <= RTOL, f"{what}: parameter {i} differs by {err:.3g} relative"


@pytest.mark.parametrize("name", NAMES)
def test_signature_is_torchs(name: str) -> None:
    """Every torch argument, in torch's positional order, with torch's default."""
    theirs = inspect.signature(getattr(torch.optim, name).__init__).parameters
    ours = inspect.signature(getattr(ro, name).__init__).parameters
    positional = [k for k, p in theirs.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert [k for k, p in ours.items() if p.kind is p.POSITIONAL_OR_KEYWORD][: len(positional)] == (
        positional
    )
    for key, p in theirs.items():
        if key != "self":
            assert key in ours, f"{name} lacks {key}"
            assert ours[key].default == p.default, f"{name}.{key}"


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize(
    "name,kwargs,second",
    [pytest.param(n, k, s, id=f"{n}-{i}") for n, cases in CASES.items()
     for i, (k, s) in enumerate(cases)],
)  # fmt: skip
def test_same_numbers_as_torch(name, kwargs, second, foreach) -> None:
    theirs, _ = _run(getattr(torch.optim, name), kwargs, second)
    ours, opt = _run(getattr(ro, name), {**kwargs, "foreach": foreach}, second)
    assert isinstance(opt, ro.Optimizer)
    _assert_same(ours, theirs, f"{name}{kwargs}")


def test_positional_arguments_mean_what_torchs_mean() -> None:
    theirs, _ = _run(lambda g: torch.optim.SGD(g, 0.01, 0.9, 0.1, 0.01), {}, {})
    ours, _ = _run(lambda g: ro.SGD(g, 0.01, 0.9, 0.1, 0.01), {}, {})
    _assert_same(ours, theirs, "SGD positional")
    theirs, _ = _run(lambda g: torch.optim.RMSprop(g, 0.01, 0.9, 1e-6, 0.0, 0.5, True), {}, {})
    ours, _ = _run(lambda g: ro.RMSprop(g, 0.01, 0.9, 1e-6, 0.0, 0.5, True), {}, {})
    _assert_same(ours, theirs, "RMSprop positional")


def test_lbfgs_with_torchs_settings_gives_torchs_numbers() -> None:
    """ravine's LBFGS steps as torch's once given torch's max_iter (its own default is one
    iteration per step, see docs/algorithms.md)."""
    results = []
    for cls in (torch.optim.LBFGS, ro.LBFGS):
        params = _params()
        opt = cls(params, max_iter=20, line_search_fn="strong_wolfe", history_size=10)

        def closure(params=params, opt=opt):
            opt.zero_grad()
            loss = _loss(params, 0)
            loss.backward()
            return loss

        for _ in range(3):
            opt.step(closure)
        results.append(params)
    _assert_same(results[1], results[0], "LBFGS")


def test_paper_named_classes_keep_their_papers_defaults() -> None:
    assert ro.RMSProp.hyperparameter_defaults()["decay"] == 0.9
    assert ro.RMSprop.hyperparameter_defaults()["alpha"] == 0.99
    assert ro.AdaGrad.hyperparameter_defaults()["eps"] == 1e-8
    assert ro.Adagrad.hyperparameter_defaults()["eps"] == 1e-10
    assert ro.Nadam.hyperparameter_defaults()["momentum_decay"] == 0.0
    assert ro.NAdam.hyperparameter_defaults()["momentum_decay"] == 4e-3
    assert ro.Momentum.hyperparameter_defaults()["lr_in_velocity"] is True


def test_torch_names_are_registered() -> None:
    for name, cls in {
        "adagrad_torch": ro.Adagrad,
        "rmsprop_torch": ro.RMSprop,
        "adadelta_torch": ro.Adadelta,
        "nadam_torch": ro.NAdam,
        "sgd": ro.SGD,
        "adamax": ro.Adamax,
    }.items():
        assert ro.lookup(name) is cls


def test_nesterov_needs_momentum_and_no_dampening() -> None:
    p = [torch.nn.Parameter(torch.zeros(2))]
    for bad in ({"nesterov": True}, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}):
        with pytest.raises(ValueError, match="nesterov=True requires a momentum"):
            ro.SGD(p, **bad)


# --------------------------------------------------------------------- torch's schedulers

LR = torch.optim.lr_scheduler
SCHEDULES = {
    "StepLR": lambda o: LR.StepLR(o, step_size=10, gamma=0.5),
    "CosineAnnealingLR": lambda o: LR.CosineAnnealingLR(o, T_max=40),
    "LambdaLR": lambda o: LR.LambdaLR(o, lambda e: 1 / (1 + e)),
    "ReduceLROnPlateau": lambda o: LR.ReduceLROnPlateau(o, factor=0.5, patience=2),
    "OneCycleLR": lambda o: LR.OneCycleLR(o, max_lr=0.05, total_steps=STEPS, cycle_momentum=True),
}
# the torch-named classes with a momentum or betas key, as OneCycleLR's cycle_momentum needs
WITH_MOMENTUM = {
    "SGD": {"momentum": 0.9},
    "RMSprop": {"momentum": 0.9},
    "Adam": {},
    "AdamW": {},
    "Adamax": {},
    "NAdam": {},
}


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("name", [*WITH_MOMENTUM, "Adagrad", "Adadelta"])
def test_torch_schedulers_give_torchs_numbers(name, schedule) -> None:
    if schedule == "OneCycleLR" and name not in WITH_MOMENTUM:
        pytest.skip("OneCycleLR's cycle_momentum needs a momentum or betas key")
    kwargs = WITH_MOMENTUM.get(name, {})
    theirs, topt = _run(getattr(torch.optim, name), kwargs, {}, SCHEDULES[schedule])
    ours, oopt = _run(getattr(ro, name), kwargs, {}, SCHEDULES[schedule])
    _assert_same(ours, theirs, f"{name} under {schedule}")
    assert [g["lr"] for g in oopt.param_groups] == [g["lr"] for g in topt.param_groups]


@pytest.mark.parametrize("name", sorted(ro.REGISTRY))
def test_every_elementwise_optimizer_takes_torchs_schedulers(name) -> None:
    info = ro.registry.resolve(name)
    if not info.elementwise or "lr" not in info.defaults:
        pytest.skip("closure-driven: see the catalog's closure tests")
    for schedule in ("StepLR", "CosineAnnealingLR", "ReduceLROnPlateau"):
        _, opt = _run(lambda g, info=info: info.build(g), {}, {}, SCHEDULES[schedule], steps=12)
        assert all(torch.isfinite(torch.as_tensor(g["lr"])) for g in opt.param_groups)
    keys = set(ro.get(name, [torch.nn.Parameter(torch.zeros(1))]).param_groups[0])
    if keys & {"momentum", "betas"}:  # OneCycleLR drives it
        sched = lambda o: LR.OneCycleLR(o, max_lr=0.05, total_steps=12)  # noqa: E731
        _, opt = _run(lambda g, info=info: info.build(g), {}, {}, sched, steps=3)
        group = opt.param_groups[0]
        moment = group["momentum"] if "momentum" in group else group["betas"][0]
        assert 0.85 < moment < 0.95  # on its way down from max_momentum as lr rises
