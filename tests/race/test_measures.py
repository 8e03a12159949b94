"""What a race measures, worked by hand: divergence (the first exit from the box), losses and
gradient norms at the recorded positions, outcomes and arrival steps."""

from __future__ import annotations

import math

import pytest
import torch

from ravine import landscapes
from ravine.race import OUTCOMES, race


def test_sgd_on_a_quadratic_diverges_above_2_over_L_and_converges_below():
    L = 4.0
    f = landscapes.get("quadratic", dim=1, curvature=L)  # f = L/2 x^2
    lrs = [1.9 / L, 2.1 / L, 0.5 / L]
    result = race(f, ["sgd"], lrs=lrs, starts=[[1.0]], steps=300, bound=10.0)
    run = result["sgd"]
    names = [OUTCOMES[int(c)] for c in run.outcome.flatten()]
    assert names == ["converged", "diverged", "converged"]
    # x_k = (1 - lr L)^k x_0, written out
    for i, lr in enumerate(lrs):
        xs = run.positions[i, 0, 0, :, 0]
        k = torch.arange(301, dtype=torch.float64)
        expect = (1 - lr * L) ** k
        if i == 1:
            # leaves the box [-20, 20] (domain [-2, 2] enlarged 10x) at the first k with
            # |1.1^k| > 20, i.e. k = 32; NaN afterwards
            first = next(j for j in range(301) if abs((1 - lr * L) ** j) > 20)
            assert int(run.diverged_step[i, 0, 0]) == first
            torch.testing.assert_close(xs[: first + 1], expect[: first + 1])
            assert torch.isnan(xs[first + 1 :]).all()
            assert math.isinf(float(run.final_losses()[i, 0, 0]))
        else:
            torch.testing.assert_close(xs, expect)
            assert int(run.minimum[i, 0, 0]) == 0
            # arrival: first k with |x_k| <= tol and staying there
            tol = result.tol
            arrival = next(j for j in range(301) if abs(expect[j]) <= tol)
            assert int(run.arrival_step[i, 0, 0]) == arrival
    # losses and gradient norms are recorded along the way: L/2 x^2 and L |x|
    ok = run.positions[0, 0, 0, :, 0]
    torch.testing.assert_close(run.losses[0, 0, 0], L / 2 * ok**2)
    torch.testing.assert_close(run.grad_norms[0, 0, 0], L * ok.abs())


def test_divergent_rows_do_not_disturb_the_others():
    f = landscapes.get("rosenbrock")
    both = race(f, ["adam", "sgd"], lrs=[1e-3, 0.05], steps=60)
    alone = race(f, ["sgd"], lrs=[1e-3], steps=60)
    assert OUTCOMES[int(both["sgd"].outcome[1, 0, 0])] == "diverged"
    torch.testing.assert_close(both["sgd"].positions[0], alone["sgd"].positions[0])


def test_saddle_from_y0_zero_stays_on_the_line_and_is_caught_by_the_saddle():
    f = landscapes.get("saddle")
    result = race(
        f, ["sgd", "momentum", "adam"], lrs=0.05, starts=[[1.0, 0.0], [1.0, 1e-3]], steps=400
    )
    for label in ("sgd", "momentum", "adam"):
        run = result[label]
        assert torch.equal(run.positions[0, 0, 0, :, 1], torch.zeros(401, dtype=torch.float64))
        assert OUTCOMES[int(run.outcome[0, 0, 0])] == "saddle"
        assert OUTCOMES[int(run.outcome[0, 1, 0])] == "escaped"  # leaves downhill along y
        assert run.final_losses()[0, 1, 0] == -math.inf
    # SGD on the saddle, written out: x_k = (1 - 2 lr)^k, y_k = (1 + 2 lr)^k y0
    xs = result["sgd"].positions[0, 1, 0]
    k = int(result["sgd"].diverged_step[0, 1, 0])
    steps = torch.arange(k + 1, dtype=torch.float64)
    torch.testing.assert_close(xs[: k + 1, 0], 0.9**steps)
    torch.testing.assert_close(xs[: k + 1, 1], 1e-3 * 1.1**steps)


def test_leaving_the_box_uphill_is_diverged_and_downhill_escaped():
    # x^2 - y^2: SGD with lr > 1 overshoots along x (loss +, uphill): diverged; with a small
    # lr from y0 != 0 it leaves along y, where the loss x^2 - y^2 < 0 is below the start's
    f = landscapes.get("saddle")
    result = race(f, ["sgd"], lrs=[1.5, 0.05], starts=[[1.0, 1e-3]], steps=300)
    run = result["sgd"]
    assert run.outcome_names() == ["diverged", "escaped"]
    for i in range(2):
        k = int(run.diverged_step[i, 0, 0])
        x, y = run.positions[i, 0, 0, k].tolist()
        assert (x * x - y * y < 1.0) == (i == 1)  # the exit's loss against the start's (1)
    assert run.final_losses()[:, 0, 0].tolist() == [math.inf, -math.inf]
    table = result.summary()
    assert table[0][-1] == "escaped"
    assert [row[-1] for row in table[1:]] == ["0", "1"]
    assert [row[OUTCOMES.index("diverged") + 3] for row in table[1:]] == ["1", "0"]


def test_a_bounded_landscape_never_escapes():
    # rosenbrock is bounded below by its minimum 0: leaving its box is always diverging
    result = race(landscapes.get("rosenbrock"), ["sgd"], lrs=[0.05], steps=60)
    assert result["sgd"].outcome_names() == ["diverged"]


def test_outcome_names_the_minimum_reached():
    f = landscapes.get("himmelblau")
    starts = [[p.location[0] + 0.2, p.location[1] - 0.2] for p in f.minima]
    result = race(f, ["sgd"], lrs=0.005, starts=starts, steps=500)
    run = result["sgd"]
    assert run.outcome_names() == ["converged"] * 4
    assert run.minimum[0, :, 0].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("written", [True, False], ids=["written-gradient", "autograd"])
def test_recorded_losses_and_gradient_norms_are_those_of_the_recorded_positions(written):
    # Losses and gradient norms are taken from the step's own closure where it is evaluated
    # at the current point, and computed afterwards where it is not (look-ahead, line
    # search): either way they must be f and |grad f| at the recorded positions.
    import dataclasses

    f = landscapes.get("himmelblau")
    if not written:
        f = dataclasses.replace(f, value_and_grad=None)
    optimizers = {
        "sgd": {},
        "adam": {},
        "nag": {"optimizer": "nesterov", "lookahead": True},
        "nag-pytorch": {"optimizer": "nesterov", "lookahead": False},
        "lbfgs": {"lr": 1.0},
    }
    result = race(f, optimizers, lrs=[1e-3, 0.02, 0.2], steps=40)
    for run in result.runs.values():
        pos = run.positions
        finite = torch.isfinite(pos).all(-1)
        x = pos[finite].clone().requires_grad_(True)
        value = f.fn(x)
        (g,) = torch.autograd.grad(value.sum(), x)
        torch.testing.assert_close(run.losses[finite], value.detach(), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(run.grad_norms[finite], g.norm(dim=-1), rtol=1e-12, atol=1e-12)
        assert torch.isnan(run.losses[~finite]).all() and torch.isnan(run.grad_norms[~finite]).all()
    assert (result["sgd"].outcome == 2).any()  # lr 0.2 diverges: NaN rows are checked too
