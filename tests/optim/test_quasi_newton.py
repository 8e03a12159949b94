"""BFGS and LBFGS against torch.optim.LBFGS (same iterates) and scipy.optimize (same minima,
comparable iteration counts); Newton-CG against scipy's Newton-CG."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from torch import nn

import ravine.optim as ro


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def beale(x):
    a, b = x[0], x[1]
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2 + (2.625 - a + a * b**3) ** 2


_A = torch.randn(20, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
_D = torch.logspace(-2, 1, 6, dtype=torch.float64)


def logistic(x):
    """Strongly convex, not quadratic, condition number about 1e3: softplus(Ax) + x^T D x / 2."""
    return torch.nn.functional.softplus(_A @ x - 1).sum() + 0.5 * (_D * x * x).sum()


# (function, start, minimizer or None: then scipy's)
PROBLEMS = {
    "rosenbrock": (rosenbrock, [-1.2, 1.0], [1.0, 1.0]),
    "beale": (beale, [1.0, 1.0], [3.0, 0.5]),
    "logistic": (logistic, [1.0] * 6, None),
}


def scipy_run(f, x0, method):
    def fun(x):
        t = torch.tensor(x, requires_grad=True)
        y = f(t)
        (g,) = torch.autograd.grad(y, t)
        return float(y.detach()), g.detach().numpy()

    def hess(x):
        return torch.autograd.functional.hessian(f, torch.tensor(x)).numpy()

    kw = {"hess": hess} if method == "Newton-CG" else {}
    return minimize(fun, np.array(x0), jac=True, method=method, **kw)


def ravine_run(f, x0, make, *, closure_kind="backward", gtol=1e-5, max_steps=500):
    """Steps until max |g| <= gtol (scipy's BFGS criterion); returns (x, steps)."""
    x = torch.tensor(x0, requires_grad=True)
    opt = make([x])

    def closure():
        if closure_kind == "loss":
            return f(x)
        opt.zero_grad()
        y = f(x)
        y.backward()
        return y

    for k in range(max_steps):
        (g,) = torch.autograd.grad(f(x), x)
        if g.abs().max() <= gtol:
            return x.detach(), k
        opt.step(closure)
    return x.detach(), max_steps


@pytest.mark.parametrize("name", list(PROBLEMS))
@pytest.mark.parametrize(
    "method, make, kind",
    [
        ("BFGS", lambda p: ro.BFGS(p), "backward"),
        (
            "L-BFGS-B",
            # tolerance_change=0: torch's default 1e-9 stops once g.d > -1e-9, before max|g| < 1e-5
            lambda p: ro.LBFGS(
                p,
                max_iter=1,  # one iteration per step, to count them as scipy does
                max_eval=25,
                history_size=10,
                tolerance_change=0.0,
                line_search_fn="strong_wolfe",
            ),
            "backward",
        ),
        (
            "Newton-CG",
            lambda p: ro.Newton(p, solver="cg", line_search_fn="strong_wolfe"),
            "loss",
        ),
    ],
)
def test_against_scipy(name, method, make, kind):
    f, x0, xstar = PROBLEMS[name]
    ref = scipy_run(f, x0, method)
    assert ref.success
    x, steps = ravine_run(f, x0, make, closure_kind=kind)
    if xstar is not None:
        np.testing.assert_allclose(x.numpy(), xstar, atol=1e-4)
    np.testing.assert_allclose(x.numpy(), ref.x, atol=1e-4)
    # iteration counts within a small factor of scipy's
    assert steps <= 2.5 * ref.nit + 5, (steps, ref.nit)
    assert steps >= ref.nit / 2.5 - 5, (steps, ref.nit)


def _pair(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    twin = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
    twin.load_state_dict(model.state_dict())
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    return model, twin, x, y


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("max_iter, max_eval", [(1, 25), (20, None), (5, 7)])
def test_lbfgs_same_iterates_as_torch(line_search_fn, max_iter, max_eval, dtype):
    """Bitwise-equal iterates, in float64 and float32 (where any difference in rounding would
    grow over the iterations)."""
    model, twin, x, y = _pair()
    model, twin, x = model.to(dtype), twin.to(dtype), x.to(dtype)
    settings = dict(
        lr=1.0 if line_search_fn else 0.1,
        max_iter=max_iter,
        max_eval=max_eval,
        history_size=4,
        line_search_fn=line_search_fn,
    )
    if max_eval is None:  # torch's default max_eval = max_iter * 5 // 4, ours agrees at 20
        settings.pop("max_eval")
    ours = ro.LBFGS(model.parameters(), **settings)
    ref = torch.optim.LBFGS(twin.parameters(), **settings)
    loss_fn = nn.functional.cross_entropy

    def closure(m, opt):
        def c():
            opt.zero_grad()
            loss = loss_fn(m(x), y)
            loss.backward()
            return loss

        return c

    for _ in range(8 if max_iter < 20 else 3):
        la = ours.step(closure(model, ours))
        lb = ref.step(closure(twin, ref))
        torch.testing.assert_close(la, lb, rtol=0, atol=0)
        for p, q in zip(model.parameters(), twin.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=0, atol=0)
    assert (
        ours.state[next(model.parameters())]["func_evals"]
        == (ref.state[next(twin.parameters())]["func_evals"])
    )


def test_lbfgs_defaults_and_errors():
    defaults = ro.LBFGS.hyperparameter_defaults()
    assert defaults["max_iter"] == 20 and defaults["history_size"] == 100  # torch's
    p = torch.zeros(2, requires_grad=True)
    for max_iter in (1, 20, 40):  # max_eval's default, as torch.optim.LBFGS sets it
        ours = ro.LBFGS([p], max_iter=max_iter).param_groups[0]["max_eval"]
        assert ours == torch.optim.LBFGS([p], max_iter=max_iter).param_groups[0]["max_eval"]
    with pytest.raises(ValueError, match="line_search_fn"):
        ro.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(ValueError, match="history_size"):
        ro.LBFGS([p], history_size=0)
    with pytest.raises(ValueError, match="one param group"):
        ro.LBFGS([{"params": [p]}, {"params": [torch.zeros(1, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="closure"):
        ro.LBFGS([p]).step()
    assert ro.LBFGS.elementwise is False and ro.BFGS.elementwise is False
    assert ro.get("lbfgs", [p]).family == "quasi-Newton"


def test_bfgs_on_a_quadratic_recovers_the_inverse_hessian():
    """On a quadratic with exact line searches BFGS terminates in n steps and H_n = A^-1
    (Nocedal and Wright, section 6.1; here checked on the minimizer A^-1 b)."""
    torch.manual_seed(0)
    m = torch.randn(4, 4)
    A = m @ m.T + 4 * torch.eye(4)
    b = torch.randn(4)
    x = torch.zeros(4, requires_grad=True)
    opt = ro.BFGS([x], tolerance_grad=1e-12)

    def closure():
        opt.zero_grad()
        y = 0.5 * x @ A @ x - b @ x
        y.backward()
        return y

    for _ in range(12):
        opt.step(closure)
    torch.testing.assert_close(x.detach(), torch.linalg.solve(A, b), rtol=1e-6, atol=1e-8)


def test_lbfgs_state_dict_roundtrip_continues_identically():
    model, twin, x, y = _pair(seed=5)
    settings = dict(history_size=3, line_search_fn="strong_wolfe")
    a = ro.LBFGS(model.parameters(), **settings)

    def closure(m, opt):
        def c():
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(x), y)
            loss.backward()
            return loss

        return c

    for _ in range(4):
        a.step(closure(model, a))
    twin.load_state_dict(model.state_dict())
    b = ro.LBFGS(twin.parameters(), **settings)
    b.load_state_dict(a.state_dict())
    for _ in range(4):
        a.step(closure(model, a))
        b.step(closure(twin, b))
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("line_search_fn", ["strong_wolfe", None])
def test_bfgs_steps_with_lr_zero_change_nothing(line_search_fn):
    """A step with lr 0 (the first step of a warm-up schedule) moves nothing and leaves H as it
    is: the pair it produces has s = 0, so y^T s = 0 fails the curvature condition and the
    update is skipped (Nocedal and Wright, section 6.1; torch.optim.LBFGS skips pairs with
    y^T s <= 1e-10). The run then continues exactly as one that never took those steps."""

    def run(lrs):
        x = torch.tensor([-1.2, 1.0], requires_grad=True)
        opt = ro.BFGS([x], line_search_fn=line_search_fn, lr=1.0)

        def closure():
            opt.zero_grad()
            y = rosenbrock(x)
            y.backward()
            return y

        snapshots = []
        for lr in lrs:
            opt.param_groups[0]["lr"] = lr
            opt.step(closure)
            h = opt.state[x].get("H")
            snapshots.append((x.detach().clone(), None if h is None else h.clone()))
        return snapshots

    lr = 1.0 if line_search_fn else 1e-3
    start = run([0.0, 0.0])  # a warm-up from lr 0: nothing moves, H stays I
    for x, h in start:
        torch.testing.assert_close(x, torch.tensor([-1.2, 1.0]), rtol=0, atol=0)
        torch.testing.assert_close(h, torch.eye(2), rtol=0, atol=0)
    paused = run([lr, lr, lr, 0.0, 0.0, lr, lr, lr])
    plain = run([lr] * 6)
    for x, h in paused:
        assert torch.isfinite(x).all() and torch.isfinite(h).all()
    for t in (3, 4):  # the lr-0 steps: x as before them; the second leaves H as the first did
        torch.testing.assert_close(paused[t][0], paused[2][0], rtol=0, atol=0)
    torch.testing.assert_close(paused[4][1], paused[3][1], rtol=0, atol=0)
    assert not torch.equal(paused[2][0], paused[1][0])  # the run did move before the pause
    # after the pause the run goes on exactly as one that never paused
    for (x, h), (x_ref, h_ref) in zip(paused[5:], plain[3:], strict=True):
        torch.testing.assert_close(x, x_ref, rtol=0, atol=0)
        torch.testing.assert_close(h, h_ref, rtol=0, atol=0)
