"""What a study found: the best setting per optimizer, final metrics with their spread over
seeds, steps to a target, divergence rates, learning-rate sensitivity and performance profiles.

Definitions (all on the *final* evaluation of a trial, as in DeepOBS):

* A trial's score is its final validation metric. A diverged or failed trial has no score.
* **Best setting** of an optimizer on a problem: the best mean score over the seeds every
  setting was run on (:mod:`ravine.study.selection`, the rule the two-stage protocol uses).
* **Final metrics** of the best setting: mean, sample standard deviation (n - 1; 0 for one
  seed), min and max over all its seeds.
* **Steps to target**: the first evaluated step whose validation metric reaches the problem's
  target (>= when higher is better, <= otherwise, compared in float32 so that a metric equal
  to the target reaches it); per optimizer, the median over the best
  setting's seeds (a seed that never reaches it counts as infinity, so the median is
  infinite when at least half of the seeds miss).
* **Divergence rate**: diverged trials / all finished trials of the optimizer on the problem.
* ``grid_edge``: per tuned hyperparameter whose best value is the smallest or largest of
  three or more tried, which end (:func:`grid_edges`): the grid should be widened before the
  comparison is trusted; ``lr_at_grid_edge`` is whether ``lr`` is among them.
* ``schedules``: the schedule strings the best setting ran with (empty: constant).
* **Performance profile** (Dolan and Moré 2002, as used by AlgoPerf): with t[p, o] the steps
  to target of optimizer o on problem p and r[p, o] = t[p, o] / min_o t[p, o],
  rho_o(tau) = |{p : r[p, o] <= tau}| / |problems|, for tau from 1 to 4.
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .records import FINISHED, MetricRow, setting_label, trial_score
from .selection import best_setting, setting_key
from .values import is_number

__all__ = [
    "Results",
    "best_settings",
    "performance_profile",
    "sensitivity",
    "setting_label",
    "steps_to_target",
    "summarize",
]


@dataclass
class Results:
    """A study's trials and their metric rows, independent of where they are stored.

    ``trials``: :class:`~ravine.study.store.StoredTrial` records (or any with ``id``,
    ``problem`` and ``optimizer`` labels, ``seed``, ``status`` and ``hyperparameters``);
    ``metrics``: :class:`~ravine.study.records.MetricRow` lists by trial id. ``targets`` and
    ``higher_is_better`` are per problem label.
    """

    trials: list[Any]
    metrics: dict[int, list[MetricRow]]
    targets: dict[str, float | None] = field(default_factory=dict)
    higher_is_better: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def from_store(cls, store) -> Results:
        """Finished trials of a :class:`ravine.study.store.Store` with their metrics."""
        trials = store.trials(status=FINISHED)
        info = store.problem_info()
        targets = {k: v.get("target") for k, v in info.items()}
        higher = {k: bool(v.get("higher_is_better", True)) for k, v in info.items()}
        return cls(trials, store.metrics([t.id for t in trials]), targets, higher)

    # -- lookups --------------------------------------------------------------------

    def problems(self) -> list[str]:
        return list(dict.fromkeys(t.problem for t in self.trials))

    def optimizers(self, problem: str | None = None) -> list[str]:
        return list(dict.fromkeys(t.optimizer for t in self.trials if problem in (None, t.problem)))

    def select(self, problem: str, optimizer: str) -> list[Any]:
        return [t for t in self.trials if t.problem == problem and t.optimizer == optimizer]

    def hib(self, problem: str) -> bool:
        return self.higher_is_better.get(problem, True)

    def rows(self, trial: Any) -> list[MetricRow]:
        return self.metrics.get(trial.id) or []

    def score(self, trial: Any) -> float | None:
        """The final validation metric, or None for a diverged, failed or empty trial."""
        rows = self.rows(trial)
        return trial_score(trial.status, rows[-1] if rows else None)


def _settings(trials: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for t in trials:
        out.setdefault(setting_key(t.hyperparameters), []).append(t)
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
    """The best setting (:func:`~ravine.study.selection.best_setting`) as
    ``{"hyperparameters", "label", "selection_score", "selection_seeds", "trials"}``, or None
    when no setting has a score."""
    trials = results.select(problem, optimizer)
    best = best_setting(
        ((t.hyperparameters, t.seed, results.score(t)) for t in trials), results.hib(problem)
    )
    if best is None:
        return None
    chosen = [t for t in trials if setting_key(t.hyperparameters) == best.key]
    return {
        "hyperparameters": best.hyperparameters,
        "label": setting_label(best.hyperparameters),
        "selection_score": best.score,
        "selection_seeds": best.seeds,
        "trials": sorted(chosen, key=lambda t: t.seed),
    }


def _float32(x: float) -> float:
    """``x`` rounded to float32, the precision metrics are computed in."""
    return struct.unpack("f", struct.pack("f", x))[0]


def steps_to_target(rows: Sequence[MetricRow], target: float | None, higher: bool = True) -> float:
    """First evaluated step whose val_metric reaches ``target``; ``inf`` if none does. The
    comparison is made in float32, the metrics' precision, so that a metric equal to the
    target counts as reaching it (27/30 computed in float32 is 0.89999998 < 0.9)."""
    if target is None:
        return math.nan
    t = _float32(target)
    for r in rows:
        v = r.val_metric
        if v is None or not math.isfinite(v):
            continue
        v = _float32(v)
        if v >= t if higher else v <= t:
            return float(r.step)
    return math.inf


def _final_metrics(last: list[MetricRow]) -> dict[str, float]:
    """Mean, spread and range over seeds of the best setting's final rows."""
    vals = [float(r.val_metric) for r in last]
    return {
        "val_metric_mean": _mean(vals),
        "val_metric_std": _std(vals),
        "val_metric_min": min(vals),
        "val_metric_max": max(vals),
        "val_loss_mean": _mean([float(r.val_loss) for r in last]),
        "train_loss_mean": _mean([float(r.train_loss) for r in last]),
        "train_loss_std": _std([float(r.train_loss) for r in last]),
        "train_metric_mean": _mean([float(r.train_metric) for r in last]),
    }


def grid_edges(trials: list[Any], best: dict[str, Any]) -> dict[str, str]:
    """The tuned hyperparameters whose best value lies at the edge of the values tried: per
    name, ``"smallest"`` or ``"largest"`` when the best value is that end of three or more
    numeric values tried (a grid, or the samples of a random search), so the search should be
    widened before the comparison is trusted."""
    out = {}
    for hp, value in best.items():
        if not is_number(value):
            continue
        tried = {t.hyperparameters.get(hp) for t in trials}
        tried = {v for v in tried if is_number(v)}
        if len(tried) > 2 and value in (min(tried), max(tried)):
            out[hp] = "smallest" if value == min(tried) else "largest"
    return out


def schedules_label(trials: Sequence[Any]) -> str:
    """The schedule strings the trials ran with (``lr=cosine:1000``), empty when constant."""
    found: dict[str, str] = {}
    for t in trials:
        config = getattr(t, "config", None)
        found.update(getattr(config, "schedules", None) or {})
    return ", ".join(f"{hp}={text}" for hp, text in sorted(found.items()))


def _best_columns(results: Results, problem: str, optimizer: str) -> dict[str, Any]:
    """The summary columns of the best setting; empty when there is none."""
    best = best_settings(results, problem, optimizer)
    if best is None:
        return {}
    bt = best["trials"]
    target = results.targets.get(problem)
    steps = [steps_to_target(results.rows(t), target, results.hib(problem)) for t in bt]
    edges = grid_edges(results.select(problem, optimizer), best["hyperparameters"])
    return {
        "best": best["label"],
        "hyperparameters": best["hyperparameters"],
        "selection_score": best["selection_score"],
        "seeds": len(bt),
        **_final_metrics([results.rows(t)[-1] for t in bt if results.score(t) is not None]),
        "steps_to_target": _median(steps) if target is not None else math.nan,
        "lr_at_grid_edge": "lr" in edges,
        "grid_edge": edges,
        "schedules": schedules_label(bt),
        "steps_to_target_per_seed": steps,
    }


def summarize(results: Results) -> list[dict[str, Any]]:
    """One row per (problem, optimizer): best setting, final metrics over its seeds, steps to
    target, divergence rate (see the module docstring)."""
    out = []
    for problem in results.problems():
        for optimizer in results.optimizers(problem):
            trials = results.select(problem, optimizer)
            finished = [t for t in trials if t.status in FINISHED]
            diverged = sum(t.status == "diverged" for t in finished)
            out.append(
                {
                    "problem": problem,
                    "optimizer": optimizer,
                    "trials": len(finished),
                    "diverged": diverged,
                    "divergence_rate": diverged / len(finished) if finished else math.nan,
                    "best": None,
                    "seeds": 0,
                    "target": results.targets.get(problem),
                    "higher_is_better": results.hib(problem),
                    **_best_columns(results, problem, optimizer),
                }
            )
    return out


def sensitivity(results: Results, problem: str, hyperparameter: str = "lr") -> list[dict[str, Any]]:
    """Final validation metric against one hyperparameter (default lr), per optimizer: for each
    value, the best over the other hyperparameters of the mean over seeds, with its std and
    the number of diverged trials at that value."""
    out = []
    sign = 1.0 if results.hib(problem) else -1.0
    for optimizer in results.optimizers(problem):
        by_value: dict[Any, list[tuple[float, float, int, int]]] = defaultdict(list)
        for ts in _settings(results.select(problem, optimizer)).values():
            hps = ts[0].hyperparameters
            if hyperparameter not in hps:
                continue
            scores = [results.score(t) for t in ts]
            good = [s for s in scores if s is not None]
            n_div = sum(t.status == "diverged" for t in ts)
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
        rows = results.rows(t)
        per_seed[t.seed] = [getattr(r, column) for r in rows]
        if len(rows) > len(epochs):
            epochs = [r.epoch for r in rows]
    return {"label": best["label"], "epochs": epochs, "per_seed": per_seed}


def trial_curves(
    results: Results, problem: str, optimizer: str, column: str, x: str = "epoch"
) -> list[tuple[list[float], list[float]]]:
    """Every trial's curve of ``column`` against ``x`` (``epoch``, ``step`` or ``wall_time``),
    all settings and seeds, diverged ones up to their last finite value."""
    out = []
    for t in results.select(problem, optimizer):
        pts = [(getattr(r, x), getattr(r, column)) for r in results.rows(t)]
        pts = [(float(a), float(b)) for a, b in pts if b is not None and math.isfinite(float(b))]
        if pts:
            out.append(([a for a, _ in pts], [b for _, b in pts]))
    return out
