"""Model ensembles: the average prediction of a study's models against the models alone.

The study keeps each finished trial's final ``state_dict`` in the store (``save_models``,
on by default; a few kilobytes for the built-in problems), so an ensemble is evaluated
without retraining: rebuild the problem's model, load each member's weights, and combine
the members' validation outputs with :meth:`ravine.problems.Problem.ensemble` (the average
of their class probabilities for classification).
"""

from __future__ import annotations

import io
from typing import Any

import torch

from .store import StoredTrial
from .summary import Results, best_settings

__all__ = ["ensemble_table", "evaluate_ensemble", "load_model"]


def load_model(store, trial: StoredTrial):
    """The problem and the final model of ``trial`` (None when its weights were not kept)."""
    blob = store.model(trial.id)
    if blob is None:
        return None
    problem = trial.config.problem.build()
    with torch.random.fork_rng(devices=[]):
        model = problem.model()
    model.load_state_dict(torch.load(io.BytesIO(blob), weights_only=True))
    return problem, model


def evaluate_ensemble(store, trials: list[StoredTrial]) -> dict[str, Any] | None:
    """Validation loss and metric of each member and of their ensemble; None when fewer than
    two members have a saved model."""
    members = [m for m in (load_model(store, t) for t in trials) if m is not None]
    if len(members) < 2:
        return None
    problem = members[0][0]
    outputs = [problem.outputs(model, problem.x_val) for _, model in members]
    individual = [
        (float(problem.loss(o, problem.y_val)), float(problem.metric(o, problem.y_val)))
        for o in outputs
    ]
    combined = problem.ensemble(outputs)
    return {
        "members": len(members),
        "member_val_loss_mean": sum(x[0] for x in individual) / len(individual),
        "member_val_metric_mean": sum(x[1] for x in individual) / len(individual),
        "member_val_metric_best": max(x[1] for x in individual)
        if problem.higher_is_better
        else min(x[1] for x in individual),
        "ensemble_val_loss": float(problem.loss(combined, problem.y_val)),
        "ensemble_val_metric": float(problem.metric(combined, problem.y_val)),
    }


def ensemble_table(store) -> list[dict[str, Any]]:
    """Per problem: each optimizer's best setting ensembled across its seeds, and one ensemble
    of every optimizer's best-setting models together ("all optimizers")."""
    results = Results.from_store(store)
    out = []
    for problem in results.problems():
        everyone = []
        for optimizer in results.optimizers(problem):
            best = best_settings(results, problem, optimizer)
            if best is None:
                continue
            done = [t for t in best["trials"] if t.status == "done"]
            everyone += done
            row = evaluate_ensemble(store, done)
            if row is not None:
                out.append(
                    {"problem": problem, "members_of": optimizer, "setting": best["label"], **row}
                )
        if len({t.optimizer for t in everyone}) > 1:
            row = evaluate_ensemble(store, everyone)
            if row is not None:
                out.append(
                    {
                        "problem": problem,
                        "members_of": "all optimizers",
                        "setting": "best of each",
                        **row,
                    }
                )
    return out
