"""A small float64 MLP problem shared by the optimizer tests."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn


class TinyMLP(nn.Module):
    """Two layers and a frozen scale: the parity problem."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
        self.frozen = nn.Parameter(torch.ones(3), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x))) * self.frozen


def make_model(seed: int = 0) -> TinyMLP:
    torch.manual_seed(seed)
    return TinyMLP().double()


def make_data(seed: int = 1, n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g, dtype=torch.float64)
    y = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return x, y


def param_groups(model: TinyMLP, first: dict, second: dict) -> list[dict]:
    """Two groups with their own hyperparameters; the frozen parameter sits in the second."""
    return [
        {"params": [model.fc1.weight, model.fc1.bias], **first},
        {"params": [model.fc2.weight, model.fc2.bias, model.frozen], **second},
    ]


def twin_models(seed: int = 0) -> tuple[TinyMLP, TinyMLP]:
    a = make_model(seed)
    return a, copy.deepcopy(a)


def loss_closure(
    model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor
) -> Callable[[], torch.Tensor]:
    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    return closure
