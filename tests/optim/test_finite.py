"""Non-finite gradients stop a step of any second-order or quasi-Newton method before
anything changes, with an error naming the parameter (ravine.optim.finite)."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ravine.optim.closures import make_closure
from support import catalog


class Net(nn.Module):
    """Two linear layers and a scale outside them (K-FAC steps it with its gradient)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3, 4), nn.Linear(4, 2)
        self.scale = nn.Parameter(torch.ones(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x))) * self.scale


def _closure(v, model, opt, poison):
    """The closure ``v``'s kind asks for. The loss gains ``c * sqrt(p - p)`` on the parameter
    numbered ``poison[0]``: its value is 0, its gradient inf (c = 1) or NaN (c = 0)."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(16, 3, generator=g), torch.randint(0, 2, (16,), generator=g)

    def outputs():
        z = model(x)
        loss = nn.functional.cross_entropy(z, y)
        if poison is not None:
            p = list(model.parameters())[poison[0]]
            loss = loss + (poison[1] * torch.sqrt(p - p.detach())).sum()
        return loss, z

    return make_closure(
        v.entry.closure_kind, zero_grad=opt.zero_grad, loss=lambda: outputs()[0], outputs=outputs
    )


def _same(a, b) -> bool:
    """Equal nested state (tensors bitwise, NaN included)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a.nan_to_num(), b.nan_to_num())
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("bad", ["nan", "inf"])
@pytest.mark.parametrize("v", catalog.variants(lambda v: not v.entry.elementwise, first=True))
def test_a_non_finite_gradient_names_its_parameter_and_changes_nothing(v, bad) -> None:
    for position in range(5):
        torch.manual_seed(0)
        model = Net()
        opt = (
            v.make(model, damping=1.0) if "damping" in v.entry.registry.defaults else v.make(model)
        )
        opt.step(_closure(v, model, opt, None))  # a good step: state to keep
        params = [p.detach().clone() for p in model.parameters()]
        state = opt.state_dict()
        state = {"state": {k: dict(s) for k, s in state["state"].items()}}
        snapshot = _clone(state)
        poisoned = _closure(v, model, opt, (position, 1.0 if bad == "inf" else 0.0))
        with pytest.raises(FloatingPointError, match=f"param group 0, parameter {position}\\b"):
            opt.step(poisoned)
        for before, p in zip(params, model.parameters(), strict=True):
            assert torch.equal(before, p.detach()), f"{v.name} moved a parameter"
        after = {"state": {k: dict(s) for k, s in opt.state_dict()["state"].items()}}
        assert _same(snapshot, after), f"{v.name} changed its state"


def _clone(x):
    if isinstance(x, torch.Tensor):
        return x.clone()
    if isinstance(x, dict):
        return {k: _clone(y) for k, y in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(_clone(y) for y in x)
    return x


def test_check_finite_false_lets_them_through() -> None:
    v = catalog.variant("newton-damped")
    model = Net()
    opt = v.make(model, check_finite=False)
    opt.step(_closure(v, model, opt, (0, 0.0)))
    assert math.isnan(float(model.fc1.weight.detach().sum()))


@pytest.mark.parametrize(
    "v",
    catalog.variants(
        lambda v: (
            not v.entry.elementwise
            and not v.entry.takes_model
            and v.entry.name not in ("bfgs", "lbfgs")
        ),  # one param group only
        first=True,
    ),
)
def test_with_two_groups_a_bad_gradient_in_the_second_moves_neither(v) -> None:
    """Each group iterates after the ones before it moved: every group's gradient is checked
    before the first moves."""
    torch.manual_seed(0)
    model = Net()
    first, second = list(model.fc1.parameters()), [*model.fc2.parameters(), model.scale]
    extra = {"damping": 1.0} if "damping" in v.entry.registry.defaults else {}
    opt = v.make([{"params": first}, {"params": second}], **extra)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(FloatingPointError, match=r"param group 1, parameter 0\b"):
        opt.step(_closure(v, model, opt, (3, 0.0)))  # fc2.weight (scale is parameter 0)
    for b, p in zip(before, model.parameters(), strict=True):
        assert torch.equal(b, p.detach()), f"{v.name} moved a parameter"
    opt.step(_closure(v, model, opt, None))  # and a good step still runs
