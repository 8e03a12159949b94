"""The held-out test split: each optimizer's chosen setting scored on data tuning never saw.

A problem may carry a test split (``x_test``, ``y_test``; the built-ins' ``test_fraction``)
apart from the validation split the best setting is chosen on. Tuning, the summary's
ranking and steps to target use validation only; once a setting is chosen, its final models
(kept in the store, ``save_models``) are evaluated on the test split, so the test metric is
an unbiased estimate of the chosen setting and is never used to choose it. Stores of older
ravines load as they are: nothing is added to a trial's rows.
"""

from __future__ import annotations

from typing import Any

from .ensemble import load_model
from .summary import Results, best_settings

__all__ = ["test_metrics"]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def test_metrics(store, results: Results | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (problem, optimizer) whose problem has a test split and whose chosen setting has
    saved models: ``test_metric_mean``, ``test_loss_mean`` and ``test_seeds`` over its seeds."""
    results = results or Results.from_store(store)
    out = {}
    for problem in results.problems():
        for optimizer in results.optimizers(problem):
            best = best_settings(results, problem, optimizer)
            if best is None:
                continue
            scores = []
            for t in best["trials"]:
                loaded = load_model(store, t) if t.status == "done" else None
                if loaded is None or loaded[0].x_test is None:
                    continue
                p, model = loaded
                scores.append(p.evaluate(model, p.x_test, p.y_test))
            if scores:
                out[(problem, optimizer)] = {
                    "test_loss_mean": _mean([s[0] for s in scores]),
                    "test_metric_mean": _mean([s[1] for s in scores]),
                    "test_seeds": len(scores),
                }
    return out
