"""Every first-order optimizer against an independent reference, 120 steps in float64.

Each variant in the optimizer catalog names its reference: torch.optim, the AdaBelief
authors' package, or the update written out in support/catalog/references.py (never ravine's own
code), the two param groups' hyperparameters and the state that corresponds. The problem
has two param groups with different hyperparameters, a frozen parameter, and a step at
which one gradient is None. Parameters and that state must agree to 1e-10 relative.
"""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from support import catalog
from support.mlp import make_data, param_groups, twin_models

STEPS = 120
NONE_GRAD_STEP = 7  # at this step fc2.bias has no gradient (p.grad is None)
RTOL = 1e-10


def _close(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    scale = expected.abs().max().clamp_min(1e-300)
    return bool(((actual - expected).abs().max() / scale) <= RTOL)


@pytest.mark.parametrize("variant", catalog.variants(lambda v: v.reference is not None))
def test_trajectory_matches_reference(variant, capsys) -> None:
    first, second = variant.reference.groups
    ours_model, ref_model = twin_models()
    x, y = make_data()
    ours = variant.make(param_groups(ours_model, first, second))
    ref = variant.make_reference(param_groups(ref_model, first, second))
    for step in range(1, STEPS + 1):
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            if step == NONE_GRAD_STEP:
                model.fc2.bias.grad = None
            opt.step()
        for (name, p), q in zip(ours_model.named_parameters(), ref_model.parameters(), strict=True):
            assert _close(p.detach(), q.detach()), f"{variant.name}: {name} differs at step {step}"
    # the state that corresponds
    for gi, (ours_group, ref_group) in enumerate(
        zip(ours.param_groups, ref.param_groups, strict=True)
    ):
        for p, q in zip(ours_group["params"], ref_group["params"], strict=True):
            if not p.requires_grad:
                assert p not in ours.state, "frozen parameter got state"
                continue
            expected_steps = STEPS - 1 if p is ours_model.fc2.bias else STEPS
            assert int(ours.state[p]["step"]) == expected_steps
            for key, (ref_key, transform) in variant.reference.state.items():
                expected = transform(ref.state[q][ref_key], ref_group)
                assert _close(ours.state[p][key], expected), f"{variant.name}: {key}, group {gi}"
    assert torch.isfinite(ours_model.fc1.weight).all()


def test_frozen_parameter_is_untouched() -> None:
    model, _ = twin_models()
    x, y = make_data()
    opt = ro.Adam(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    assert torch.equal(model.frozen, torch.ones(3))


def test_nesterov_lookahead_matches_the_formula_through_the_closure() -> None:
    """v = mu v - lr grad f(theta + mu v); theta += v, with the look-ahead gradient computed
    here on a second copy of the model moved to theta + mu v."""
    ours_model, ref_model = twin_models()
    x, y = make_data()
    mu, lr = 0.9, 0.05
    opt = ro.Nesterov(ours_model.parameters(), lr=lr, momentum=mu, lookahead=True)

    def closure():
        opt.zero_grad()
        loss = ((ours_model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    params = [p for p in ref_model.parameters() if p.requires_grad]
    velocity = [torch.zeros_like(p) for p in params]
    for step in range(STEPS):
        loss = opt.step(closure)
        with torch.no_grad():
            saved = [p.clone() for p in params]
            for p, v in zip(params, velocity, strict=True):
                p += mu * v
        ref_model.zero_grad()
        ref_loss = ((ref_model(x) - y) ** 2).mean()
        ref_loss.backward()
        with torch.no_grad():
            for p, v, s in zip(params, velocity, saved, strict=True):
                v.mul_(mu).sub_(lr * p.grad)
                p.copy_(s + v)
        assert _close(loss.detach(), ref_loss.detach()), f"look-ahead loss differs at {step}"
        for p, q in zip(ours_model.parameters(), ref_model.parameters(), strict=True):
            assert _close(p.detach(), q.detach())
    for p, v in zip([p for p in ours_model.parameters() if p.requires_grad], velocity, strict=True):
        assert _close(opt.state[p]["v"], v)


def test_momentum_forms_are_equal_at_constant_lr() -> None:
    models = twin_models()
    x, y = make_data()
    opts = [
        ro.Momentum(m.parameters(), lr=0.05, momentum=0.9, lr_in_velocity=flag)
        for m, flag in zip(models, (True, False), strict=True)
    ]
    for _ in range(STEPS):
        for m, opt in zip(models, opts, strict=True):
            opt.zero_grad()
            ((m(x) - y) ** 2).mean().backward()
            opt.step()
    for p, q in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert _close(p.detach(), q.detach())


def test_momentum_forms_differ_once_lr_changes() -> None:
    """After the lr changes from a to b, the classic form keeps the velocity built at lr a,
    the PyTorch form rescales its whole buffer by b: both recurrences are written out here
    on f = x^2 / 2 (g = x)."""
    a, b, mu = 0.1, 0.01, 0.9
    xs = {}
    for flag in (True, False):
        p = torch.nn.Parameter(torch.tensor([1.0]))
        opt = ro.Momentum([p], lr=a, momentum=mu, lr_in_velocity=flag)
        for k in range(5):
            if k == 3:
                opt.param_groups[0]["lr"] = b
            opt.zero_grad()
            (0.5 * p**2).sum().backward()
            opt.step()
        xs[flag] = float(p.detach())
    # written out: both forms agree for 3 steps at lr a; then
    x, v = 1.0, 0.0
    for _ in range(3):
        v = mu * v - a * x
        x = x + v
    x_classic, v_classic = x, v
    x_torch, buf = x, -v / a
    for _ in range(2):
        v_classic = mu * v_classic - b * x_classic
        x_classic = x_classic + v_classic
        buf = mu * buf + x_torch
        x_torch = x_torch - b * buf
    assert xs[True] == pytest.approx(x_classic, rel=1e-12)
    assert xs[False] == pytest.approx(x_torch, rel=1e-12)
    assert abs(x_classic - x_torch) > 1e-3
