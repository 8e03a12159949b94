"""ravine.curvature.spectrum against torch.linalg.eigvalsh of dense Hessians."""

from __future__ import annotations

import pytest
import torch
from torch.autograd.functional import hessian as dense_hessian

from ravine import curvature as C


@pytest.mark.parametrize("method", ["lanczos", "power"])
def test_top_eigenvalues_match_eigvalsh(model_problem, method):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    exact = torch.linalg.eigvalsh(dense_hessian(obj.f, obj.x0)).flip(0)
    vals, vecs = C.top_eigenpairs(obj, 3, method=method, iters=300 if method == "power" else 60)
    if method == "power":
        # power iteration orders by magnitude
        mags = torch.linalg.eigvalsh(dense_hessian(obj.f, obj.x0))
        exact = mags[mags.abs().argsort(descending=True)][:3]
        torch.testing.assert_close(vals[:1], exact[:1], rtol=1e-4, atol=1e-6)
    else:
        torch.testing.assert_close(vals, exact[:3], rtol=1e-6, atol=1e-8)
        H = dense_hessian(obj.f, obj.x0)
        torch.testing.assert_close(H @ vecs, vecs * vals, rtol=1e-5, atol=1e-7)


def test_eigenvalues_of_a_quadratic_and_sharpness():
    torch.manual_seed(3)
    Q = torch.linalg.qr(torch.randn(20, 20))[0]
    lam = torch.linspace(-2.0, 50.0, 20)
    A = Q @ torch.diag(lam) @ Q.T

    def f(x):
        return 0.5 * x @ A @ x

    x = torch.randn(20)
    vals, _ = C.top_eigenpairs(f, 2, x, method="lanczos", iters=20)
    torch.testing.assert_close(vals, lam.flip(0)[:2])
    assert C.sharpness(f, x=x) == pytest.approx(50.0, rel=1e-8)


def test_eigenvalue_density_integrates_and_locates_mass():
    lam = torch.cat([torch.zeros(30), torch.full((10,), 10.0)])

    def f(x):
        return 0.5 * (lam * x * x).sum()

    t, phi = C.eigenvalue_density(f, torch.ones(40), iters=40, runs=8, sigma=0.3)
    dt = float(t[1] - t[0])
    assert float(phi.sum()) * dt == pytest.approx(1.0, abs=1e-3)
    # mass near 10 is the fraction of eigenvalues there (1/4), up to the quadrature's noise
    near10 = float(phi[(t > 8) & (t < 12)].sum()) * dt
    assert near10 == pytest.approx(0.25, abs=0.08)
