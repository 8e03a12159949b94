"""Hand-written gradients (``Landscape.value_and_grad``, the race's fast path) against autograd.

Autograd on ``fn`` is the reference: the written-out loss and gradient must give the same
numbers at random points over (and beyond) the plotting domain, and a race must take the
same path with the fast path as without it.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ravine import landscapes, race

CASES = [
    ("saddle", {}),
    ("monkey_saddle", {}),
    ("quadratic", {}),
    ("quadratic", {"condition": 50.0, "angle": 30.0}),
    ("quadratic", {"dim": 1}),
    ("quadratic", {"dim": 4, "condition": 1e3}),
    ("rosenbrock", {}),
    ("rosenbrock", {"dim": 5, "a": 0.5, "b": 30.0}),
    ("beale", {}),
    ("booth", {}),
    ("himmelblau", {}),
    ("three_hump_camel", {}),
    ("rastrigin", {}),
    ("rastrigin", {"dim": 3, "amplitude": 4.0}),
    ("styblinski_tang", {}),
    ("styblinski_tang", {"dim": 3}),
]


def _points(f, n: int = 500, seed: int = 0) -> torch.Tensor:
    lo, hi = f.box()
    u = torch.rand(n, f.dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lo + (1.5 * u - 0.25) * (hi - lo)  # the domain and a quarter beyond each side


def _autograd(f, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = x.clone().requires_grad_(True)
    value = f.fn(x)
    (g,) = torch.autograd.grad(value.sum(), x)
    return value.detach(), g


@pytest.mark.parametrize(("name", "options"), CASES, ids=lambda c: str(c))
def test_written_gradient_equals_autograd(name, options):
    f = landscapes.get(name, **options)
    assert f.value_and_grad is not None
    x = _points(f)
    value, g = f.value_and_grad(x)
    ref_value, ref_g = _autograd(f, x)
    assert value.shape == ref_value.shape and g.shape == ref_g.shape
    torch.testing.assert_close(value, ref_value, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g, ref_g, rtol=1e-12, atol=1e-10)
    # the race hands it a transposed [dim, n] parameter: same numbers from that layout
    xt = x.T.contiguous().T
    value_t, g_t = f.value_and_grad(xt)
    torch.testing.assert_close(value_t, ref_value, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(g_t, ref_g, rtol=1e-12, atol=1e-10)


def test_every_polynomial_classic_has_one():
    # the landscapes with a written gradient; the rest (transcendental or data-defined) use
    # autograd in races too
    have = {n for n in landscapes.names() if landscapes.get(n).value_and_grad is not None}
    assert {c[0] for c in CASES} <= have


@pytest.mark.parametrize("name", ["rosenbrock", "beale", "himmelblau"])
def test_race_takes_the_same_path_with_and_without_the_written_gradient(name):
    f = landscapes.get(name)
    plain = dataclasses.replace(f, value_and_grad=None)
    optimizers = ["sgd", "momentum", "nesterov", "adam", "rmsprop", "bfgs"]
    lrs = [1e-4, 1e-3]
    fast = race(f, optimizers, lrs=lrs, steps=60)
    slow = race(plain, optimizers, lrs=lrs, steps=60)
    for label in optimizers:
        a, b = fast[label], slow[label]
        torch.testing.assert_close(a.positions, b.positions, rtol=1e-10, atol=1e-12, equal_nan=True)
        torch.testing.assert_close(a.losses, b.losses, rtol=1e-10, atol=1e-12, equal_nan=True)
        torch.testing.assert_close(
            a.grad_norms, b.grad_norms, rtol=1e-10, atol=1e-12, equal_nan=True
        )
        assert torch.equal(a.outcome, b.outcome)
