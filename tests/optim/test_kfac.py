"""K-FAC's Kronecker factors against their definition computed by hand, and its update
against the Kronecker-product solve."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ravine.optim as ro


def _per_example_output_grads(model, layer, X, y, loss_fn):
    """d loss_n / d s_n for every example n, one backward per example (the definition)."""
    out = []
    for n in range(len(X)):
        captured: dict[str, torch.Tensor] = {}

        def keep(m, i, o, captured=captured):
            captured["s"] = o

        h = layer.register_forward_hook(keep)
        loss = loss_fn(model(X[n : n + 1]), y[n : n + 1])
        h.remove()
        (ds,) = torch.autograd.grad(loss, captured["s"])
        out.append(ds[0])
    return torch.stack(out)


def test_linear_factors_match_definition():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    X, y = torch.randn(10, 3), torch.randint(0, 2, (10,))
    opt = ro.KFAC(model, lr=0.0, momentum=0.0)
    loss_fn = nn.functional.cross_entropy
    loss_fn(model(X), y).backward()
    opt.step()
    for k, layer in ((0, model[0]), (2, model[2])):
        inputs = X if k == 0 else torch.tanh(model[0](X)).detach()
        a = torch.cat([inputs, torch.ones(10, 1)], 1)
        A = sum(torch.outer(a[n], a[n]) for n in range(10)) / 10
        ds = _per_example_output_grads(model, layer, X, y, loss_fn)
        G = sum(torch.outer(ds[n], ds[n]) for n in range(10)) / 10
        st = opt.state[layer.weight]
        torch.testing.assert_close(st["A"], A)
        torch.testing.assert_close(st["G"], G)


def test_conv2d_factors_match_definition():
    """Patches extracted by explicit loops over output positions (no unfold)."""
    torch.manual_seed(1)
    conv = nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1)
    model = nn.Sequential(conv, nn.Flatten(), nn.Linear(3 * 3 * 3, 2))
    X, y = torch.randn(4, 2, 5, 5), torch.randint(0, 2, (4,))
    opt = ro.KFAC(model, lr=0.0, momentum=0.0)
    loss_fn = nn.functional.cross_entropy
    loss_fn(model(X), y).backward()
    opt.step()
    padded = nn.functional.pad(X, (1, 1, 1, 1))
    rows = []
    for n in range(4):
        for i in range(3):
            for j in range(3):
                patch = padded[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].reshape(-1)
                rows.append(torch.cat([patch, torch.ones(1)]))
    a = torch.stack(rows)  # [N L, C k k + 1], L = 9 positions
    A = a.T @ a / (4 * 9)
    ds = _per_example_output_grads(model, conv, X, y, loss_fn)  # [N, C_out, 3, 3]
    G = (
        sum(
            torch.outer(ds[n, :, i, j], ds[n, :, i, j])
            for n in range(4)
            for i in range(3)
            for j in range(3)
        )
        / 4
    )
    st = opt.state[conv.weight]
    torch.testing.assert_close(st["A"], A)
    torch.testing.assert_close(st["G"], G)


def test_update_is_the_kronecker_solve():
    """Delta vec([W, b]) = -lr ((A + pi sqrt(l) I) (x) (G + sqrt(l)/pi I))^-1 vec([dW, db]),
    vec stacking columns; pi^2 = (tr A / dA) / (tr G / dG)."""
    torch.manual_seed(2)
    layer = nn.Linear(3, 2)
    X, y = torch.randn(16, 3), torch.randint(0, 2, (16,))
    before = torch.cat([layer.weight.detach(), layer.bias.detach()[:, None]], 1)
    lam, lr = 1e-2, 0.3
    opt = ro.KFAC(layer, lr=lr, damping=lam, momentum=0.0)
    nn.functional.cross_entropy(layer(X), y).backward()
    V = torch.cat([layer.weight.grad, layer.bias.grad[:, None]], 1)
    opt.step()
    A, G = opt.state[layer.weight]["A"], opt.state[layer.weight]["G"]
    pi = ((A.trace() / 4) / (G.trace() / 2)).sqrt()
    K = torch.kron(A + pi * lam**0.5 * torch.eye(4), G + lam**0.5 / pi * torch.eye(2))
    vec = torch.linalg.solve(K, V.T.reshape(-1))  # column-major vec
    expected = before - lr * vec.reshape(4, 2).T
    after = torch.cat([layer.weight.detach(), layer.bias.detach()[:, None]], 1)
    torch.testing.assert_close(after, expected)


def test_kfac_trains_and_validates():
    torch.manual_seed(3)
    X = torch.randn(128, 4)
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).long()
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
    opt = ro.KFAC(model, lr=0.05, inverse_update_interval=5)
    loss_fn = nn.functional.cross_entropy
    start = float(loss_fn(model(X), y).detach())
    for _ in range(60):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    assert float(loss_fn(model(X), y).detach()) < 0.5 * start
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"):
        ro.KFAC(list(model.parameters()))
    with pytest.raises(ValueError, match=r"no nn\.Linear"):
        ro.KFAC(nn.Sequential(nn.Tanh(), nn.LayerNorm(3)))
    with pytest.raises(ValueError, match="damping"):
        ro.KFAC(model, damping=0.0)
    assert ro.KFAC.elementwise is False


@pytest.mark.filterwarnings("error::UserWarning")  # K-FAC's hooks warn about nothing
def test_kfac_resumes_bit_for_bit_between_factor_and_inverse_updates():
    """Stopped at a step that is neither a factor nor an inverse refresh (intervals 2 and 3,
    stop after 7 steps), serialized, and resumed in a fresh optimizer on a fresh model:
    factors, inverses, momentum and K-FAC's own step count come back, and the run repeats
    the uninterrupted one bit for bit."""
    import io

    g = torch.Generator().manual_seed(4)
    X, y = torch.randn(32, 3, generator=g), torch.randint(0, 2, (32,), generator=g)
    settings = dict(lr=0.05, factor_update_interval=2, inverse_update_interval=3)

    def model(seed=0):
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2))

    def train(m, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(m(X), y).backward()
            opt.step()

    straight = model()
    train(straight, ro.KFAC(straight, **settings), 12)

    first = model()
    opt = ro.KFAC(first, **settings)
    train(first, opt, 7)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    checkpoint = torch.load(buffer)

    resumed = model(seed=9)  # everything must come from the checkpoint
    opt = ro.KFAC(resumed, **settings)
    resumed.load_state_dict(checkpoint["model"])
    opt.load_state_dict(checkpoint["opt"])
    train(resumed, opt, 5)
    for p, q in zip(straight.parameters(), resumed.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
