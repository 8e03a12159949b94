"""A small finished race on Beale's function, shared by the plot tests."""

from __future__ import annotations

import pytest

from ravine.race import race


@pytest.fixture(scope="session")
def result():
    return race("beale", ["sgd", "momentum", "adam"], lrs=[1e-3, 1e-2], steps=30)
