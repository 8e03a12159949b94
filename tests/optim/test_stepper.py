"""``ravine.optim.stepper``: an elementwise optimizer's step as a function gives its
``step()``'s numbers, and is refused where ``step()`` does more than the rule."""

from __future__ import annotations

import pytest
import torch

from ravine import optim
from ravine.optim.stepper import stepper


def _param() -> torch.Tensor:
    return torch.tensor([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]], dtype=torch.float64)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("adam", {"lr": 0.1}),
        ("adam", {"lr": torch.tensor([[0.1, 0.2, 0.3]], dtype=torch.float64)}),
        ("nesterov", {"lookahead": True}),
        ("rmsprop", {"weight_decay": 0.1, "maximize": True}),
    ],
)
def test_steps_equal_the_optimizer_s_own(name, kwargs):
    x = _param().requires_grad_(True)
    opt = optim.get(name, [x], check_finite=False, **kwargs)
    rule = stepper(opt, x)
    assert rule is not None
    p = _param()

    def grad(at):  # the gradient of sum(x^4 / 4 + x), taken where the step asks
        return at**3 + 1

    for t in range(1, 6):
        offset = rule.offset(p, t)
        p = rule.step(p, grad(p if offset is None else p + offset).T.contiguous().T, t)

        def closure():
            x.grad = grad(x.detach())
            return x.sum()

        opt.step(closure)
        assert torch.equal(p, x.detach())


def test_refused_where_the_step_is_more_than_the_rule():
    x = _param().requires_grad_(True)
    assert stepper(optim.get("adam", [x]), x) is None  # the finiteness check
    assert stepper(optim.get("adam", [x], check_finite=False, compile=True), x) is None
    assert stepper(torch.optim.SGD([x], lr=0.1), x) is None
    y = _param().requires_grad_(True)
    assert stepper(optim.get("sgd", [x, y], check_finite=False), x) is None
    wide = optim.get("adam", [x], check_finite=False, state_dtype=torch.float32)
    assert stepper(wide, x) is None
    assert stepper(optim.get("bfgs", [x], check_finite=False), x) is None  # its own step
