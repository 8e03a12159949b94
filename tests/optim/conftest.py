"""Fixtures for the optimizer tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _float64_default(float64):
    """Every optimizer test runs with float64 as the default dtype (tests/conftest.py)."""
