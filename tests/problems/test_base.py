"""The problem record: what printing one shows."""

from __future__ import annotations

import torch
from torch import nn

from ravine.problems import Problem


def test_print_of_a_problem_is_a_short_summary_not_tensors():
    torch.manual_seed(0)
    x, y = torch.randn(30, 4), torch.randint(0, 3, (30,))
    problem = Problem(
        "toy",
        model=lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
        x_train=x[:20], y_train=y[:20], x_val=x[20:], y_val=y[20:],
        target=0.5, info={"classes": 3},
    )  # fmt: skip
    state = torch.get_rng_state()
    text = str(problem)
    assert torch.equal(torch.get_rng_state(), state), "printing consumed random numbers"
    assert text == repr(problem) and "tensor" not in text
    assert text.splitlines() == [
        "Problem 'toy': 20 training and 10 validation examples of shape [4] (classes=3)",
        "  metric: accuracy (higher is better, target 0.5); loss: cross_entropy",
        f"  model: Sequential (2 Linear, 1 ReLU), {4 * 8 + 8 + 8 * 3 + 3} parameters",
    ]
