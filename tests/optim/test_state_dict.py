"""state_dict / load_state_dict: stopping mid-run and resuming in a fresh optimizer, through
a serialized checkpoint, gives exactly the trajectory of the run that never stopped."""

from __future__ import annotations

import io

import pytest
import torch

import ravine.optim as ro
from ravine.optim.closures import make_closure
from support import catalog
from support.mlp import make_data, make_model


def build(variant, model):
    """The optimizer over ``model``: over its layers where the class reads them, over one
    param group where it takes one only, over two (with their own lr) otherwise."""
    entry = variant.entry
    if entry.takes_model or entry.one_group:
        return variant.make(model)
    groups = [
        {"params": model.fc1.parameters(), "lr": 1e-2},
        {"params": model.fc2.parameters()},
    ]
    return variant.make(groups)


def train(model, opt, x, y, steps: int) -> None:
    def loss():
        return ((model(x) - y) ** 2).mean()

    def outputs():
        out = model(x)
        losses = ((out - y) ** 2).mean(dim=1)
        return (losses if getattr(opt, "per_example_losses", False) else losses.mean()), out

    closure = make_closure(opt.closure_kind, zero_grad=opt.zero_grad, loss=loss, outputs=outputs)
    for _ in range(steps):
        opt.step(closure)


@pytest.mark.parametrize("variant", catalog.variants())
def test_resume_reproduces_the_uninterrupted_run(variant) -> None:
    x, y = make_data()
    # The methods that differentiate the loss themselves solve with the curvature at every
    # step: a dozen steps carry their state (damping, probes, counts) through the checkpoint.
    half = 20 if variant.entry.closure_kind in ("backward", "model") else 6

    straight = make_model()
    opt = build(variant, straight)
    train(straight, opt, x, y, 2 * half)

    first = make_model()
    opt1 = build(variant, first)
    train(first, opt1, x, y, half)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = make_model(seed=123)  # different init: everything must come from the checkpoint
    resumed.load_state_dict(checkpoint["model"])
    opt2 = build(variant, resumed)
    opt2.load_state_dict(checkpoint["opt"])
    train(resumed, opt2, x, y, half)

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
