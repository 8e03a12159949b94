"""The Scheduler (ravine.schedules.scheduler): bit-for-bit resume for every optimizer,
batched values, torch optimizers and lr_schedulers alongside, groups, bad input."""

from __future__ import annotations

import io
import math

import pytest
import torch
from torch.optim import lr_scheduler as tls

import ravine.optim as ro
from ravine import schedules as S
from ravine.optim.closures import make_closure
from support.catalog import Variant, variants

# --------------------------------------------------------------------------- resume


def _second(cls: type) -> tuple[str, S.Schedule] | None:
    """A second hyperparameter to schedule besides the first, the first the optimizer has."""
    defaults = cls.hyperparameter_defaults()
    if "momentum" in defaults:
        return "momentum", S.linear(0.5, 0.95, 20)
    if "betas" in defaults:
        return "betas[0]", S.linear(0.8, 0.95, 20)
    if "decay" in defaults:
        return "decay", S.linear(0.8, 0.99, 20)
    if isinstance(defaults.get("eps"), float):  # not a pair (Adafactor's eps1, eps2)
        return "eps", S.exponential(0.9)
    if "weight_decay" in defaults:
        return "weight_decay", S.linear(0.0, 0.01, 20)
    return None


def _setup(v: Variant):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    cls = v.cls
    opt = v.make(model)
    plateau = S.reduce_on_plateau(0.7, patience=2, threshold=0.03)
    if "lr" in cls.hyperparameter_defaults():
        schedules = {"lr": S.warmup(4, then=S.cosine(30)) * plateau}
    else:  # Levenberg-Marquardt: no lr; its damping sets the step length
        schedules = {"damping": S.linear(1.0, 0.1, 20) * plateau}
    second = _second(cls)
    if second is not None and second[0] not in schedules:
        schedules[second[0]] = second[1]
    return model, opt, S.Scheduler(opt, schedules)


def _train(model, opt, sched, steps, data):
    """Train with the closure the optimizer's ``closure_kind`` asks for."""
    x, y = data

    per_example = getattr(opt, "per_example_losses", False)  # the empirical Fisher's

    def outputs():
        z = model(x)
        squares = (z - y) ** 2
        return (squares.mean(dim=1) if per_example else squares.mean()), z

    closure = make_closure(
        opt.closure_kind,
        zero_grad=opt.zero_grad,
        loss=lambda: ((model(x) - y) ** 2).mean(),
        outputs=outputs,
    )
    path = []
    for _ in range(steps):
        loss = opt.step(closure)
        loss = loss[0] if isinstance(loss, tuple) else loss
        sched.step(loss.mean().item())
        path.append([p.detach().clone() for p in model.parameters()])
        path[-1].append(torch.tensor([float(v) for v in _flat(sched.values()[0])]))
    return path


def _flat(values: dict) -> list:
    return [v for v in values.values()]


# Every variant of the catalog, but Newton undamped: the MLP's Hessian is singular there
# (its damped variants stand in for it).
@pytest.mark.parametrize("v", variants(lambda v: v.name != "newton"))
def test_resume_is_bit_for_bit(v):
    name = v.name
    g = torch.Generator().manual_seed(1)
    data = (torch.randn(16, 4, generator=g), torch.randn(16, 1, generator=g))
    total, cut = 30, 13

    full = _train(*_setup(v), total, data)

    model, opt, sched = _setup(v)
    first = _train(model, opt, sched, cut, data)
    # The plateau has cut the lr before the checkpoint, so its state matters on resuming.
    primary = next(iter(sched.state_dict()["schedules"]))
    # at the defaults (the papers'; torch's RMSprop's lr 1e-2 and MADGRAD's dual averaging
    # do not plateau by then)
    if v.cls.elementwise and not v.label and v.cls not in (ro.RMSprop, ro.MADGRAD):
        assert sched.state_dict()["schedules"][primary][0]["1"]["reductions"] >= 1
    buf = io.BytesIO()
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buf
    )
    del model, opt, sched
    buf.seek(0)
    saved = torch.load(buf, weights_only=False)
    model, opt, sched = _setup(v)  # fresh objects, then the checkpoint
    model.load_state_dict(saved["model"])
    opt.load_state_dict(saved["opt"])
    sched.load_state_dict(saved["sched"])
    rest = _train(model, opt, sched, total - cut, data)

    resumed = first + rest
    assert len(resumed) == len(full)
    for t, (a, b) in enumerate(zip(full, resumed, strict=True)):
        for u, w in zip(a, b, strict=True):
            assert torch.equal(u, w), f"{name}: step {t} differs after resuming at {cut}"
    # The run did exercise the schedules: lr moved and the plateau cut it at least once.
    lrs = [float(step[-1][0]) for step in full]
    assert len(set(lrs)) > 10


# --------------------------------------------------------------------------- batched


def test_batched_peak_lr_equals_separate_runs():
    peaks = [0.3, 0.1, 0.03, 0.01]
    t_trials, d, steps = len(peaks), 3, 60
    target = torch.linspace(-1.0, 1.0, d, dtype=torch.float64)

    def loss(x):  # an independent quadratic bowl per row
        return ((x - target) ** 2 * torch.arange(1, d + 1)).sum()

    x0 = torch.randn(t_trials, d, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    peak = torch.tensor(peaks, dtype=torch.float64).unsqueeze(1)  # [T, 1]
    x = torch.nn.Parameter(x0.clone())
    opt = ro.Momentum([x], lr=1.0, momentum=0.5, lr_in_velocity=False)
    sched = S.Scheduler(
        opt,
        {
            "lr": S.one_cycle(steps, peak=peak),
            "momentum": S.linear(0.5, torch.full((t_trials, 1), 0.9, dtype=torch.float64), 30),
        },
    )
    assert sched.values()[0]["lr"].shape == (t_trials, 1)
    for _ in range(steps):
        opt.zero_grad()
        loss(x).backward()
        opt.step()
        sched.step()

    for i, p in enumerate(peaks):
        xi = torch.nn.Parameter(x0[i].clone())
        opt_i = ro.Momentum([xi], lr=1.0, momentum=0.5, lr_in_velocity=False)
        sched_i = S.Scheduler(
            opt_i, {"lr": S.one_cycle(steps, peak=p), "momentum": "linear:0.5:0.9:30"}
        )
        for _ in range(steps):
            opt_i.zero_grad()
            loss(xi).backward()
            opt_i.step()
            sched_i.step()
        torch.testing.assert_close(x.detach()[i], xi.detach(), rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------- torch interop


def test_works_with_torch_optimizers_and_alongside_a_torch_lr_scheduler():
    steps = 40
    g = torch.Generator().manual_seed(2)
    x0 = torch.randn(5, dtype=torch.float64, generator=g)

    def f(x):
        return ((x - 1) ** 4).sum() + (x**2).sum()

    def run(make_opt, drive):
        x = torch.nn.Parameter(x0.clone())
        opt = make_opt([x])
        step = drive(opt)
        for t in range(steps):
            opt.zero_grad()
            f(x).backward()
            opt.step()
            step(t)
        return x.detach()

    def beta1(t):
        return 0.6 + (0.9 - 0.6) * min(t, 20) / 20

    # torch.optim.Adam: ravine drives betas[0], torch's StepLR drives lr.
    def ravine_drive(opt):
        steplr = tls.StepLR(opt, step_size=10, gamma=0.5)
        sched = S.Scheduler(opt, {"betas[0]": S.linear(0.6, 0.9, 20)})
        return lambda t: (steplr.step(), sched.step())

    def by_hand(opt):
        group = opt.param_groups[0]
        group["betas"] = (beta1(0), group["betas"][1])

        def step(t):
            group["lr"] = 0.05 * 0.5 ** ((t + 1) // 10)
            group["betas"] = (beta1(t + 1), group["betas"][1])

        return step

    for make in (
        lambda p: torch.optim.Adam(p, lr=0.05),
        lambda p: ro.Adam(p, lr=0.05),
    ):
        got = run(make, ravine_drive)
        want = run(make, by_hand)
        torch.testing.assert_close(got, want, rtol=1e-12, atol=0)
        assert not torch.equal(got, run(make, lambda o: lambda t: None))

    # torch.optim.SGD: lr and momentum both by ravine.
    def sgd_drive(opt):
        sched = S.Scheduler(opt, {"lr": S.cosine(steps), "momentum": S.linear(0.2, 0.8, 10)})
        return lambda t: sched.step()

    def sgd_hand(opt):
        group = opt.param_groups[0]
        group["momentum"] = 0.2

        def step(t):
            group["lr"] = 0.01 * (1 + math.cos(math.pi * (t + 1) / steps)) / 2
            group["momentum"] = 0.2 + 0.6 * min(t + 1, 10) / 10

        return step

    def make_sgd(p):
        return torch.optim.SGD(p, lr=0.01, momentum=0.2)

    torch.testing.assert_close(
        run(make_sgd, sgd_drive), run(make_sgd, sgd_hand), rtol=1e-12, atol=0
    )


def test_groups_and_per_group_schedules():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    opt = ro.Momentum([{"params": [a], "lr": 0.1}, {"params": [b], "lr": 0.02}], momentum=0.5)
    sched = S.Scheduler(opt, {"lr": S.exponential(0.5)}, groups=[1])
    sched2 = S.Scheduler(opt, {"momentum": [S.constant(0.7)]}, groups=[0])
    sched.step()
    sched2.step()
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.7, 0.5]
    both = S.Scheduler(opt, {"lr": [S.constant(), S.cosine(10)]})
    both.step()
    assert both.values() == [{"lr": 0.1}, {"lr": 0.01 * (1 + math.cos(math.pi / 10)) / 2}]


def test_bad_scheduler_input_names_what_is_allowed():
    p = torch.nn.Parameter(torch.zeros(2))
    adam = ro.Adam([p])
    with pytest.raises(
        ValueError,
        match=r"Adam has no hyperparameter 'momentum'.*"
        r"lr, betas\[0\], betas\[1\], eps, weight_decay",
    ):
        S.Scheduler(adam, {"momentum": S.linear(0.5, 0.9, 10)})
    with pytest.raises(ValueError, match=r"schedule betas\[0\]"):
        S.Scheduler(adam, {"betas": S.constant(0.9)})
    with pytest.raises(ValueError, match=r"no entry 'betas\[2\]'"):
        S.Scheduler(adam, {"betas[2]": S.constant(0.9)})
    with pytest.raises(ValueError, match="'amsgrad' is False, not a number"):
        S.Scheduler(adam, {"amsgrad": S.constant(1.0)})
    with pytest.raises(ValueError, match="malformed hyperparameter name"):
        S.Scheduler(adam, {"lr]": S.constant()})
    with pytest.raises(ValueError, match="non-empty mapping"):
        S.Scheduler(adam, {})
    with pytest.raises(ValueError, match="must be a Schedule"):
        S.Scheduler(adam, {"lr": 0.1})
    with pytest.raises(ValueError, match="invalid group 3"):
        S.Scheduler(adam, {"lr": S.constant()}, groups=[3])
    with pytest.raises(ValueError, match="2 schedules for 'lr' but 1"):
        S.Scheduler(adam, {"lr": [S.constant(), S.constant()]})
    with pytest.raises(TypeError, match=r"torch\.optim\.Optimizer"):
        S.Scheduler(object(), {"lr": S.constant()})  # type: ignore[arg-type]
    sgd = torch.optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match=r"SGD has no hyperparameter 'betas'.*lr, momentum"):
        S.Scheduler(sgd, {"betas[0]": S.constant(0.9)})


def test_out_of_range_values_are_caught_when_applied():
    p = torch.nn.Parameter(torch.zeros(2))
    opt = ro.Momentum([p], momentum=0.5)
    sched = S.Scheduler(opt, {"momentum": S.linear(0.5, 1.2, 4)})
    for _ in range(2):
        sched.step()
    with pytest.raises(
        ValueError, match=r"'momentum' gives 1.025 at step 3.*allowed: a finite number in \[0, 1\)"
    ):
        sched.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.5 + 0.7 * 2 / 4)  # left as it was
    neg = S.Scheduler(ro.SGD([p]), {"lr": S.linear(0.1, -0.1, 2)})
    neg.step()
    with pytest.raises(ValueError, match=r"'lr' gives -0\.1"):
        neg.step()
