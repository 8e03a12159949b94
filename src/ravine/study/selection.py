"""The best setting of an optimizer on a problem: the one rule the two-stage protocol picks its
reruns by and the summary reports, so that the two always agree.

The candidates are the finished trials of one optimizer on one problem, each a setting (its
hyperparameters), a seed and a score (:func:`~ravine.study.records.trial_score`: the final
validation metric, None for a diverged, failed or unmeasured trial). The *selection seeds*
are the seeds every setting was run on (all seeds under the grid and random protocols, the
tuning seed under the two-stage protocol). The best setting has the best mean score over
the selection seeds; a setting with any unscored selection trial is never best; ties go to
the setting seen first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["Best", "best_setting", "setting_key"]


def setting_key(hyperparameters: dict[str, Any]) -> str:
    """The canonical JSON of a setting: equal settings, equal keys (tuples as lists)."""
    return json.dumps(hyperparameters, sort_keys=True)


@dataclass(frozen=True)
class Best:
    """The chosen setting (as JSON reads it back), its mean score over the selection seeds
    (in the metric's own direction) and those seeds."""

    key: str
    hyperparameters: dict[str, Any]
    score: float
    seeds: list[int]


def best_setting(
    candidates: Iterable[tuple[dict[str, Any], int, float | None]], higher_is_better: bool = True
) -> Best | None:
    """The best of ``(hyperparameters, seed, score)`` candidates (see the module docstring);
    None when no setting has a score on every selection seed."""
    settings: dict[str, list[tuple[int, float | None]]] = {}
    for hyperparameters, seed, score in candidates:
        settings.setdefault(setting_key(hyperparameters), []).append((seed, score))
    if not settings:
        return None
    common = set.intersection(*({seed for seed, _ in runs} for runs in settings.values()))
    sign = 1.0 if higher_is_better else -1.0
    best, best_score = None, -math.inf
    for key, runs in settings.items():
        scores = [score for seed, score in runs if seed in common]
        if not scores or any(s is None for s in scores):
            continue
        mean = sum(scores) / len(scores)
        if sign * mean > best_score:
            best, best_score = key, sign * mean
    if best is None:
        return None
    return Best(best, json.loads(best), sign * best_score, sorted(common))
