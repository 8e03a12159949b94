"""Every first-order optimizer against an independent reference, 120 steps in float64.

References are torch.optim, the AdaBelief authors' package, or the update written out here
(never ravine's own code). The problem has two param groups with different hyperparameters,
a frozen parameter, and a step at which one gradient is None. Parameters and the state that
corresponds must agree to 1e-10 relative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import torch

import ravine.optim as ro
from support.mlp import make_data, param_groups, twin_models

STEPS = 120
NONE_GRAD_STEP = 7  # at this step fc2.bias has no gradient (p.grad is None)
RTOL = 1e-10


# ------------------------------------------------------------------ hand-written references


class Hand(torch.optim.Optimizer):
    """Applies an update written out in this file: update(p, g, state, t, group) in place."""

    def __init__(self, params, update: Callable, **defaults) -> None:
        self.update = update
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["t"] = state.get("t", 0) + 1
                self.update(p, p.grad, state, state["t"], group)
        return loss


def adam_without_bias_correction(p, g, state, t, group):
    # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; theta -= lr m / (sqrt(v) + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    p -= group["lr"] * m / (torch.sqrt(v) + group["eps"])


def nadam_dozat_constant_momentum(p, g, state, t, group):
    # optax's nadam (Dozat's simplified form, mu_t = b1):
    # m_hat = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t); v_hat = v / (1 - b2^t)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    p -= group["lr"] * m_hat / (torch.sqrt(v_hat) + group["eps"])


def rmsprop_eps_in_sqrt(p, g, state, t, group):
    # Keras / optax: s = rho s + (1 - rho) g^2; theta -= lr g / sqrt(s + eps)
    rho = group["decay"]
    s = state["s"] = rho * state.get("s", 0 * g) + (1 - rho) * g**2
    p -= group["lr"] * g / torch.sqrt(s + group["eps"])


def adagrad_eps_in_sqrt(p, g, state, t, group):
    # optax: G = G0 + sum g^2; theta -= lr g / sqrt(G + eps)
    G = state["G"] = state.get("G", 0 * g + group["init"]) + g**2
    p -= group["lr"] * g / torch.sqrt(G + group["eps"])


def adamax_eps_in_denominator(p, g, state, t, group):
    # optax: u = max(b2 u, |g|); theta -= lr / (1 - b1^t) m / (u + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    u = state["u"] = torch.maximum(b2 * state.get("u", 0 * g), g.abs())
    p -= group["lr"] / (1 - b1**t) * m / (u + group["eps"])


# ------------------------------------------------------------------------------- the cases


@dataclass
class Case:
    name: str
    ravine: Callable  # (groups) -> optimizer
    reference: Callable  # (groups) -> optimizer
    first: dict  # hyperparameters of group 1 (shared by both sides)
    second: dict
    ref_first: dict | None = None  # reference-side names, where they differ
    ref_second: dict | None = None
    # ravine state key -> (reference state key, transform(ref_value, group) -> expected)
    state_map: dict = field(default_factory=dict)
    closure: bool = False


def same(key):
    return (key, lambda value, group: value)


CASES = [
    Case("sgd", ro.SGD, torch.optim.SGD, {"lr": 0.05}, {"lr": 0.1}),
    Case(
        "sgd-weight-decay-maximize",
        lambda gs: ro.SGD(gs, maximize=True),
        lambda gs: torch.optim.SGD(gs, maximize=True),
        {"lr": 0.05, "weight_decay": 0.01},
        {"lr": 0.02, "weight_decay": 0.0},
    ),
    Case(
        "momentum-torch-form",
        lambda gs: ro.Momentum(gs, lr_in_velocity=False),
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.5},
        state_map={"v": same("momentum_buffer")},
    ),
    Case(
        "momentum-classic-form",
        lambda gs: ro.Momentum(gs, lr_in_velocity=True),
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.5},
        # constant lr: v = -lr b
        state_map={"v": ("momentum_buffer", lambda b, group: -group["lr"] * b)},
    ),
    Case(
        "nesterov-reformulated",
        ro.Nesterov,
        lambda gs: torch.optim.SGD(gs, momentum=0.9, nesterov=True),
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.1, "momentum": 0.8},
        state_map={"v": same("momentum_buffer")},
    ),
    Case(
        "adagrad",
        # torch fills its accumulator from the constructor's value, not the group's
        lambda gs: ro.AdaGrad(gs, eps=1e-10, initial_accumulator=0.1),
        lambda gs: torch.optim.Adagrad(gs, eps=1e-10, initial_accumulator_value=0.1),
        {"lr": 0.05},
        {"lr": 0.1},
        state_map={"G": same("sum")},
    ),
    Case(
        "adagrad-eps-in-sqrt",
        lambda gs: ro.AdaGrad(gs, eps=1e-7, eps_in_sqrt=True),
        lambda gs: Hand(gs, adagrad_eps_in_sqrt, eps=1e-7),
        {"lr": 0.05, "initial_accumulator": 0.1},
        {"lr": 0.1, "initial_accumulator": 0.0},
        ref_first={"lr": 0.05, "init": 0.1},
        ref_second={"lr": 0.1, "init": 0.0},
        state_map={"G": same("G")},
    ),
    Case(
        "rmsprop",
        ro.RMSProp,
        torch.optim.RMSprop,
        {"lr": 1e-3, "decay": 0.9, "eps": 1e-8},
        {"lr": 2e-3, "decay": 0.99, "eps": 1e-6},
        ref_first={"lr": 1e-3, "alpha": 0.9, "eps": 1e-8},
        ref_second={"lr": 2e-3, "alpha": 0.99, "eps": 1e-6},
        state_map={"s": same("square_avg")},
    ),
    Case(
        "rmsprop-centered-momentum",
        lambda gs: ro.RMSProp(gs, centered=True, momentum=0.9),
        lambda gs: torch.optim.RMSprop(gs, centered=True, momentum=0.9),
        {"lr": 1e-3, "decay": 0.9},
        {"lr": 2e-3, "decay": 0.99},
        ref_first={"lr": 1e-3, "alpha": 0.9},
        ref_second={"lr": 2e-3, "alpha": 0.99},
        state_map={"s": same("square_avg"), "gbar": same("grad_avg"), "b": same("momentum_buffer")},
    ),
    Case(
        "rmsprop-eps-in-sqrt",
        lambda gs: ro.RMSProp(gs, eps_in_sqrt=True, eps=1e-7),
        lambda gs: Hand(gs, rmsprop_eps_in_sqrt, eps=1e-7),
        {"lr": 1e-3, "decay": 0.9},
        {"lr": 2e-3, "decay": 0.99},
        state_map={"s": same("s")},
    ),
    Case(
        "adadelta",
        ro.AdaDelta,
        torch.optim.Adadelta,
        {"lr": 1.0, "decay": 0.9},
        {"lr": 0.5, "decay": 0.95},
        ref_first={"lr": 1.0, "rho": 0.9},
        ref_second={"lr": 0.5, "rho": 0.95},
        state_map={"Eg2": same("square_avg"), "Edx2": same("acc_delta")},
    ),
    Case(
        "adam",
        ro.Adam,
        torch.optim.Adam,
        {"lr": 1e-3, "betas": (0.9, 0.999)},
        {"lr": 3e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("exp_avg"), "v": same("exp_avg_sq")},
    ),
    Case(
        "adam-amsgrad-l2-maximize",
        lambda gs: ro.Adam(gs, amsgrad=True, maximize=True),
        lambda gs: torch.optim.Adam(gs, amsgrad=True, maximize=True),
        {"lr": 1e-3, "weight_decay": 0.1},
        {"lr": 3e-3, "weight_decay": 0.0},
        state_map={"m": same("exp_avg"), "v": same("exp_avg_sq"), "v_max": same("max_exp_avg_sq")},
    ),
    Case(
        "adam-decoupled-weight-decay",
        lambda gs: ro.Adam(gs, decoupled_weight_decay=True),
        torch.optim.AdamW,
        {"lr": 1e-3, "weight_decay": 0.1},
        {"lr": 3e-3, "weight_decay": 0.01},
        state_map={"m": same("exp_avg"), "v": same("exp_avg_sq")},
    ),
    Case(
        "adamw",
        ro.AdamW,
        torch.optim.AdamW,
        {"lr": 1e-3},
        {"lr": 3e-3},
        state_map={"m": same("exp_avg"), "v": same("exp_avg_sq")},
    ),
    Case(
        "adam-without-bias-correction",
        lambda gs: ro.Adam(gs, bias_correction=False),
        lambda gs: Hand(gs, adam_without_bias_correction, betas=(0.9, 0.999), eps=1e-8),
        {"lr": 1e-3},
        {"lr": 3e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("m"), "v": same("v")},
    ),
    Case(
        "adamax",
        ro.AdaMax,
        torch.optim.Adamax,
        {"lr": 2e-3},
        {"lr": 1e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("exp_avg"), "u": same("exp_inf")},
    ),
    Case(
        "adamax-eps-in-denominator",
        lambda gs: ro.AdaMax(gs, eps_in_max=False),
        lambda gs: Hand(gs, adamax_eps_in_denominator, betas=(0.9, 0.999), eps=1e-8),
        {"lr": 2e-3},
        {"lr": 1e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("m"), "u": same("u")},
    ),
    Case(
        "nadam-torch-schedule",
        lambda gs: ro.Nadam(gs, momentum_decay=4e-3),
        lambda gs: torch.optim.NAdam(gs, momentum_decay=4e-3),
        {"lr": 2e-3},
        {"lr": 1e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("exp_avg"), "v": same("exp_avg_sq"), "mu_product": same("mu_product")},
    ),
    Case(
        "nadam-dozat-constant",
        lambda gs: ro.Nadam(gs, momentum_decay=0.0),
        lambda gs: Hand(gs, nadam_dozat_constant_momentum, betas=(0.9, 0.999), eps=1e-8),
        {"lr": 2e-3},
        {"lr": 1e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("m"), "v": same("v")},
    ),
    Case(
        "adabelief",
        ro.AdaBelief,
        "adabelief_pytorch",
        {"lr": 1e-3},
        {"lr": 3e-3, "betas": (0.8, 0.99)},
        state_map={"m": same("exp_avg"), "s": same("exp_avg_var")},
    ),
]


def _reference(case: Case, groups: list[dict]):
    if case.reference == "adabelief_pytorch":
        from adabelief_pytorch import AdaBelief

        return AdaBelief(
            groups,
            eps=1e-16,
            rectify=False,
            weight_decouple=False,
            print_change_log=False,
        )
    return case.reference(groups)


def _close(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    scale = expected.abs().max().clamp_min(1e-300)
    return bool(((actual - expected).abs().max() / scale) <= RTOL)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_trajectory_matches_reference(case: Case, capsys) -> None:
    ours_model, ref_model = twin_models()
    x, y = make_data()
    ours = case.ravine(param_groups(ours_model, case.first, case.second))
    ref = _reference(
        case,
        param_groups(ref_model, case.ref_first or case.first, case.ref_second or case.second),
    )
    for step in range(1, STEPS + 1):
        for model, opt in ((ours_model, ours), (ref_model, ref)):
            opt.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            if step == NONE_GRAD_STEP:
                model.fc2.bias.grad = None
            opt.step()
        for (name, p), q in zip(ours_model.named_parameters(), ref_model.parameters(), strict=True):
            assert _close(p.detach(), q.detach()), f"{case.name}: {name} differs at step {step}"
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
            for key, (ref_key, transform) in case.state_map.items():
                expected = transform(ref.state[q][ref_key], ref_group)
                assert _close(ours.state[p][key], expected), f"{case.name}: state {key}, group {gi}"
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
