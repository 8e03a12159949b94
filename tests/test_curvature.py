"""ravine.curvature against dense matrices from torch.autograd.functional and torch.linalg."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.autograd.functional import hessian as dense_hessian
from torch.autograd.functional import jacobian

from ravine import curvature as C


@pytest.fixture(autouse=True)
def _float64():
    """These tests compare against closed forms in double precision; restore the default."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def quartic(x):
    """A non-quadratic function of 6 variables with couplings (Hessian varies with x)."""
    return (x**4).sum() / 4 + (x[:-1] * x[1:]).sum() + torch.sin(x).sum() + (x @ x) ** 2 / 10


@pytest.fixture
def model_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    x = torch.randn(8, 3)
    y = torch.randint(0, 3, (8,))
    return model, nn.functional.cross_entropy, (x, y)


def test_flatten_roundtrip():
    ts = [torch.randn(2, 3), torch.randn(4)]
    back = C.unflatten(C.flatten(ts), ts)
    assert all(torch.equal(a, b) for a, b in zip(ts, back, strict=True))
    with pytest.raises(ValueError, match="entries"):
        C.unflatten(torch.zeros(5), ts)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("f", [rosenbrock, quartic])
def test_hvp_matches_dense_hessian(f, mode):
    torch.manual_seed(1)
    n = 2 if f is rosenbrock else 6
    x, v = torch.randn(n), torch.randn(n)
    expected = dense_hessian(f, x) @ v
    torch.testing.assert_close(C.hvp(f, v, x, mode=mode), expected)


def test_dense_hessian_of_a_model(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    expected = dense_hessian(obj.f, obj.x0)
    torch.testing.assert_close(C.hessian(obj), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.hvp(obj, v, mode="forward"), expected @ v)


def test_ggn_matches_jacobian_formula(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    J = jacobian(obj.outputs, obj.x0).reshape(-1, obj.x0.numel())  # [N C, P]
    z = obj.outputs(obj.x0).detach()
    Hz = dense_hessian(lambda t: obj.output_loss(t.reshape(z.shape)), z.reshape(-1))
    expected = J.T @ Hz @ J
    torch.testing.assert_close(C.ggn(obj), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.ggn_vp(obj, v), expected @ v)


def test_true_fisher_equals_formula_and_ggn_for_cross_entropy(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    n = data[0].shape[0]
    Jn = jacobian(obj.outputs, obj.x0)  # [N, C, P]
    p = torch.softmax(obj.outputs(obj.x0).detach(), -1)
    expected = (
        sum(Jn[i].T @ (torch.diag(p[i]) - torch.outer(p[i], p[i])) @ Jn[i] for i in range(n)) / n
    )
    F = C.fisher(obj, kind="true", likelihood="categorical")
    torch.testing.assert_close(F, expected)
    torch.testing.assert_close(F, C.ggn(obj))  # canonical link: Fisher = GGN (Martens 2014)


def test_empirical_fisher_matches_per_example_gradients(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    G = jacobian(obj.per_example, obj.x0)  # [N, P], per-example gradients
    expected = G.T @ G / G.shape[0]
    torch.testing.assert_close(C.fisher(obj, kind="empirical"), expected)
    v = torch.randn(obj.x0.numel())
    torch.testing.assert_close(C.fisher_vp(obj, v, kind="empirical"), expected @ v)


def test_gaussian_and_bernoulli_fisher():
    torch.manual_seed(2)
    model = nn.Linear(3, 2).double()
    x, y = torch.randn(6, 3), torch.rand(6, 2)
    obj = C.objective(model, nn.functional.mse_loss, (x, y))
    Jn = jacobian(obj.outputs, obj.x0)
    expected = sum(Jn[i].T @ Jn[i] for i in range(6)) / 6
    torch.testing.assert_close(C.fisher(obj, likelihood="gaussian"), expected)
    s = torch.sigmoid(obj.outputs(obj.x0).detach())
    w = s * (1 - s)
    expected_b = sum(Jn[i].T @ torch.diag(w[i]) @ Jn[i] for i in range(6)) / 6
    torch.testing.assert_close(C.fisher(obj, likelihood="bernoulli"), expected_b)


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


def test_sharpness_of_a_model(model_problem):
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    top = float(torch.linalg.eigvalsh(dense_hessian(obj.f, obj.x0))[-1])
    assert C.sharpness(model, loss_fn, data) == pytest.approx(top, rel=1e-6)
    with pytest.raises(ValueError, match="loss_fn and data"):
        C.sharpness(model)


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


def test_hutchinson_diagonal_and_trace_are_close_to_exact(model_problem):
    """Rademacher probes: Var[v_j (Hv)_j] = sum_{k != j} H_jk^2, Var[v^T H v] =
    2 sum_{j != k} H_jk^2. With m probes the standard error is sqrt(Var/m); we allow 4 standard
    errors (a fixed seed makes the test deterministic; 4 sigma keeps it meaningful)."""
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    H = dense_hessian(obj.f, obj.x0)
    off = H - torch.diag(torch.diag(H))
    m = 2000
    diag = C.hutchinson_diagonal(obj, probes=m, seed=0)
    se = ((off**2).sum(1) / m).sqrt()
    assert bool(((diag - torch.diag(H)).abs() <= 4 * se + 1e-12).all())
    trace = C.hutchinson_trace(obj, probes=m, seed=1)
    se_trace = math.sqrt(2 * float((off**2).sum()) / m)
    assert abs(trace - float(torch.trace(H))) <= 4 * se_trace
    # and the estimate is not trivially loose: the standard error is small against the trace
    assert se_trace < 0.2 * float(torch.diag(H).abs().sum())


def test_landscape_objects_and_errors():
    class Landscape:
        def loss(self, x):
            return (x[..., 0] ** 2 + 3 * x[..., 1] ** 2).sum()

    H = C.hessian(Landscape(), torch.tensor([1.0, 2.0]))
    torch.testing.assert_close(H, torch.diag(torch.tensor([2.0, 6.0])))
    with pytest.raises(TypeError, match="objective"):
        C.hessian(nn.Linear(2, 1), torch.zeros(3))
    with pytest.raises(ValueError, match="x is required"):
        C.hessian(rosenbrock)
    with pytest.raises(ValueError, match="mode"):
        C.hvp(rosenbrock, torch.ones(2), torch.ones(2), mode="sideways")
    with pytest.raises(TypeError, match="output_loss"):
        C.ggn_vp(rosenbrock, torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match="k="):
        C.top_eigenpairs(rosenbrock, 3, torch.ones(2))


def _dense_top_eigenvalue(model, loss_fn, x, y) -> float:
    """lambda_max by torch.linalg.eigvalsh of the dense Hessian of loss_fn(model(x), y) in the
    flat parameters, built with torch.func.functional_call (not ravine's objective)."""
    names = [k for k, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    sizes = [p.numel() for p in model.parameters()]
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def f(t):
        pieces = [piece.reshape(shape) for piece, shape in zip(t.split(sizes), shapes, strict=True)]
        out = torch.func.functional_call(model, dict(zip(names, pieces, strict=True)), (x,))
        return loss_fn(out, y)

    return float(torch.linalg.eigvalsh(dense_hessian(f, theta))[-1])


def test_sharpness_of_a_model_on_a_problem():
    """sharpness(model, problem): the problem's loss on its training set, or on a data=
    subset; the same number as the (model, loss_fn, data) form and as eigvalsh."""
    from ravine.problems import Problem

    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(20, 3, generator=g), torch.randint(0, 3, (20,), generator=g)

    def make():
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3))

    problem = Problem("tiny", make, x[:14], y[:14], x[14:], y[14:])
    model = make()
    loss = nn.functional.cross_entropy
    full = _dense_top_eigenvalue(model, loss, x[:14], y[:14])
    assert C.sharpness(model, problem) == pytest.approx(full, rel=1e-6)
    assert C.sharpness(model, loss, (x[:14], y[:14])) == pytest.approx(full, rel=1e-6)
    subset = _dense_top_eigenvalue(model, loss, x[:5], y[:5])
    assert abs(subset - full) > 1e-3 * abs(full)  # the subset is a different loss
    assert C.sharpness(model, problem, data=(x[:5], y[:5])) == pytest.approx(subset, rel=1e-6)
    with pytest.raises(ValueError, match=r"sharpness\(model, problem\)"):
        C.sharpness(model)
    with pytest.raises(TypeError, match="ravine problem"):
        C.sharpness(model, "cross_entropy", (x, y))
    with pytest.raises(ValueError, match="pair"):
        C.sharpness(model, problem, data=x)


def test_sharpness_on_a_builtin_problem_casts_its_data_to_the_model():
    """moons' data are float32; a float64 model is measured in float64 on them."""
    from ravine import problems

    problem = problems.get("moons", n=60, hidden=4)
    assert problem.x_train.dtype == torch.float32
    torch.manual_seed(1)
    model = problem.model().double()
    x, y = problem.x_train.double(), problem.y_train
    expected = _dense_top_eigenvalue(model, problem.loss, x, y)
    assert C.sharpness(model, problem) == pytest.approx(expected, rel=1e-8)
