"""The loop every closure-driven optimizer shares: a direction is all an algorithm supplies,
and trial points are always left as they were found."""

from __future__ import annotations

import pytest
import torch

from ravine.optim.base import arguments
from ravine.optim.closure import ClosureOptimizer


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
