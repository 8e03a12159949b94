"""state_dict / load_state_dict: stopping mid-run and resuming in a fresh optimizer, through
a serialized checkpoint, gives exactly the trajectory of the run that never stopped."""

from __future__ import annotations

import io

import pytest
import torch

import ravine.optim as ro
from support.mlp import make_data, make_model

# The first-order optimizers share one closure contract (the closure calls backward); the
# second-order ones test their own round trips next to their other tests.
VARIANTS = {name: (cls, {}) for name, cls in ro.REGISTRY.items() if cls.elementwise}
VARIANTS |= {
    "nesterov-lookahead": (ro.Nesterov, {"lookahead": True}),
    "adam-amsgrad": (ro.Adam, {"amsgrad": True}),
    "rmsprop-centered-momentum": (ro.RMSProp, {"centered": True, "momentum": 0.9}),
    "nadam-torch": (ro.Nadam, {"momentum_decay": 4e-3}),
}


def train(model, opt, x, y, steps: int) -> None:
    def closure():
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_resume_reproduces_the_uninterrupted_run(name: str) -> None:
    cls, options = VARIANTS[name]
    x, y = make_data()

    def build(model):
        groups = [
            {"params": model.fc1.parameters(), "lr": 1e-2},
            {"params": model.fc2.parameters()},
        ]
        return cls(groups, **options)

    straight = make_model()
    opt = build(straight)
    train(straight, opt, x, y, 40)

    first = make_model()
    opt1 = build(first)
    train(first, opt1, x, y, 20)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = make_model(seed=123)  # different init: everything must come from the checkpoint
    resumed.load_state_dict(checkpoint["model"])
    opt2 = build(resumed)
    opt2.load_state_dict(checkpoint["opt"])
    train(resumed, opt2, x, y, 20)

    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p, q)
    assert opt.state_dict()["param_groups"] == opt2.state_dict()["param_groups"]


def test_state_dict_carries_hyperparameters_and_step() -> None:
    model = make_model()
    x, y = make_data()
    opt = ro.Adam(model.parameters(), lr=3e-3, betas=(0.8, 0.99))
    train(model, opt, x, y, 3)
    sd = opt.state_dict()
    assert sd["param_groups"][0]["lr"] == 3e-3
    assert sd["param_groups"][0]["betas"] == (0.8, 0.99)
    assert {int(s["step"]) for s in sd["state"].values()} == {3}
