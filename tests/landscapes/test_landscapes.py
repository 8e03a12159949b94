"""Landscapes: known minima (values from the literature), gradients, noise, the moons loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from ravine import landscapes

ALL = landscapes.names()


def _at(f, point):
    return torch.tensor(point, dtype=torch.float64)


# Published minima (CONVENTIONS.md): (name, options, location, value).
PUBLISHED = [
    ("beale", {}, (3.0, 0.5), 0.0),
    ("rosenbrock", {}, (1.0, 1.0), 0.0),
    ("rosenbrock", {"dim": 5}, (1.0,) * 5, 0.0),
    ("booth", {}, (1.0, 3.0), 0.0),
    ("himmelblau", {}, (3.0, 2.0), 0.0),
    ("himmelblau", {}, (-2.805118, 3.131313), 0.0),
    ("himmelblau", {}, (-3.779310, -3.283186), 0.0),
    ("himmelblau", {}, (3.584428, -1.848127), 0.0),
    ("rastrigin", {}, (0.0, 0.0), 0.0),
    ("rastrigin", {"dim": 3}, (0.0, 0.0, 0.0), 0.0),
    ("ackley", {}, (0.0, 0.0), 0.0),
    ("goldstein_price", {}, (0.0, -1.0), 3.0),
    ("styblinski_tang", {"dim": 1}, (-2.903534,), -39.16616570377142),
    ("styblinski_tang", {}, (-2.903534, -2.903534), 2 * -39.16616570377142),
    ("styblinski_tang", {"dim": 4}, (-2.903534,) * 4, 4 * -39.16616570377142),
    ("three_hump_camel", {}, (0.0, 0.0), 0.0),
    ("six_hump_camel", {}, (0.0898420, -0.7126564), -1.0316284535),
    ("six_hump_camel", {}, (-0.0898420, 0.7126564), -1.0316284535),
    ("quadratic", {"condition": 100.0}, (0.0, 0.0), 0.0),
]


@pytest.mark.parametrize(("name", "opts", "loc", "value"), PUBLISHED)
def test_published_minimum_is_listed_with_its_value(name, opts, loc, value):
    f = landscapes.get(name, **opts)
    listed = [p for p in f.minima if math.dist(p.location, loc) < 1e-5]
    assert len(listed) == 1, f"{name}: no listed minimum at {loc}"
    p = listed[0]
    assert p.value == pytest.approx(value, abs=1e-9)
    assert float(f.loss(p.location)) == pytest.approx(value, abs=1e-9)
    # the published (rounded) location is within rounding of the listed one
    assert float(f.loss(loc)) == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_every_listed_minimum_is_stationary_and_a_local_minimum(name):
    f = landscapes.get(name)
    assert f.minima or f.saddles
    for p in f.minima:
        x = torch.tensor(p.location, dtype=torch.float64)
        assert float(f.loss(x)) == pytest.approx(p.value, abs=1e-12, rel=1e-12)
        assert float(f.gradient(x).abs().max()) < 1e-8
        if name != "ackley":  # Ackley's minimum is a non-smooth tip
            assert float(torch.linalg.eigvalsh(f.hessian(x)).min()) > 0
        if name == "moons":
            continue  # convex; its minimum is checked against scikit-learn below
        # scipy from a nearby point finds nothing lower nearby
        res = minimize(
            lambda z: float(f.loss(torch.tensor(z))),
            np.asarray(p.location) + 1e-3,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 400},
        )
        assert res.fun >= p.value - 1e-9
    assert (f.global_minimum is None) == (not f.minima)
    if f.minima:
        assert f.global_minimum.value == min(p.value for p in f.minima)


@pytest.mark.parametrize("name", ALL)
def test_saddles_are_stationary_and_indefinite(name):
    f = landscapes.get(name)
    for p in f.saddles:
        x = torch.tensor(p.location, dtype=torch.float64)
        assert float(f.gradient(x).abs().max()) < 1e-8
        eig = torch.linalg.eigvalsh(f.hessian(x))
        if name == "monkey_saddle":
            assert torch.equal(eig, torch.zeros(2, dtype=torch.float64))  # degenerate
        else:
            assert float(eig.min()) < 0 < float(eig.max())


def test_rosenbrock_hessian_at_minimum():
    f = landscapes.get("rosenbrock")
    eig = torch.linalg.eigvalsh(f.hessian((1.0, 1.0)))
    assert eig.tolist() == pytest.approx([0.3993607, 1001.6006], rel=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences_and_batches(name):
    f = landscapes.get(name)
    lo, hi = f.box()
    gen = torch.Generator().manual_seed(1)
    x = lo + (hi - lo) * torch.rand(5, f.dim, generator=gen, dtype=torch.float64)
    g = f.gradient(x)
    h = 1e-6
    for i in range(f.dim):
        e = torch.zeros(f.dim, dtype=torch.float64)
        e[i] = h
        fd = (f.loss(x + e) - f.loss(x - e)) / (2 * h)
        torch.testing.assert_close(g[:, i], fd, rtol=1e-5, atol=1e-6)
    # batched positions [..., dim] give the same values as one at a time
    many = f.loss(x.reshape(5, 1, f.dim))
    assert many.shape == (5, 1)
    one = torch.stack([f.loss(x[i]) for i in range(5)])
    torch.testing.assert_close(many[:, 0], one)
    assert f.hessian(x).shape == (5, f.dim, f.dim)


def test_formulas_written_out():
    def rosen(x, y):
        return 100 * (y - x * x) ** 2 + (1 - x) ** 2

    f = landscapes.get("rosenbrock")
    assert float(f.loss((-1.5, 2.0))) == pytest.approx(rosen(-1.5, 2.0))
    q = landscapes.get("quadratic", condition=50.0, curvature=2.0)
    assert float(q.loss((1.0, 1.0))) == pytest.approx(0.5 * (2.0 + 100.0))
    r = landscapes.get("quadratic", condition=50.0, angle=90.0)
    assert float(r.loss((1.0, 0.0))) == pytest.approx(25.0)  # rotated: x is now steep
    s = landscapes.get("saddle")
    assert float(s.loss((2.0, 3.0))) == pytest.approx(4 - 9)
    m = landscapes.get("monkey_saddle")
    assert float(m.loss((2.0, 1.0))) == pytest.approx(8 - 6)
    ack = landscapes.get("ackley")
    assert float(ack.gradient((0.0, 0.0)).abs().max()) == 0.0  # min-norm subgradient


def test_get_errors():
    with pytest.raises(ValueError, match=r"unknown landscape 'nope'.*rosenbrock"):
        landscapes.get("nope")
    with pytest.raises(ValueError, match=r"unknown option.*colour.*allowed options: condition"):
        landscapes.get("quadratic", colour=1)
    with pytest.raises(ValueError, match="condition must be >= 1"):
        landscapes.get("quadratic", condition=0.5)
    with pytest.raises(ValueError, match="dim must be an integer >= 2"):
        landscapes.get("rosenbrock", dim=1)
    with pytest.raises(ValueError, match="noise scale must be"):
        landscapes.get("beale", noise=-1.0)
    with pytest.raises(ValueError, match=r"shape \[\.\.\., 2\]"):
        landscapes.get("beale").loss(torch.zeros(3))
    with pytest.raises(ValueError, match="batch_size"):
        landscapes.get("moons", batch_size=0)
    assert landscapes.get("Six-Hump-Camel").name == "six_hump_camel"


def test_gradient_noise_is_unbiased_with_the_given_scale():
    f = landscapes.get("beale", noise=0.3)
    assert f.stochastic and f.scale == 0.3
    gen = f.generator(0)
    x = torch.tensor([[1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    u = torch.stack([f.draw(gen, torch.float64) for _ in range(20000)])
    assert u.mean(0).abs().max() < 0.01
    assert u.std(0).tolist() == pytest.approx([0.3, 0.3], rel=0.03)
    f.sample_loss(x, u[:1]).sum().backward()
    torch.testing.assert_close(x.grad[0], f.gradient(x.detach())[0] + u[0])
    # reproducible: the same seed draws the same noise
    again = torch.stack([f.draw(f.generator(0), torch.float64) for _ in range(1)])
    torch.testing.assert_close(again[0], u[0])


def test_moons_is_logistic_regression_on_standardized_moons():
    from sklearn.datasets import make_moons
    from sklearn.linear_model import LogisticRegression

    f = landscapes.get("moons", n_samples=300, noise=0.25, batch_size=8, data_seed=3)
    X, y = make_moons(n_samples=300, noise=0.25, random_state=3)
    X = (X - X.mean(0)) / X.std(0, ddof=1)
    clf = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-12, max_iter=10000)
    clf.fit(X, y)
    assert f.minima[0].location == pytest.approx(clf.coef_[0].tolist(), abs=1e-6)
    w = np.array([0.7, -1.3])
    margins = (2 * y - 1) * (X @ w)
    assert float(f.loss(tuple(w))) == pytest.approx(np.mean(np.log1p(np.exp(-margins))))
    idx = f.draw(f.generator(0), torch.float64)
    assert idx.shape == (8,) and len(set(idx.tolist())) == 8
    wb = torch.tensor(np.stack([w, w]))
    batch = torch.stack([idx, idx])
    expect = np.mean(np.log1p(np.exp(-margins[idx.numpy()])))
    assert f.sample_loss(wb, batch).tolist() == pytest.approx([expect, expect])
