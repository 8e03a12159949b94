"""Sophia (ravine.optim.sophia) against the authors' SophiaG update and the paper's
Algorithm 3, both written out here on the same sampled labels, 200 steps in float64 on a
small softmax network with parameters of five shapes in two param groups; the
Gauss-Newton-Bartlett estimate against the Gauss-Newton diagonal; Sophia-H and races.

The authors' ``SophiaG`` (github.com/Liuhong99/Sophia, not on PyPI) keeps
``h <- b2 h + (1 - b2) g_hat^2`` (``update_hessian``, after step k of their training loop,
g_hat the gradient of the mean loss on sampled labels) and steps
``theta <- theta (1 - lr wd) - lr sign(m) min(|m| / (rho bs h + 1e-15), 1)`` with ``bs`` the
batch's size; their code is transcribed in :func:`_reference` below."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import ravine
import ravine.optim as ro
from ravine.optim.sophia import gnb_estimate

STEPS = 200
RTOL = 1e-10
N, D, H, C = 32, 5, 4, 3


def _data():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    return x, torch.randint(0, C, (N,), generator=g)


def _params() -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    shapes = ((H, D), (H,), (C, H), (C,))
    params = [0.5 * torch.randn(s, generator=g, dtype=torch.float64) for s in shapes]
    return [p.requires_grad_() for p in [*params, torch.tensor(1.2, dtype=torch.float64)]]


def _logits(params, x):
    w1, b1, w2, b2, scale = params
    return scale * (torch.tanh(x @ w1.T + b1) @ w2.T + b2)


FIRST = {"lr": 0.01, "weight_decay": 0.1}
SECOND = {"lr": 0.005, "rho": 0.1, "betas": (0.9, 0.95), "weight_decay": 0.0}


def _groups(params):
    return [{"params": params[:2], **FIRST}, {"params": params[2:], **SECOND}]


def _reference(k: int, form: str):
    """Both forms on the same labels: ``form="code"`` transcribes the authors' SophiaG
    (estimate after step k, i.e. at the start of steps k + 1, 2k + 1, ...; the step's
    clipping as their code); ``form="paper"`` is Algorithm 3 (estimate at t mod k = 1,
    h_hat = N g_hat^2, clip(m / max(rho h, eps), 1))."""
    x, y = _data()
    params = _params()
    groups = [{**FIRST, "params": params[:2]}, {**SECOND, "params": params[2:]}]
    for group in groups:
        group.setdefault("rho", 0.04)
        group.setdefault("betas", (0.965, 0.99))
    m = [torch.zeros_like(p) for p in params]
    h = [torch.zeros_like(p) for p in params]
    generator = torch.Generator().manual_seed(0)
    trajectory = []
    for t in range(1, STEPS + 1):
        z = _logits(params, x)
        grads = torch.autograd.grad(F.cross_entropy(z, y), params, retain_graph=True)
        due = (t - 1) % k == 0 and (t > 1 or form == "paper")
        if due:
            probs = torch.softmax(z.detach(), dim=-1)
            labels = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
            sampled = torch.autograd.grad(F.cross_entropy(z, labels), params)
        i = 0
        with torch.no_grad():
            for group in groups:
                beta1, beta2 = group["betas"]
                lr, rho, wd = group["lr"], group["rho"], group["weight_decay"]
                for p in group["params"]:
                    if due and form == "code":  # update_hessian: the squared gradient
                        h[i].mul_(beta2).addcmul_(sampled[i], sampled[i], value=1 - beta2)
                    elif due:  # h_hat = N g_hat^2
                        h[i] = beta2 * h[i] + (1 - beta2) * N * sampled[i] ** 2
                    p.mul_(1 - lr * wd)
                    if form == "code":
                        m[i].mul_(beta1).add_(grads[i], alpha=1 - beta1)
                        ratio = (m[i].abs() / (rho * N * h[i] + 1e-15)).clamp(None, 1)
                        p.addcmul_(m[i].sign(), ratio, value=-lr)
                    else:
                        m[i] = beta1 * m[i] + (1 - beta1) * grads[i]
                        p -= lr * (m[i] / torch.clamp(rho * h[i], min=1e-15)).clamp(-1, 1)
                    i += 1
        trajectory.append([p.detach().clone() for p in params])
    scale = N if form == "code" else 1
    return trajectory, m, [scale * v for v in h]


def _assert_close(actual, expected, what: str) -> None:
    size = expected.abs().max().clamp_min(1e-300)
    assert float((actual - expected).abs().max() / size) <= RTOL, what


@pytest.mark.parametrize("k", [10, 3])
@pytest.mark.parametrize(
    "form, options",
    [("paper", {}), ("code", {"clip": "code", "estimate_at_first_step": False})],
    ids=["paper", "code"],
)
def test_matches_the_authors_update_and_the_paper(form, options, k) -> None:
    expected, m, h = _reference(k, form)
    x, y = _data()
    params = _params()
    opt = ro.Sophia(_groups(params), update_interval=k, **options)

    def closure():
        opt.zero_grad()
        z = _logits(params, x)
        return F.cross_entropy(z, y), z

    for t in range(STEPS):
        opt.step(closure)
        for i, (p, q) in enumerate(zip(params, expected[t], strict=True)):
            _assert_close(p.detach(), q, f"parameter {i} at step {t + 1}")
    for i, p in enumerate(params):
        _assert_close(opt.state[p]["m"], m[i], f"m of parameter {i}")
        _assert_close(opt.state[p]["h"], h[i], f"h of parameter {i}")
        assert int(opt.state[p]["step"]) == STEPS


def _gauss_newton_diagonal(params, x, likelihood: str) -> torch.Tensor:
    """diag((1/N) sum_n J_n^T F_n J_n), J_n the Jacobian of example n's outputs, F_n the
    output-space Hessian of its loss: diag(p) - p p^T (softmax), s (1 - s) (sigmoid), 1."""
    flat = torch.cat([p.detach().flatten() for p in params])
    shapes = [p.shape for p in params]

    def outputs(v):
        parts, start = [], 0
        for s in shapes:
            n = math.prod(s)
            parts.append(v[start : start + n].reshape(s))
            start += n
        return _logits(parts, x)

    z = outputs(flat).detach()
    jac = torch.autograd.functional.jacobian(outputs, flat)  # [N, C, P]
    if likelihood == "categorical":
        p = torch.softmax(z, -1)
        f = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    elif likelihood == "bernoulli":
        s = torch.sigmoid(z)
        f = torch.diag_embed(s * (1 - s))
    else:
        f = torch.eye(C, dtype=z.dtype).expand(z.shape[0], C, C)
    g = torch.einsum("ncp,ncd,ndq->pq", jac, f, jac) / z.shape[0]
    return torch.diagonal(g)


@pytest.mark.parametrize("likelihood", ["categorical", "bernoulli", "gaussian"])
def test_gnb_estimate_is_unbiased_for_the_gauss_newton_diagonal(likelihood) -> None:
    x, _ = _data()
    x = x[:6]
    params = _params()
    exact = _gauss_newton_diagonal(params, x, likelihood)
    generator = torch.Generator().manual_seed(3)
    z = _logits(params, x)
    draws = torch.stack(
        [
            torch.cat([e.flatten() for e in gnb_estimate(z, params, likelihood, generator)])
            for _ in range(3000)
        ]
    )
    mean, sem = draws.mean(0), draws.std(0) / math.sqrt(draws.shape[0])
    assert bool(((mean - exact).abs() <= 5 * sem + 1e-12).all()), (mean - exact) / sem
    assert float((mean - exact).norm() / exact.norm()) < 0.05


def test_hutchinson_option_and_sophia_h_take_the_same_steps() -> None:
    """estimator='hutchinson' on the (loss, outputs) closure and SophiaH on the loss
    closure draw the same probes from the same seed."""
    x, y = _data()
    runs = []
    for cls, kind in ((ro.Sophia, "outputs"), (ro.SophiaH, "loss")):
        params = _params()
        extra = {"estimator": "hutchinson"} if cls is ro.Sophia else {}
        opt = cls(_groups(params), update_interval=2, **extra)

        def closure(params=params, opt=opt, kind=kind):
            opt.zero_grad()
            z = _logits(params, x)
            loss = F.cross_entropy(z, y)
            return (loss, z) if kind == "outputs" else loss

        for _ in range(20):
            opt.step(closure)
        runs.append(params)
    for p, q in zip(*runs, strict=True):
        assert torch.equal(p, q)
    assert float(opt.state[runs[1][0]]["h"].abs().sum()) > 0


def test_gnb_needs_outputs() -> None:
    with pytest.raises(ValueError, match="estimator='gnb'"):
        ro.SophiaH(_params(), estimator="gnb")
    with pytest.raises(RuntimeError, match="needs a closure"):
        ro.Sophia(_params()).step()


def test_races_sophia_h_everywhere_and_sophia_where_the_landscape_has_outputs() -> None:
    """Rosenbrock is a least-squares model (Gaussian outputs): both race there; the
    three-hump camel defines no outputs, and the race refuses Sophia-G, naming why."""
    result = ravine.race("rosenbrock", ["sophia", "sophia_h"], lrs=0.03, steps=500)
    for name in ("sophia", "sophia_h"):
        losses = result[name].losses.flatten()
        assert float(losses[-1]) < 0.1 * float(losses[0]), name
    with pytest.raises(ValueError, match="needs a model's outputs"):
        ravine.race("three_hump_camel", ["sophia"], steps=10)
    losses = ravine.race("three_hump_camel", ["sophia_h"], lrs=0.03, steps=200)["sophia_h"].losses
    assert float(losses.flatten()[-1]) < float(losses.flatten()[0])
