"""Races of the optimizers that need a model: outputs (Gauss-Newton, natural gradient,
Hessian-free) on least-squares landscapes and the moons logistic regression, layers (K-FAC)
on moons; and every registered optimizer racing somewhere.
"""

from __future__ import annotations

import pytest
import torch

from ravine import landscapes, race
from ravine.optim import KFAC, lookup, names

LEAST_SQUARES = [
    ("rosenbrock", {}),
    ("rosenbrock", {"dim": 4, "a": 0.5, "b": 20.0}),
    ("quadratic", {"condition": 30.0, "angle": 20.0}),
    ("beale", {}),
    ("booth", {}),
    ("himmelblau", {}),
]


def _random(f, n=200, seed=0):
    lo, hi = f.box()
    u = torch.rand(n, f.dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return lo + u * (hi - lo)


@pytest.mark.parametrize(("name", "options"), LEAST_SQUARES, ids=str)
def test_least_squares_model_reproduces_the_loss(name, options):
    f = landscapes.get(name, **options)
    x = _random(f)
    assert f.model.likelihood == "gaussian"
    torch.testing.assert_close(f.model.value(x), f.fn(x), rtol=1e-12, atol=1e-12)
    # and 1/2 |r|^2 written out
    r = f.model.outputs(x, None)
    torch.testing.assert_close(0.5 * (r * r).sum(-1), f.fn(x), rtol=1e-12, atol=1e-12)


def test_moons_model_is_the_logistic_regression_it_draws():
    f = landscapes.get("moons")
    w = _random(f, 50)
    torch.testing.assert_close(f.model.value(w), f.fn(w), rtol=1e-12, atol=1e-12)
    batch = f.draw(f.generator(3), torch.float64)
    torch.testing.assert_close(
        f.model.value(w, batch.expand(50, -1)), f.sample_loss(w, batch.expand(50, -1))
    )
    # a linear model: margins = inputs @ w, margins y_i (w . x_i) from the raw data
    torch.testing.assert_close(f.model.outputs(w[0], batch), f.model.inputs(batch) @ w[0])
    margins = f.labels[batch] * (f.features[batch] @ w[0])
    torch.testing.assert_close(f.model.outputs(w[0], batch), margins)


def test_gauss_newton_solves_a_linear_least_squares_problem_in_one_step():
    # Booth's residuals are linear, so the Gauss-Newton step is the Newton step: it lands on
    # the minimum (1, 3) at once.
    result = race("booth", {"gn": {"optimizer": "gauss_newton", "damping": 0.0}}, steps=1)
    torch.testing.assert_close(
        result["gn"].positions[0, 0, 0, 1], torch.tensor([1.0, 3.0], dtype=torch.float64)
    )


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "moons"])
def test_natural_gradient_with_the_true_fisher_equals_gauss_newton(name):
    # For a negative log-likelihood loss of the outputs (Gaussian for residuals, Bernoulli for
    # logistic regression) the Fisher equals the generalized Gauss-Newton matrix
    # (Martens 2014), so the two optimizers take the same steps on the same mini-batches.
    optimizers = {
        "gn": {"optimizer": "gauss_newton", "damping": 0.5},
        "ng": {"optimizer": "natural_gradient", "damping": 0.5},
    }
    result = race(name, optimizers, lrs=[0.5], steps=15, seeds=[0, 1])
    torch.testing.assert_close(result["ng"].positions, result["gn"].positions, rtol=1e-7, atol=1e-9)
    assert not torch.equal(result["gn"].positions[..., 0, :], result["gn"].positions[..., -1, :])


def test_kfac_race_on_moons_equals_kfac_on_a_linear_layer_by_hand():
    f = landscapes.get("moons")
    steps, lr = 12, 0.3
    result = race(f, {"kfac": {"damping": 1e-2}}, lrs=[lr], steps=steps, seeds=[2])
    # the same K-FAC on a bias-free nn.Linear fed the same mini-batches
    layer = torch.nn.Linear(2, 1, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(f.start()[None])
    opt = KFAC(layer, lr=lr, damping=1e-2)
    gen = f.generator(2)
    path = [layer.weight.detach()[0].clone()]
    for _ in range(steps):
        batch = f.draw(gen, torch.float64)
        opt.zero_grad()
        margins = layer(f.labels[batch, None] * f.features[batch])[:, 0]
        torch.nn.functional.softplus(-margins).mean().backward()
        opt.step()
        path.append(layer.weight.detach()[0].clone())
    torch.testing.assert_close(result["kfac"].positions[0, 0, 0], torch.stack(path))
    losses = result["kfac"].losses[0, 0, 0]
    assert losses[-1] < losses[0]


def test_every_registered_optimizer_races():
    for name in names():
        kind = lookup(name).closure_kind
        where = "moons" if kind == "model" else "rosenbrock"
        result = race(where, [name], steps=3)
        run = result[name]
        assert run.positions.shape[-2:] == (4, 2)
        assert torch.isfinite(run.positions[..., 1, :]).all(), name
        assert not torch.equal(run.positions[..., 0, :], run.positions[..., 1, :]), name


def test_optimizers_that_need_a_model_are_refused_with_the_landscapes_that_have_one():
    with pytest.raises(ValueError, match=r"saddle does not define.*rosenbrock.*moons"):
        race("saddle", ["gauss_newton"], steps=2)
    with pytest.raises(ValueError, match=r"not a linear model; race it on one of moons"):
        race("rosenbrock", ["kfac"], steps=2)
    noisy = landscapes.get("rosenbrock", noise=0.1)  # added noise has no model
    with pytest.raises(ValueError, match="does not define"):
        race(noisy, ["hessian_free"], steps=2)
