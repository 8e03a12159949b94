"""Fixtures for every test directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture
def float64() -> Iterator[torch.dtype]:
    """float64 as torch's default dtype for the test, the previous default restored after.

    The one home of the float64 setup: comparisons against references and closed forms at
    1e-10 need double precision throughout, and torch's references keep scalar state
    (NAdam's mu product, step counts) in the default dtype. Use it by name, or for a whole
    directory through an autouse fixture in its conftest (as tests/optim does)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch.float64
    torch.set_default_dtype(previous)
