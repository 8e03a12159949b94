"""From a spec to trials: the full grid, the two-stage protocol and random search.

Each trial is a :class:`~ravine.study.records.TrialConfig`; the SHA-256 of its JSON form
identifies it in the store. Under the two-stage protocol the second stage is derived from the
first stage's results (:func:`next_stage`), so a rerun or a second runner derives the same
trials; the rerun of the best setting on the tuning seed is the first-stage trial itself
(same config, same hash).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from .records import FINISHED, OptimizerSpec, ProblemSpec, TrialConfig, trial_score
from .selection import best_setting
from .spec import Spec
from .values import Range

__all__ = ["first_stage", "grid", "next_stage", "samples", "trial_config"]


def trial_config(
    spec: Spec, problem: ProblemSpec, optimizer: OptimizerSpec, hps: dict[str, Any], seed: int
) -> TrialConfig:
    """The trial of ``optimizer`` at the setting ``hps`` on ``problem`` from ``seed``."""
    return TrialConfig(
        problem=problem,
        optimizer=optimizer.name,
        optimizer_label=optimizer.label,
        hyperparameters={k: tuple(v) if isinstance(v, list) else v for k, v in hps.items()},
        seed=int(seed),
        budget=spec.budget,
        batch_size=spec.batch_size,
        eval_every=spec.eval_every,
        schedules=dict(optimizer.schedules),
        device=spec.device,
        save_model=spec.save_models,
        threads=spec.threads,
        diverge_factor=spec.diverge_factor,
    )


def grid(optimizer: OptimizerSpec) -> list[dict[str, Any]]:
    """Every combination of the optimizer's hyperparameter values (keys in sorted order)."""
    keys = sorted(optimizer.values)
    axes = [v.grid() if isinstance(v, Range) else v for v in (optimizer.values[k] for k in keys)]
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]


def samples(optimizer: OptimizerSpec, n: int, sample_seed: int) -> list[dict[str, Any]]:
    """``n`` random settings: log ranges log-uniform, linear ranges uniform, lists uniform.
    The generator is seeded by ``sample_seed`` and the optimizer's label only, so every problem
    sees the same settings and a rerun draws them again exactly."""
    rng = random.Random(f"{sample_seed}:{optimizer.label}")
    keys = sorted(optimizer.values)
    out = []
    for _ in range(n):
        hps = {}
        for k in keys:
            values = optimizer.values[k]
            hps[k] = values.sample(rng) if isinstance(values, Range) else rng.choice(values)
        out.append(hps)
    return out


def first_stage(spec: Spec) -> tuple[str, list[TrialConfig]]:
    """(stage name, trial configs) to start with."""
    protocol = spec.protocol
    seeds = [protocol.tune_seed] if protocol.kind == "two_stage" else spec.seeds
    configs = []
    for problem in spec.problems:
        for opt in spec.optimizers:
            if protocol.kind == "random":
                settings = samples(opt, protocol.samples, protocol.sample_seed)
            else:
                settings = grid(opt)
            for hps in settings:
                for seed in seeds:
                    configs.append(trial_config(spec, problem, opt, hps, seed))
    return ("tune" if protocol.kind == "two_stage" else protocol.kind), configs


def next_stage(spec: Spec, store) -> tuple[str, list[TrialConfig]] | None:
    """The next stage's trials once the previous stage has finished, else None. Only the
    two-stage protocol has one: each optimizer's best tuning setting
    (:func:`~ravine.study.selection.best_setting`) on every seed."""
    if spec.protocol.kind != "two_stage":
        return None
    counts = store.counts(stage="tune")
    if counts["pending"] or counts["running"]:
        return None
    tuned = store.trials(FINISHED, stage="tune")
    final = store.final_rows(t.id for t in tuned)
    info = store.problem_info()
    configs = []
    for problem in spec.problems:
        higher = bool(info.get(problem.label, {}).get("higher_is_better", True))
        for opt in spec.optimizers:
            best = best_setting(
                (
                    (t.hyperparameters, t.seed, trial_score(t.status, final.get(t.id)))
                    for t in tuned
                    if t.problem == problem.label and t.optimizer == opt.label
                ),
                higher,
            )
            if best is not None:
                configs += [
                    trial_config(spec, problem, opt, best.hyperparameters, seed)
                    for seed in spec.seeds
                ]
    return "final", configs
