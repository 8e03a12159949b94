"""The loop every closure-driven optimizer shares: a direction is all an algorithm supplies,
and trial points are always left as they were found."""

from __future__ import annotations

import pytest
import torch

from ravine.optim.closure import ClosureOptimizer
from ravine.optim.rule import arguments
from support import catalog


def steepest(g: torch.Tensor) -> torch.Tensor:
    """d = -g."""
    return -g


class SteepestDescent(ClosureOptimizer):
    """The smallest algorithm the loop can run."""

    closure_kind = "loss"
    rule = staticmethod(steepest)

    def __init__(self, params, lr=0.1, *, line_search_fn=None, check_finite=True):
        super().__init__(**arguments(locals()))

    def direction(self, at, group, state, damping):
        return steepest(at.g)


def test_a_direction_is_all_an_algorithm_supplies():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    opt = SteepestDescent([x], lr=0.25)
    loss = opt.step(lambda: (x**2).sum())
    assert float(loss) == 5.0  # the loss before the step
    torch.testing.assert_close(x.detach(), torch.tensor([0.5, -1.0]))  # x - 0.25 * 2x
    assert int(opt.state[x]["step"]) == 1
    # the default policy runs the group's line search: Armijo halves t = 1 to 0.5 here
    y = torch.tensor([1.0, -2.0], requires_grad=True)
    SteepestDescent([y], lr=1.0, line_search_fn="backtracking").step(lambda: (y**2).sum())
    torch.testing.assert_close(y.detach(), torch.zeros(2))


def test_trial_points_are_restored_even_when_the_closure_raises():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    opt = SteepestDescent([x])
    seen = []

    def measure():
        seen.append(x.detach().clone())
        if len(seen) == 2:
            raise FloatingPointError("boom")
        return float((x**2).sum())

    phi = opt.along([x], torch.tensor([1.0, 0.0]), measure)
    with torch.no_grad():  # as inside step()
        assert phi(0.5) == 1.5**2 + 4
        with pytest.raises(FloatingPointError):
            phi(2.0)
    torch.testing.assert_close(seen[1], torch.tensor([3.0, 2.0]))
    torch.testing.assert_close(x.detach(), torch.tensor([1.0, 2.0]))


def _regression():
    """A small tanh network on a regression problem: curvature without a closed form."""
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 3, generator=g), torch.randn(32, 1, generator=g)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    return model, lambda: torch.nn.functional.mse_loss(model(x), y)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("v", catalog.variants(lambda v: v.entry.closure_kind == "loss"))
def test_a_closure_calling_backward_with_create_graph_gives_the_same_numbers(v):
    """AdaHessian's convention (the closure calls loss.backward(create_graph=True) and
    returns the loss) and the documented one (the loss with its graph, no backward) take
    the same steps; no gradient keeps its graph (a reference cycle) after a step."""
    runs = []
    for calls_backward in (False, True):
        model, loss_of = _regression()
        opt = v.make(model.parameters())

        def closure(opt=opt, loss_of=loss_of, calls_backward=calls_backward):
            opt.zero_grad()
            loss = loss_of()
            if calls_backward:
                loss.backward(create_graph=True)
            return loss

        losses = [float(opt.step(closure)) for _ in range(3)]
        runs.append((losses, [p.detach().clone() for p in model.parameters()]))
        assert all(p.grad is None or not p.grad.requires_grad for p in model.parameters())
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_closure_calling_plain_backward_is_told_what_to_do():
    x = torch.tensor([1.0, -2.0], requires_grad=True)

    def closure():
        loss = (x**2).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match=r"backward\(create_graph=True\)"):
        SteepestDescent([x]).step(closure)
