"""Schedule-Free SGD and AdamW against the authors' ``schedulefree`` package (1.4.1): 240
steps in float64 on parameters of four shapes in two param groups with their own
hyperparameters, switching both to eval mode (x) and back (y) several times in the run;
parameters agree bitwise with the package's fast classes (to 1e-12 with its reference
classes, which store x and y), in both modes. Resuming from a checkpoint taken in eval mode
reproduces the uninterrupted run bitwise."""

from __future__ import annotations

import io

import pytest
import torch

import ravine.optim as ro
from support.shapes import groups as _groups
from support.shapes import loss as _loss
from support.shapes import make_params as _params

schedulefree = pytest.importorskip("schedulefree")

STEPS = 240
SWITCHES = (1, 37, 38, 120, 199)  # evaluate before these steps


def _gap(ours, ref) -> float:
    return max(
        float((p.detach() - q.detach()).abs().max() / q.detach().abs().max().clamp_min(1e-300))
        for p, q in zip(ours, ref, strict=True)
    )


def _run(ours_cls, ref_cls, kwargs, ref_kwargs, first, second, rtol) -> None:
    ours_params, ref_params = _params(), _params()
    ours = ours_cls(_groups(ours_params, first, second), **kwargs)
    ref = ref_cls(_groups(ref_params, first, second), **ref_kwargs)
    ref.train()
    for step in range(1, STEPS + 1):
        if step in SWITCHES:
            ours.eval()
            ref.eval()
            assert not ours.training
            assert _gap(ours_params, ref_params) <= rtol, f"x differs before step {step}"
            ours.train()
            ref.train()
        for params, opt in ((ours_params, ours), (ref_params, ref)):
            opt.zero_grad()
            _loss(params).backward()
            opt.step()
        assert _gap(ours_params, ref_params) <= rtol, f"y differs at step {step}"
    for ours_group, ref_group in zip(ours.param_groups, ref.param_groups, strict=True):
        for key in ("k", "lr_max", "weight_sum", "scheduled_lr"):
            assert ours_group[key] == pytest.approx(ref_group[key], rel=rtol), key


SGD_CASES = [
    ({}, {"lr": 0.05}, {"lr": 0.02, "momentum": 0.8}),
    ({"weight_decay": 0.01, "warmup_steps": 30}, {"lr": 0.05}, {"lr": 0.02, "r": 1.0}),
    ({"weight_lr_power": 0.0, "r": 0.5}, {"lr": 0.03}, {"lr": 0.01, "weight_decay": 0.1}),
]
ADAMW_CASES = [
    ({}, {"lr": 1e-2}, {"lr": 3e-3, "betas": (0.8, 0.99)}),
    ({"weight_decay": 0.05, "warmup_steps": 25}, {"lr": 1e-2}, {"lr": 3e-3, "eps": 1e-6}),
    ({"r": 1.0, "weight_lr_power": 1.0}, {"lr": 2e-2}, {"lr": 5e-3, "weight_decay": 0.1}),
]


@pytest.mark.parametrize(("kwargs", "first", "second"), SGD_CASES)
def test_sgd_matches_the_package_bitwise_across_mode_switches(kwargs, first, second) -> None:
    _run(ro.SGDScheduleFree, schedulefree.SGDScheduleFree, kwargs, kwargs, first, second, 0.0)


@pytest.mark.parametrize(("kwargs", "first", "second"), SGD_CASES)
def test_sgd_matches_the_reference_class(kwargs, first, second) -> None:
    ref = schedulefree.SGDScheduleFreeReference
    _run(ro.SGDScheduleFree, ref, kwargs, kwargs, first, second, 1e-12)


@pytest.mark.parametrize(("kwargs", "first", "second"), ADAMW_CASES)
def test_adamw_matches_the_package_bitwise_across_mode_switches(kwargs, first, second) -> None:
    _run(ro.AdamWScheduleFree, schedulefree.AdamWScheduleFree, kwargs, kwargs, first, second, 0.0)


@pytest.mark.parametrize(("kwargs", "first", "second"), ADAMW_CASES)
def test_adamw_decay_at_z_matches_the_reference_class(kwargs, first, second, capsys) -> None:
    ours = {**kwargs, "weight_decay_at": "z", "weight_decay": 0.05}
    ref = {**kwargs, "decay_at_z": True, "weight_decay": 0.05}
    cls = schedulefree.AdamWScheduleFreeReference
    _run(ro.AdamWScheduleFree, cls, ours, ref, first, second, 1e-12)


@pytest.mark.parametrize(("kwargs", "first", "second"), ADAMW_CASES)
def test_adamw_lr_bias_correction_matches_the_paper_class(kwargs, first, second) -> None:
    ours = {**kwargs, "bias_correction": "lr"}
    cls = schedulefree.AdamWScheduleFreePaper
    _run(ro.AdamWScheduleFree, cls, ours, kwargs, first, second, 0.0)


def test_eval_holds_the_average_and_train_restores_y() -> None:
    """By hand on f = x^2 / 2 (g = x), momentum b, lr gamma, no warm-up, r = 0, p = 2: the
    weights are all gamma^2, so x is the running mean of z_1..z_k."""
    b, gamma = 0.9, 0.1
    w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    opt = ro.SGDScheduleFree([w], lr=gamma, momentum=b)
    x = z = 1.0
    for k in range(1, 6):
        y = b * x + (1 - b) * z
        assert float(w.detach()) == pytest.approx(y, rel=1e-14)
        w.grad = w.detach().clone()
        opt.step()
        z = z - gamma * y
        x = x + (z - x) / k
    opt.eval()
    assert float(w.detach()) == pytest.approx(x, rel=1e-14)
    opt.eval()  # a second eval changes nothing
    assert float(w.detach()) == pytest.approx(x, rel=1e-14)
    opt.train()
    assert float(w.detach()) == pytest.approx(b * x + (1 - b) * z, rel=1e-14)


def test_step_in_eval_mode_raises() -> None:
    w = torch.nn.Parameter(torch.ones(2))
    opt = ro.AdamWScheduleFree([w])
    assert opt.training  # ravine starts in train mode
    opt.eval()
    w.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match=r"call optimizer.train\(\)"):
        opt.step()


@pytest.mark.parametrize("cls", [ro.SGDScheduleFree, ro.AdamWScheduleFree])
def test_resume_from_a_checkpoint_taken_in_eval_mode_is_bitwise(cls) -> None:
    def run(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            _loss(params).backward()
            opt.step()

    first, second = {"lr": 0.02}, {"lr": 0.01, "weight_decay": 0.01}
    straight = _params()
    opt = cls(_groups(straight, first, second), warmup_steps=5)
    run(straight, opt, 50)
    opt.eval()
    opt.train()
    run(straight, opt, 50)

    params = _params()
    opt1 = cls(_groups(params, first, second), warmup_steps=5)
    run(params, opt1, 50)
    opt1.eval()  # a model saved for evaluation holds x; the optimizer knows it
    buffer = io.BytesIO()
    torch.save({"params": [p.detach() for p in params], "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)
    resumed = [torch.nn.Parameter(torch.zeros_like(p)) for p in params]
    with torch.no_grad():
        for p, q in zip(resumed, saved["params"], strict=True):
            p.copy_(q)
    opt2 = cls(_groups(resumed, first, second), warmup_steps=5)
    opt2.load_state_dict(saved["opt"])
    assert not opt2.training
    opt2.train()
    run(resumed, opt2, 50)
    for p, q in zip(straight, resumed, strict=True):
        assert torch.equal(p, q)
    assert opt.state_dict()["param_groups"] == opt2.state_dict()["param_groups"]
