"""Every algorithm converges on a convex quadratic and on Rosenbrock from a fixed start.

The minima are known in closed form: the quadratic's at its centre, Rosenbrock's at (1, 1).
Each optimizer runs with a learning rate suited to it, batched over a few seeds' worth of
starts in one [T, 2] parameter."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro

CENTRE = torch.tensor([1.0, -2.0], dtype=torch.float64)
A = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=torch.float64)  # eigenvalues 1.38 and 3.62


def quadratic(x: torch.Tensor) -> torch.Tensor:
    d = x - CENTRE
    return 0.5 * torch.einsum("...i,ij,...j->...", d, A, d)


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[..., 0]) ** 2 + 100 * (x[..., 1] - x[..., 0] ** 2) ** 2


def descend(opt_factory, f, start, steps):
    x = torch.nn.Parameter(start.clone())
    opt = opt_factory([x])

    def closure():
        opt.zero_grad()
        loss = f(x).sum()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return x.detach()


# name -> (hyperparameters on the quadratic, steps), (hyperparameters on Rosenbrock, steps)
SETTINGS = {
    "sgd": (({"lr": 0.2}, 300), ({"lr": 1e-3}, 20000)),
    "momentum": (({"lr": 0.05}, 400), ({"lr": 1e-3, "momentum": 0.9}, 6000)),
    "nesterov": (({"lr": 0.05}, 400), ({"lr": 1e-3, "momentum": 0.9}, 6000)),
    "adagrad": (({"lr": 0.5}, 600), ({"lr": 0.5}, 8000)),
    "rmsprop": (({"lr": 1e-2}, 800), ({"lr": 1e-3}, 8000)),
    "adadelta": (({"lr": 1.0, "decay": 0.95}, 3000), ({"lr": 1.0, "decay": 0.95}, 20000)),
    "adam": (({"lr": 0.05}, 800), ({"lr": 0.02}, 6000)),
    "adamw": (({"lr": 0.05, "weight_decay": 0.0}, 800), ({"lr": 0.02, "weight_decay": 0.0}, 6000)),
    "adamax": (({"lr": 0.05}, 800), ({"lr": 0.02}, 6000)),
    "nadam": (({"lr": 0.05}, 800), ({"lr": 0.02}, 6000)),
    "adabelief": (({"lr": 0.05}, 800), ({"lr": 0.02}, 6000)),
}


def starts(centre: tuple[float, float]) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.tensor(centre, dtype=torch.float64) + 0.2 * torch.randn(
        4, 2, generator=g, dtype=torch.float64
    )


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_converges_on_a_convex_quadratic(name: str) -> None:
    (hp, steps), _ = SETTINGS[name]
    x = descend(lambda p: ro.get(name, p, **hp), quadratic, starts((-2.0, 2.0)), steps)
    assert torch.allclose(x, CENTRE.expand_as(x), atol=1e-3), x


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_converges_on_rosenbrock(name: str) -> None:
    _, (hp, steps) = SETTINGS[name]
    x = descend(lambda p: ro.get(name, p, **hp), rosenbrock, starts((-1.5, 2.0)), steps)
    assert torch.allclose(x, torch.ones_like(x), atol=2e-2), x


def test_every_first_order_optimizer_has_settings() -> None:
    first_order = {name for name, cls in ro.REGISTRY.items() if cls.elementwise}
    assert first_order <= set(SETTINGS)
