"""Fixtures of the curvature tests: double precision and a small classification model."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _float64(float64):
    """These tests compare against closed forms in double precision (tests/conftest.py)."""


@pytest.fixture
def model_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x = torch.randn(8, 3)
    y = torch.randint(0, 3, (8,))
    return model, nn.functional.cross_entropy, (x, y)
