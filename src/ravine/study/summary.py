"""What a study found: the best setting per optimizer, final metrics with their spread over
seeds, steps to a target, divergence rates, learning-rate sensitivity and performance profiles.

Definitions (all on the *final* evaluation of a trial, as in DeepOBS):

* A trial's score is its final validation metric. A diverged or failed trial has no score.
* **Best setting** of an optimizer on a problem: the hyperparameter setting with the best mean
  score over the *selection seeds*, the seeds every setting of that optimizer was run on (all
  seeds under the grid and random protocols, the tuning seed under the two-stage protocol, so
  the choice is the one the protocol made). A setting with any unscored selection trial is
  never best. Ties go to the setting listed first.
* **Final metrics** of the best setting: mean, sample standard deviation (n - 1; 0 for one
  seed), min and max over all its seeds.
* **Steps to target**: the first evaluated step whose validation metric reaches the problem's
  target (>= when higher is better, <= otherwise); per optimizer, the median over the best
  setting's seeds (a seed that never reaches it counts as infinity, so the median is
  infinite when at least half of the seeds miss).
* **Divergence rate**: diverged trials / all finished trials of the optimizer on the problem.
* ``lr_at_grid_edge``: the best lr is the smallest or largest of three or more tried, so the
  grid should be widened before the comparison is trusted.
* **Performance profile** (Dolan and Moré 2002, as used by AlgoPerf): with t[p, o] the steps
  to target of optimizer o on problem p and r[p, o] = t[p, o] / min_o t[p, o],
  rho_o(tau) = |{p : r[p, o] <= tau}| / |problems|, for tau from 1 to 4.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Results",
    "best_settings",
    "performance_profile",
    "sensitivity",
    "setting_label",
    "steps_to_target",
    "summarize",
]


def setting_label(hyperparameters: dict[str, Any]) -> str:
    """A short stable label of a hyperparameter setting: ``lr=0.001, momentum=0.9``."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        if isinstance(v, list | tuple):
            return "(" + ", ".join(fmt(x) for x in v) + ")"
        return str(v)

    return ", ".join(f"{k}={fmt(v)}" for k, v in sorted(hyperparameters.items())) or "defaults"


def _key(hyperparameters: dict[str, Any]) -> str:
    return json.dumps(hyperparameters, sort_keys=True)


@dataclass
class Results:
    """A study's trials and their metric rows, independent of where they are stored.

    ``trials``: dicts with ``id``, ``problem`` (label), ``optimizer`` (label), ``seed``,
    ``status`` and ``config`` (with ``hyperparameters``); ``metrics``: rows by trial id, each
    a dict with the :data:`ravine.study.trial.METRIC_COLUMNS`. ``targets`` and
    ``higher_is_better`` are per problem label.
    """

    trials: list[dict[str, Any]]
    metrics: dict[int, list[dict[str, Any]]]
    targets: dict[str, float | None] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store) -> Results:
        """Finished trials of a :class:`ravine.study.store.Store` with their metrics."""
        trials = store.trials(status=("done", "diverged", "failed"))
        info = store.get_meta("problems", {}) or {}
        targets = {k: v.get("target") for k, v in info.items()}
        higher = {k: bool(v.get("higher_is_better", True)) for k, v in info.items()}
        return cls(trials, store.metrics([t["id"] for t in trials]), targets, higher)

    # -- lookups --------------------------------------------------------------------

    def problems(self) -> list[str]:
        return list(dict.fromkeys(t["problem"] for t in self.trials))

    def optimizers(self, problem: str | None = None) -> list[str]:
        return list(
            dict.fromkeys(t["optimizer"] for t in self.trials if problem in (None, t["problem"]))
        )

    def select(self, problem: str, optimizer: str) -> list[dict[str, Any]]:
        return [t for t in self.trials if t["problem"] == problem and t["optimizer"] == optimizer]

    def hib(self, problem: str) -> bool:
        return self.higher_is_better.get(problem, True)

    def score(self, trial: dict[str, Any]) -> float | None:
        """The final validation metric, or None for a diverged, failed or empty trial."""
        if trial["status"] != "done":
            return None
        rows = self.metrics.get(trial["id"]) or []
        if not rows or rows[-1]["val_metric"] is None:
            return None
        v = float(rows[-1]["val_metric"])
        return v if math.isfinite(v) else None


def _settings(trials: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for t in trials:
        out.setdefault(_key(t["config"]["hyperparameters"]), []).append(t)
    return out


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def _std(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0 if xs else math.nan
    m = _mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def _median(xs: Sequence[float]) -> float:
    """The median; infinite entries sort last, so it is infinite when at least half are."""
    if not xs:
        return math.nan
    s, n = sorted(xs), len(xs)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def best_settings(results: Results, problem: str, optimizer: str) -> dict[str, Any] | None:
    """The best setting (see the module docstring) as ``{"hyperparameters", "label",
    "selection_score", "selection_seeds", "trials"}``, or None when no setting has a score."""
    settings = _settings(results.select(problem, optimizer))
    if not settings:
        return None
    seed_sets = [{t["seed"] for t in ts} for ts in settings.values()]
    common = set.intersection(*seed_sets)
    sign = 1.0 if results.hib(problem) else -1.0
    best, best_score = None, -math.inf
    for key, ts in settings.items():
        chosen = [t for t in ts if t["seed"] in common]
        scores = [results.score(t) for t in chosen]
        if not chosen or any(s is None for s in scores):
            continue
        mean = _mean(scores)
        if sign * mean > best_score:
            best, best_score = key, sign * mean
    if best is None:
        return None
    hps = json.loads(best)
    return {
        "hyperparameters": hps,
        "label": setting_label(hps),
        "selection_score": sign * best_score,
        "selection_seeds": sorted(common),
        "trials": sorted(settings[best], key=lambda t: t["seed"]),
    }


def steps_to_target(
    rows: Sequence[dict[str, Any]], target: float | None, higher: bool = True
) -> float:
    """First evaluated step whose val_metric reaches ``target``; ``inf`` if none does."""
    if target is None:
        return math.nan
    for r in rows:
        v = r["val_metric"]
        if v is not None and math.isfinite(v) and (v >= target if higher else v <= target):
            return float(r["step"])
    return math.inf


def summarize(results: Results) -> list[dict[str, Any]]:
    """One row per (problem, optimizer): best setting, final metrics over its seeds, steps to
    target, divergence rate (see the module docstring)."""
    out = []
    for problem in results.problems():
        target = results.targets.get(problem)
        hib = results.hib(problem)
        for optimizer in results.optimizers(problem):
            trials = results.select(problem, optimizer)
            finished = [t for t in trials if t["status"] in ("done", "diverged", "failed")]
            diverged = sum(t["status"] == "diverged" for t in finished)
            row: dict[str, Any] = {
                "problem": problem,
                "optimizer": optimizer,
                "trials": len(finished),
                "diverged": diverged,
                "divergence_rate": diverged / len(finished) if finished else math.nan,
                "best": None,
                "seeds": 0,
                "target": target,
            }
            best = best_settings(results, problem, optimizer)
            if best is not None:
                bt = best["trials"]
                scored = [t for t in bt if results.score(t) is not None]
                last = [results.metrics[t["id"]][-1] for t in scored]
                vals = [float(r["val_metric"]) for r in last]
                row.update(
                    best=best["label"],
                    hyperparameters=best["hyperparameters"],
                    selection_score=best["selection_score"],
                    seeds=len(bt),
                    val_metric_mean=_mean(vals),
                    val_metric_std=_std(vals),
                    val_metric_min=min(vals),
                    val_metric_max=max(vals),
                    val_loss_mean=_mean([float(r["val_loss"]) for r in last]),
                    train_loss_mean=_mean([float(r["train_loss"]) for r in last]),
                    train_loss_std=_std([float(r["train_loss"]) for r in last]),
                    train_metric_mean=_mean([float(r["train_metric"]) for r in last]),
                )
                steps = [steps_to_target(results.metrics.get(t["id"], []), target, hib) for t in bt]
                row["steps_to_target"] = _median(steps) if target is not None else math.nan
                lrs = {
                    t["config"]["hyperparameters"].get("lr")
                    for t in trials
                    if isinstance(t["config"]["hyperparameters"].get("lr"), int | float)
                }
                lr = best["hyperparameters"].get("lr")
                row["lr_at_grid_edge"] = (
                    len(lrs) > 2 and lr is not None and lr in (min(lrs), max(lrs))
                )
                row["steps_to_target_per_seed"] = steps
            out.append(row)
    return out


def sensitivity(results: Results, problem: str, hyperparameter: str = "lr") -> list[dict[str, Any]]:
    """Final validation metric against one hyperparameter (default lr), per optimizer: for each
    value, the best over the other hyperparameters of the mean over seeds, with its std and
    the number of diverged trials at that value."""
    out = []
    sign = 1.0 if results.hib(problem) else -1.0
    for optimizer in results.optimizers(problem):
        by_value: dict[Any, list[tuple[float, float, int, int]]] = defaultdict(list)
        for key, ts in _settings(results.select(problem, optimizer)).items():
            hps = json.loads(key)
            if hyperparameter not in hps:
                continue
            scores = [results.score(t) for t in ts]
            good = [s for s in scores if s is not None]
            n_div = sum(t["status"] == "diverged" for t in ts)
            mean = _mean(good) if len(good) == len(scores) else math.nan
            by_value[hps[hyperparameter]].append((mean, _std(good), len(ts), n_div))
        for value in sorted(by_value):
            entries = by_value[value]
            scored = [e for e in entries if not math.isnan(e[0])]
            pick = max(scored, key=lambda e: sign * e[0]) if scored else (math.nan, math.nan, 0, 0)
            out.append(
                {
                    "optimizer": optimizer,
                    hyperparameter: value,
                    "val_metric_mean": pick[0],
                    "val_metric_std": pick[1],
                    "trials": sum(e[2] for e in entries),
                    "diverged": sum(e[3] for e in entries),
                }
            )
    return out


def performance_profile(
    steps: dict[str, dict[str, float]], taus: Sequence[float] | None = None
) -> dict[str, Any]:
    """Performance profile from ``steps[problem][optimizer]`` (steps to target; ``inf`` when
    never reached). Returns ``{"taus", "profiles": {optimizer: [rho(tau), ...]},
    "ratios": {problem: {optimizer: r}}}``. Problems no optimizer solved give every optimizer
    an infinite ratio there (they count against all)."""
    if taus is None:
        taus = [1.0 + 3.0 * i / 60 for i in range(61)]
    optimizers = list(dict.fromkeys(o for row in steps.values() for o in row))
    ratios: dict[str, dict[str, float]] = {}
    for problem, row in steps.items():
        finite = [v for v in row.values() if math.isfinite(v)]
        best = min(finite) if finite else math.inf
        ratios[problem] = {}
        for o in optimizers:
            t = row.get(o, math.inf)
            if not math.isfinite(t) or not math.isfinite(best):
                ratios[problem][o] = math.inf
            elif best == 0:
                ratios[problem][o] = 1.0 if t == 0 else math.inf
            else:
                ratios[problem][o] = t / best
    n = len(steps)
    profiles = {
        o: [sum(ratios[p][o] <= tau for p in steps) / n if n else math.nan for tau in taus]
        for o in optimizers
    }
    return {"taus": list(taus), "profiles": profiles, "ratios": ratios}


def profile_steps(summary_rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``steps[problem][optimizer]`` from :func:`summarize` rows (no best setting: inf)."""
    out: dict[str, dict[str, float]] = {}
    for r in summary_rows:
        s = r.get("steps_to_target", math.inf)
        if s is None or (isinstance(s, float) and math.isnan(s)):
            continue
        out.setdefault(r["problem"], {})[r["optimizer"]] = s
    return out


def curves(results: Results, problem: str, optimizer: str, column: str) -> dict[str, Any] | None:
    """The best setting's curve of ``column`` over epochs, one list per seed (diverged seeds
    end early): ``{"label", "epochs", "per_seed": {seed: [values]}}``."""
    best = best_settings(results, problem, optimizer)
    if best is None:
        return None
    per_seed, epochs = {}, []
    for t in best["trials"]:
        rows = results.metrics.get(t["id"], [])
        per_seed[t["seed"]] = [r[column] for r in rows]
        if len(rows) > len(epochs):
            epochs = [r["epoch"] for r in rows]
    return {"label": best["label"], "epochs": epochs, "per_seed": per_seed}
