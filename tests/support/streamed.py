"""A race streamed by the explorer, put back together and checked against ravine.race."""

from __future__ import annotations

import math

import pytest
import torch

__all__ = ["assemble", "check_against"]


def assemble(sent: list[dict]) -> tuple[dict, dict, dict]:
    """Paths, losses and run messages by label, from a header and the messages after it,
    the positions after each divergence blanked as a page does."""
    head, *rest = sent
    assert head["type"] == "race"
    paths = {
        o["label"]: [[[] for _ in head["starts"]] for _ in o["lrs"]] for o in head["optimizers"]
    }
    losses = {k: [[[] for _ in row] for row in v] for k, v in paths.items()}
    runs, done = {}, -1
    for msg in rest:
        if msg["type"] == "chunk":
            assert msg["begin"] == done + 1 and not runs  # in order, before the outcomes
            done = msg["done"]
            for run in msg["runs"]:
                for j, row in enumerate(run["paths"]):
                    for k, path in enumerate(row):
                        assert len(path) == done + 1 - msg["begin"]
                        paths[run["label"]][j][k] += path
                        losses[run["label"]][j][k] += run["losses"][j][k]
        elif msg["type"] == "run":
            runs[msg["label"]] = msg
    assert done == head["steps"] and list(runs) == head["labels"]
    for label, run in runs.items():
        for j, row in enumerate(run["diverged"]):
            for k, d in enumerate(row):
                if d >= 0:
                    paths[label][j][k][d + 1 :] = [[None, None]] * (done - d)
                    losses[label][j][k][d + 1 :] = [None] * (done - d)
    return paths, losses, runs


def close(sent, expected: torch.Tensor) -> None:
    got = torch.tensor(sent, dtype=torch.float64)  # None -> nan
    torch.testing.assert_close(got, expected.to(got.dtype), rtol=1e-6, atol=1e-12, equal_nan=True)


def as_tensor(nested) -> list:
    if isinstance(nested, list):
        return [as_tensor(v) for v in nested]
    return math.nan if nested is None else nested


def check_against(sent: list[dict], result) -> None:
    paths, losses, runs = assemble(sent)
    for label, run in runs.items():
        ref = result[label]
        n_lr, n_start = len(ref.lrs), len(result.starts)
        assert run["lrs"] == pytest.approx(ref.lrs)
        assert [o for row in run["outcome"] for o in row] == ref.outcome_names()
        assert run["diverged"] == ref.diverged_step.reshape(n_lr, n_start).tolist()
        assert run["arrival"] == ref.arrival_step.reshape(n_lr, n_start).tolist()
        close(as_tensor(paths[label]), ref.positions.reshape(n_lr, n_start, -1, 2))
        close(as_tensor(losses[label]), ref.losses.reshape(n_lr, n_start, -1))
