"""Lookahead (ravine.optim.lookahead) against timm's Lookahead and the paper's Algorithm 1
written out, 200 steps in float64 on parameters of four shapes in two param groups, around
ravine's and torch's optimizers; its state dict, schedulers and registry entry.

timm's ``Lookahead`` is loaded from its file: importing the ``timm`` package needs
torchvision, which this environment lacks, and the module itself imports torch only."""

from __future__ import annotations

import copy

import pytest
import torch

import ravine.optim as ro
from support.catalog.layerwise import has_timm, timm_optimizer
from support.parity import assert_close, make_params, run_pair, wavy_loss

STEPS = 200
RTOL = 1e-12
SHAPES = ((6, 5), (5,), (3, 2, 4), ())


def _timm_lookahead() -> type:
    if not has_timm():
        pytest.skip("timm is not installed (pip install --no-deps -r requirements-references.txt)")
    return timm_optimizer("lookahead", "Lookahead")


def _close(actual: torch.Tensor, expected: torch.Tensor, what: str) -> None:
    assert_close(actual, expected, what, RTOL)


def _groups(params, first: dict, second: dict) -> list[dict]:
    return [{"params": params[:2], **first}, {"params": params[2:], **second}]


def _run_pair(ours, ref, ours_params, ref_params, steps: int = STEPS) -> None:
    run_pair(ours, ref, ours_params, ref_params, steps, RTOL)


FIRST = {"lr": 1e-2, "lookahead_k": 5}
SECOND = {"lr": 3e-2, "lookahead_k": 3, "lookahead_alpha": 0.8}


@pytest.mark.parametrize(
    "inner, build",
    [
        ("adam", lambda groups: torch.optim.Adam(groups)),
        ("torch.optim.SGD", lambda groups: torch.optim.SGD(groups, momentum=0.9)),
        ("torch.optim.RMSprop", lambda groups: torch.optim.RMSprop(groups)),
    ],
)
def test_matches_timm_lookahead(inner, build) -> None:
    """slow_init='sync' is timm's form; timm keeps k and alpha in the groups under the
    same names, so the per-group values reach both."""
    timm_lookahead = _timm_lookahead()
    extra = {"momentum": 0.9} if inner == "torch.optim.SGD" else {}
    ours_params, ref_params = make_params(SHAPES), make_params(SHAPES)
    ours = ro.Lookahead(_groups(ours_params, FIRST, SECOND), inner, slow_init="sync", **extra)
    ref = timm_lookahead(build(_groups(ref_params, FIRST, SECOND)), alpha=0.5, k=5)
    _run_pair(ours, ref, ours_params, ref_params)
    for p, q in zip(ours_params, ref_params, strict=True):
        expected = ref._base_optimizer.state[q]["lookahead_slow_buff"]
        _close(ours.state[p]["lookahead_slow_buff"], expected, "slow weights")


class _Algorithm1:
    """Zhang et al. 2019, Algorithm 1, around torch.optim.Adam: phi_0 = theta_0; k inner
    steps from theta = phi; phi <- phi + alpha (theta - phi); theta <- phi."""

    def __init__(self, groups: list[dict]) -> None:
        self.groups = groups
        own = [{k: v for k, v in g.items() if "lookahead" not in k} for g in groups]
        self.adam = torch.optim.Adam(own)
        self.slow = [[p.detach().clone() for p in g["params"]] for g in groups]
        self.t = 0

    def zero_grad(self) -> None:
        self.adam.zero_grad()

    @torch.no_grad()
    def step(self) -> None:
        self.adam.step()
        self.t += 1
        for group, slow in zip(self.groups, self.slow, strict=True):
            if self.t % group.get("lookahead_k", 5) == 0:
                alpha = group.get("lookahead_alpha", 0.5)
                for p, phi in zip(group["params"], slow, strict=True):
                    phi += alpha * (p - phi)
                    p.copy_(phi)


def test_matches_the_papers_algorithm() -> None:
    ours_params, ref_params = make_params(SHAPES), make_params(SHAPES)
    ours = ro.Lookahead(_groups(ours_params, FIRST, SECOND), "adam")
    ref = _Algorithm1(_groups(ref_params, FIRST, SECOND))
    _run_pair(ours, ref, ours_params, ref_params)


def test_the_two_slow_starts_differ_at_the_first_synchronisation() -> None:
    runs = {}
    for init in ("start", "sync"):
        params = make_params(SHAPES)
        opt = ro.Lookahead([params[0]], "sgd", lr=0.1, lookahead_k=2, slow_init=init)
        for step in range(1, 3):
            opt.zero_grad()
            wavy_loss(params[:1], step).backward()
            opt.step()
        runs[init] = params[0].detach().clone()
    assert not torch.allclose(runs["start"], runs["sync"])


def test_around_an_optimizer_instance_and_state_dict_resume() -> None:
    params, twin = make_params(SHAPES), make_params(SHAPES)
    opt = ro.Lookahead(ro.Adam(_groups(params, FIRST, SECOND)))
    for step in range(1, 8):
        opt.zero_grad()
        wavy_loss(params, step).backward()
        opt.step()
    saved = copy.deepcopy(opt.state_dict())
    with torch.no_grad():
        for p, q in zip(params, twin, strict=True):
            q.copy_(p)
    resumed = ro.Lookahead(_groups(twin, {"lr": 0.5}, {"lr": 0.5}), "adam")
    resumed.load_state_dict(saved)
    assert resumed.param_groups[1]["lookahead_k"] == 3 and resumed.param_groups[1]["lr"] == 3e-2
    assert resumed.param_groups is resumed.inner.param_groups
    for step in range(8, 30):
        for ps, o in ((params, opt), (twin, resumed)):
            o.zero_grad()
            wavy_loss(ps, step).backward()
            o.step()
    for p, q in zip(params, twin, strict=True):
        assert torch.equal(p, q)


def test_timm_state_dict_loads() -> None:
    timm_lookahead = _timm_lookahead()
    params, twin = make_params(SHAPES), make_params(SHAPES)
    ref = timm_lookahead(torch.optim.Adam(_groups(twin, FIRST, SECOND)), k=5)
    ours = ro.Lookahead(_groups(params, FIRST, SECOND), "torch.optim.Adam", slow_init="sync")
    for step in range(1, 13):
        for ps, o in ((params, ours), (twin, ref)):
            o.zero_grad()
            wavy_loss(ps, step).backward()
            o.step()
    resumed_params = [p.detach().clone().requires_grad_() for p in twin]
    resumed = ro.Lookahead(_groups(resumed_params, {}, {}), "torch.optim.Adam", slow_init="sync")
    resumed.load_state_dict(ref.state_dict())
    assert resumed.param_groups[0]["lookahead_step"] == 12
    _run_pair(resumed, ours, resumed_params, params, steps=20)


def test_schedulers_drive_the_inner_optimizer() -> None:
    params = make_params(SHAPES)
    opt = ro.get("lookahead", params, inner="sgd", lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for step in range(1, 5):
        opt.zero_grad()
        wavy_loss(params, step).backward()
        opt.step()
        scheduler.step()
    assert opt.inner.param_groups[0]["lr"] == pytest.approx(0.025)
    assert opt.inner.param_groups[0]["momentum"] == 0.9


def test_bad_inputs_are_refused() -> None:
    params = make_params(SHAPES)
    with pytest.raises(ValueError, match="lookahead_alpha"):
        ro.Lookahead(params, lookahead_alpha=1.5)
    with pytest.raises(ValueError, match="lookahead_k"):
        ro.Lookahead(params, lookahead_k=0)
    with pytest.raises(ValueError, match="'loss' closure"):
        ro.Lookahead(params, "newton")
    with pytest.raises(ValueError, match="unknown optimizer"):
        ro.Lookahead(params, "adamm")
    opt = ro.Lookahead(params[:1])
    with pytest.raises(ValueError, match="lookahead_k"):
        opt.add_param_group({"params": params[1:], "lookahead_k": 2.5})
    assert len(opt.param_groups) == len(opt.inner.param_groups) == 1
