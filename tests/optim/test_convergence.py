"""Every algorithm converges on a convex quadratic and on Rosenbrock from a fixed start.

The minima are known in closed form: the quadratic's at its centre, Rosenbrock's at (1, 1).
Each optimizer runs from one fixed start with a learning rate suited to it (its catalog
entry's ``converges``). Methods whose steps do not shrink on their own near the minimum
(RMSProp, AdaDelta) get a decaying learning rate, as they need one to converge rather than
hover."""

from __future__ import annotations

import pytest
import torch

from ravine.schedules import Scheduler, exponential
from support import catalog

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


QUADRATIC_START = torch.tensor([-2.0, 2.0], dtype=torch.float64)
ROSENBROCK_START = torch.tensor([-1.5, 2.0], dtype=torch.float64)  # the classic start


# Each optimizer's settings for each problem live in its catalog entry (``converges``).
CONVERGING = [pytest.param(i, id=i.name) for i in catalog.CATALOG if i.converges]


@pytest.mark.parametrize("entry", CONVERGING)
def test_converges_on_a_convex_quadratic(entry) -> None:
    hp, steps, decay = entry.converges["quadratic"]
    x = descend(lambda p: entry.cls(p, **hp), quadratic, QUADRATIC_START, steps, decay)
    assert torch.allclose(x, CENTRE, atol=1e-3), x


@pytest.mark.parametrize("entry", CONVERGING)
def test_converges_on_rosenbrock(entry) -> None:
    hp, steps, decay = entry.converges["rosenbrock"]
    x = descend(lambda p: entry.cls(p, **hp), rosenbrock, ROSENBROCK_START, steps, decay)
    assert torch.allclose(x, torch.ones(2), atol=2e-2), x


def test_every_first_order_optimizer_has_settings() -> None:
    for entry in catalog.CATALOG:
        if entry.elementwise:
            assert set(entry.converges) == {"quadratic", "rosenbrock"}, entry.name
