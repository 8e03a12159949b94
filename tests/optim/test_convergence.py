"""Every algorithm converges on a convex quadratic and on Rosenbrock from a fixed start.

The minima are known in closed form: the quadratic's at its centre, Rosenbrock's at (1, 1).
Each optimizer runs from one fixed start with a learning rate suited to it."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from ravine.schedules import Scheduler, exponential

CENTRE = torch.tensor([1.0, -2.0], dtype=torch.float64)
A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)  # eigenvalues 1.38 and 3.62


def quadratic(x: torch.Tensor) -> torch.Tensor:
    d = x - CENTRE
    return 0.5 * torch.einsum("...i,ij,...j->...", d, A, d)


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2


def descend(opt_factory, f, start, steps: int, lr_decay: float = 1.0) -> torch.Tensor:
    """`steps` steps from `start`; the learning rate decays exponentially by `lr_decay` in all."""
    x = torch.nn.Parameter(start.clone())
    opt = opt_factory([x])
    scheduler = Scheduler(opt, {"lr": exponential(lr_decay ** (1 / steps))})

    def closure():
        opt.zero_grad()
        loss = f(x).sum()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
        scheduler.step()
    return x.detach()


# name -> {problem: (hyperparameters, steps, total lr decay)}. Methods whose steps do not
# shrink on their own near the minimum (RMSProp, AdaDelta) get a decaying learning rate,
# as they need one to converge rather than hover.
SETTINGS = {
    "sgd": {"quadratic": ({"lr": 0.2}, 300, 1.0), "rosenbrock": ({"lr": 1e-3}, 20000, 1.0)},
    "momentum": {
        "quadratic": ({"lr": 0.05}, 400, 1.0),
        "rosenbrock": ({"lr": 1e-3, "momentum": 0.9}, 3000, 1.0),
    },
    "nesterov": {
        "quadratic": ({"lr": 0.05}, 400, 1.0),
        "rosenbrock": ({"lr": 1e-3, "momentum": 0.9}, 6000, 1.0),
    },
    "adagrad": {"quadratic": ({"lr": 1.0}, 400, 1.0), "rosenbrock": ({"lr": 1.0}, 20000, 1.0)},
    "rmsprop": {
        "quadratic": ({"lr": 0.1}, 800, 1e-3),
        "rosenbrock": ({"lr": 0.01}, 6000, 1e-3),
    },
    "adadelta": {
        "quadratic": ({"lr": 10.0, "decay": 0.9}, 1500, 1e-2),
        "rosenbrock": ({"lr": 0.1, "decay": 0.9}, 20000, 1e-2),
    },
    "adam": {"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 1.0}, 3000, 1e-2)},
    "adamw": {
        "quadratic": ({"lr": 0.1, "weight_decay": 0.0}, 800, 1.0),
        "rosenbrock": ({"lr": 1.0, "weight_decay": 0.0}, 3000, 1e-2),
    },
    "adamax": {
        "quadratic": ({"lr": 0.1}, 800, 1.0),
        "rosenbrock": ({"lr": 0.01}, 6000, 1.0),
    },
    "nadam": {"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.01}, 3000, 1.0)},
    "adabelief": {"quadratic": ({"lr": 0.1}, 800, 1.0), "rosenbrock": ({"lr": 0.03}, 3000, 1.0)},
}
QUADRATIC_START = torch.tensor([-2.0, 2.0], dtype=torch.float64)
ROSENBROCK_START = torch.tensor([-1.5, 2.0], dtype=torch.float64)  # the classic start


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_converges_on_a_convex_quadratic(name: str) -> None:
    hp, steps, decay = SETTINGS[name]["quadratic"]
    x = descend(lambda p: ro.get(name, p, **hp), quadratic, QUADRATIC_START, steps, decay)
    assert torch.allclose(x, CENTRE, atol=1e-3), x


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_converges_on_rosenbrock(name: str) -> None:
    hp, steps, decay = SETTINGS[name]["rosenbrock"]
    x = descend(lambda p: ro.get(name, p, **hp), rosenbrock, ROSENBROCK_START, steps, decay)
    assert torch.allclose(x, torch.ones(2, dtype=torch.float64), atol=2e-2), x


def test_every_first_order_optimizer_has_settings() -> None:
    first_order = {name for name, cls in ro.REGISTRY.items() if cls.elementwise}
    assert first_order <= set(SETTINGS)
