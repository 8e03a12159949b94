"""Fixtures for the optimizer tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def float64_default():
    """torch's references keep scalar state (NAdam's mu product, steps) in the default dtype:
    make it float64 so the references themselves are exact to 1e-10."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)
