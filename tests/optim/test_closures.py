"""The closure builder: each closure kind does what the optimizers that ask for it expect,
checked against autograd by hand."""

from __future__ import annotations

import pytest
import torch

from ravine.optim.closures import make_closure


def _problem():
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]])
    y = torch.tensor([1.0, 0.0, 2.0])

    def outputs():
        z = x @ w
        return (z - y) ** 2, z

    def zero_grad():
        w.grad = None

    return w, x, y, zero_grad, outputs


def test_backward_kind_computes_the_gradient_and_returns_the_loss():
    w, x, y, zero_grad, outputs = _problem()
    w.grad = torch.ones(2)  # stale: must be cleared, not accumulated into
    closure = make_closure(
        "backward", zero_grad=zero_grad, loss=lambda: outputs()[0].mean(), outputs=outputs
    )
    loss = closure()
    r = x @ w.detach() - y
    assert torch.allclose(loss, (r**2).mean())
    assert torch.allclose(w.grad, 2 * x.T @ r / 3)  # d/dw mean((xw - y)^2), by hand


def test_backward_kind_skips_backward_without_grad_mode():
    w, _, _, zero_grad, outputs = _problem()
    closure = make_closure("model", zero_grad=zero_grad, loss=lambda: outputs()[0].mean())
    with torch.no_grad():
        loss = closure()
    assert w.grad is None and not loss.requires_grad


def test_loss_kind_returns_the_graph_without_backward():
    w, _, _, zero_grad, outputs = _problem()
    closure = make_closure("loss", zero_grad=zero_grad, loss=lambda: outputs()[0].sum())
    loss = closure()
    assert w.grad is None and loss.requires_grad
    (g,) = torch.autograd.grad(loss, w)
    assert g.shape == w.shape


def test_outputs_kind_returns_losses_and_outputs():
    w, x, _, zero_grad, outputs = _problem()
    closure = make_closure("outputs", zero_grad=zero_grad, loss=lambda: None, outputs=outputs)
    losses, z = closure()
    assert losses.shape == (3,) and torch.equal(z, x @ w) and w.grad is None


def test_bad_kinds_are_refused():
    with pytest.raises(ValueError, match="closure_kind='other'"):
        make_closure("other", zero_grad=lambda: None, loss=lambda: None)
    with pytest.raises(ValueError, match="needs outputs="):
        make_closure("outputs", zero_grad=lambda: None, loss=lambda: None)


def test_look_ahead_evaluation_moves_and_restores_even_when_the_closure_raises():
    from ravine.optim.closures import evaluate_offset

    p = torch.tensor([1.0, 2.0])
    seen = []
    assert evaluate_offset("X", lambda: seen.append(p.clone()) or 7, [(p, torch.ones(2))]) == 7
    assert torch.equal(seen[0], torch.tensor([2.0, 3.0])) and torch.equal(
        p, torch.tensor([1.0, 2.0])
    )

    def boom():
        raise ArithmeticError("in the closure")

    with pytest.raises(ArithmeticError):
        evaluate_offset("X", boom, [(p, torch.ones(2))])
    assert torch.equal(p, torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="X takes its gradient at a look-ahead point"):
        evaluate_offset("X", None, [(p, torch.ones(2))])
    assert evaluate_offset("X", None, []) is None
