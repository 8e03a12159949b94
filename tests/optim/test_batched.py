"""Tensor hyperparameters: one step on a [T, D] parameter at a [T, 1] learning rate (and
other per-row hyperparameters) equals T separate runs at scalar hyperparameters."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from support import catalog

T, D, STEPS = 5, 3, 12
LRS = [1e-3, 2e-3, 5e-3, 1e-2, 3e-2]


def loss_rows(x: torch.Tensor) -> torch.Tensor:
    """Independent problems, one per row: a shifted ill-conditioned quadratic plus a quartic."""
    scales = torch.tensor([1.0, 10.0, 0.3], dtype=x.dtype)
    return (scales * (x - 0.5) ** 2).sum(-1) + 0.1 * (x**4).sum(-1)


def start() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    return torch.randn(T, D, generator=g)


def run(build, x0: torch.Tensor, steps: int = STEPS) -> torch.Tensor:
    x = torch.nn.Parameter(x0.clone())
    opt = build([x])

    def closure():
        opt.zero_grad()
        loss = loss_rows(x).sum()
        loss.backward()
        return loss

    for _ in range(steps):
        opt.step(closure)
    return x.detach()


# Rules that mix coordinates (Newton, quasi-Newton, K-FAC) cannot batch rows.
@pytest.mark.parametrize("variant", catalog.variants(lambda v: v.entry.elementwise))
def test_tensor_lr_equals_separate_runs(variant) -> None:
    x0 = start()
    lr = torch.tensor(LRS).unsqueeze(1)
    batched = run(lambda p: variant.make(p, lr=lr), x0)
    for i, lr_i in enumerate(LRS):
        single = run(lambda p, lr_i=lr_i: variant.make(p, lr=lr_i), x0[i : i + 1])
        torch.testing.assert_close(batched[i : i + 1], single, rtol=1e-12, atol=1e-14)


def test_one_step_at_tensor_lr_is_t_steps() -> None:
    """The literal statement: one step at a [T, 1] lr equals T separate SGD steps."""
    x0 = start()
    lr = torch.tensor(LRS).unsqueeze(1)
    x = torch.nn.Parameter(x0.clone())
    x.grad = torch.ones_like(x)
    ro.SGD([x], lr=lr).step()
    expected = x0 - lr * 1.0
    assert torch.equal(x.detach(), expected)


def test_tensor_betas_and_momentum_vary_per_row() -> None:
    x0 = start()
    beta1 = torch.tensor([0.0, 0.5, 0.8, 0.9, 0.95]).unsqueeze(1)
    batched = run(lambda p: ro.Adam(p, lr=0.05, betas=(beta1, 0.99)), x0)
    mus = torch.tensor([0.0, 0.3, 0.6, 0.9, 0.99]).unsqueeze(1)
    batched_mu = run(lambda p: ro.Momentum(p, lr=0.01, momentum=mus), x0)
    for i in range(T):
        b1 = float(beta1[i])
        single = run(lambda p, b1=b1: ro.Adam(p, lr=0.05, betas=(b1, 0.99)), x0[i : i + 1])
        torch.testing.assert_close(batched[i : i + 1], single, rtol=1e-12, atol=1e-14)
        mu = float(mus[i])
        single = run(lambda p, mu=mu: ro.Momentum(p, lr=0.01, momentum=mu), x0[i : i + 1])
        torch.testing.assert_close(batched_mu[i : i + 1], single, rtol=1e-12, atol=1e-14)


def test_hyperparameter_that_would_enlarge_the_parameter_is_rejected() -> None:
    x = torch.nn.Parameter(torch.zeros(3))
    x.grad = torch.ones(3)
    with pytest.raises(ValueError, match=r"hyperparameter lr .* broadcasts parameter 0"):
        ro.SGD([x], lr=torch.full((4, 1), 0.1))  # at construction, the parameters known
    opt = ro.SGD([x], lr=0.1)
    opt.param_groups[0]["lr"] = torch.full((4, 1), 0.1)  # set later (a schedule): at the step
    with pytest.raises(ValueError, match="broadcast"):
        opt.step()


def test_hyperparameter_that_does_not_broadcast_is_rejected() -> None:
    x = torch.nn.Parameter(torch.zeros(3))
    x.grad = torch.ones(3)
    opt = ro.Adam([x], lr=0.1)
    opt.param_groups[0]["lr"] = torch.full((2,), 0.1)
    with pytest.raises(ValueError, match="does not broadcast against parameter 0 of shape"):
        opt.step()
    assert torch.equal(x, torch.zeros(3)) and not opt.state
