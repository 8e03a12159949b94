"""Prodigy against the authors' ``prodigyopt`` package (1.1.2): 240 steps in float64 on
parameters of four shapes in two param groups (one lr, their own eps and weight decay);
parameters and the d estimate agree bitwise, for each of the package's options. The
estimate is one number over every group, and resuming from a checkpoint is bitwise."""

from __future__ import annotations

import io

import pytest
import torch

import ravine.optim as ro
from support.shapes import groups as _groups
from support.shapes import loss as _loss
from support.shapes import make_params as _params

prodigyopt = pytest.importorskip("prodigyopt")

STEPS = 240


FIRST, SECOND = {"weight_decay": 0.05}, {"eps": 1e-7, "weight_decay": 0.0}
CASES = [
    {},
    {"lr": 0.5, "betas": (0.8, 0.99)},
    {"decoupled_weight_decay": False, "use_bias_correction": True},
    {"safeguard_warmup": True, "growth_rate": 1.02},
    {"d0": 1e-4, "d_coef": 0.5, "beta3": 0.9},
    {"slice_p": 3},
    {"betas": (0.0, 0.999)},
]


@pytest.mark.parametrize("kwargs", CASES, ids=lambda k: ",".join(k) or "defaults")
def test_matches_prodigyopt_bitwise(kwargs) -> None:
    ref_kwargs = dict(kwargs)
    if "decoupled_weight_decay" in ref_kwargs:
        ref_kwargs["decouple"] = ref_kwargs.pop("decoupled_weight_decay")
    ours_params, ref_params = _params(), _params()
    lr = {"lr": kwargs.get("lr", 1.0)}
    ours = ro.Prodigy(_groups(ours_params, FIRST | lr, SECOND | lr), **kwargs)
    ref = prodigyopt.Prodigy(_groups(ref_params, FIRST | lr, SECOND | lr), **ref_kwargs)
    for step in range(1, STEPS + 1):
        for params, opt in ((ours_params, ours), (ref_params, ref)):
            opt.zero_grad()
            _loss(params).backward()
            opt.step()
        for i, (p, q) in enumerate(zip(ours_params, ref_params, strict=True)):
            assert torch.equal(p, q), f"parameter {i} differs at step {step}"
        for key in ("d", "d_max", "d_numerator", "k"):
            assert ours.param_groups[1][key] == ref.param_groups[1][key], (key, step)
    assert ours.param_groups[0]["d"] > 10 * ours.param_groups[0]["d0"]  # it adapted
    assert ours.learning_rate() == ours.param_groups[0]["d"] * lr["lr"]


def test_the_estimate_is_shared_by_every_group() -> None:
    """d is one number: the same in both groups, and different from what either group
    alone would estimate."""
    joint = _params()
    opt = ro.Prodigy(_groups(joint, {}, {}))
    alone = _params()[:2]
    opt_alone = ro.Prodigy(alone)
    for _ in range(30):
        for params, o in ((joint, opt), (alone, opt_alone)):
            o.zero_grad()
            _loss(params).backward()
            o.step()
    assert opt.param_groups[0]["d"] == opt.param_groups[1]["d"]
    assert opt.param_groups[0]["d"] != opt_alone.param_groups[0]["d"]


def test_groups_step_at_d_times_their_own_lr() -> None:
    """prodigyopt refuses groups of different lrs; ravine steps each at d lr_g: halving the
    second group's lr halves its first move (at the first step every m/(sqrt v + d eps) is
    the same in both runs)."""
    moves = []
    for second_lr in (1.0, 0.5):
        params = _params()
        opt = ro.Prodigy(_groups(params, {"lr": 1.0}, {"lr": second_lr}), betas=(0.0, 0.999))
        before = params[2].detach().clone()
        _loss(params).backward()
        opt.step()
        moves.append(params[2].detach() - before)
        assert opt.learning_rate(1) == opt.param_groups[1]["d"] * second_lr
    assert torch.allclose(moves[1], moves[0] / 2, rtol=1e-12)


def test_resume_is_bitwise() -> None:
    def run(params, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            _loss(params).backward()
            opt.step()

    straight = _params()
    opt = ro.Prodigy(_groups(straight, FIRST, SECOND), growth_rate=1.05)
    run(straight, opt, 80)
    params = _params()
    opt1 = ro.Prodigy(_groups(params, FIRST, SECOND), growth_rate=1.05)
    run(params, opt1, 40)
    buffer = io.BytesIO()
    torch.save({"params": [p.detach() for p in params], "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)
    resumed = [torch.nn.Parameter(q.clone()) for q in saved["params"]]
    opt2 = ro.Prodigy(_groups(resumed, FIRST, SECOND), growth_rate=1.05)
    opt2.load_state_dict(saved["opt"])
    run(resumed, opt2, 40)
    for p, q in zip(straight, resumed, strict=True):
        assert torch.equal(p, q)
    assert opt.state_dict()["param_groups"] == opt2.state_dict()["param_groups"]


def test_zero_gradients_move_nothing_and_count_no_step() -> None:
    w = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = ro.Prodigy([w])
    w.grad = torch.zeros(3, dtype=torch.float64)
    opt.step()
    assert torch.equal(w.detach(), torch.ones(3, dtype=torch.float64))
    assert opt.param_groups[0]["k"] == 0 and opt.param_groups[0]["d"] == 1e-6
