"""From a spec to trials: the full grid, the two-stage protocol and random search.

A trial config is a JSON-able dict; its SHA-256 identifies it in the store::

    {"problem": {"name", "options", "label", "target"}, "optimizer": {"name", "label"},
     "hyperparameters": {...}, "schedules": {...}, "seed": int, "budget": {...},
     "batch_size": int | "full", "eval_every": {...}, "device": str, "save_model": bool}

Under the two-stage protocol the second stage is derived from the first stage's results
(:func:`next_stage`), so a rerun or a second runner derives the same trials; the rerun of the
best setting on the tuning seed is the first-stage trial itself (same config, same hash).
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from .spec import Range, Spec, expand_values

__all__ = ["first_stage", "next_stage", "trial_config"]


def trial_config(
    spec: Spec, problem: dict[str, Any], optimizer: dict[str, Any], hps: dict[str, Any], seed: int
) -> dict[str, Any]:
    return {
        "problem": {
            "name": problem["name"],
            "options": problem["options"],
            "label": problem["label"],
            "target": problem.get("target"),
        },
        "optimizer": {"name": optimizer["name"], "label": optimizer["label"]},
        "hyperparameters": {k: list(v) if isinstance(v, tuple) else v for k, v in hps.items()},
        "schedules": dict(optimizer["schedules"]),
        "seed": int(seed),
        "budget": dict(spec.budget),
        "batch_size": spec.batch_size,
        "eval_every": dict(spec.eval_every),
        "device": spec.device,
        "save_model": spec.save_models,
        "threads": spec.threads,
    }


def grid(optimizer: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the optimizer's hyperparameter values (keys in sorted order)."""
    keys = sorted(optimizer["grid"])
    axes = []
    for k in keys:
        values = expand_values(k, optimizer["grid"][k])
        axes.append(values.grid() if isinstance(values, Range) else values)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]


def samples(optimizer: dict[str, Any], n: int, sample_seed: int) -> list[dict[str, Any]]:
    """``n`` random settings: log ranges log-uniform, linear ranges uniform, lists uniform.
    The generator is seeded by ``sample_seed`` and the optimizer's label only, so every problem
    sees the same settings and a rerun draws them again exactly."""
    rng = random.Random(f"{sample_seed}:{optimizer['label']}")
    keys = sorted(optimizer["grid"])
    out = []
    for _ in range(n):
        hps = {}
        for k in keys:
            values = expand_values(k, optimizer["grid"][k])
            hps[k] = values.sample(rng) if isinstance(values, Range) else rng.choice(values)
        out.append(hps)
    return out


def first_stage(spec: Spec) -> tuple[str, list[dict[str, Any]]]:
    """(stage name, trial configs) to start with."""
    kind = spec.protocol["kind"]
    configs = []
    for problem in spec.problems:
        for opt in spec.optimizers:
            if kind == "random":
                settings = samples(opt, spec.protocol["samples"], spec.protocol["sample_seed"])
            else:
                settings = grid(opt)
            seeds = [spec.protocol["tune_seed"]] if kind == "two_stage" else spec.seeds
            for hps in settings:
                for seed in seeds:
                    configs.append(trial_config(spec, problem, opt, hps, seed))
    return ("tune" if kind == "two_stage" else kind), configs


def next_stage(spec: Spec, store) -> tuple[str, list[dict[str, Any]]] | None:
    """The next stage's trials once the previous stage has finished, else None. Only the
    two-stage protocol has one: each optimizer's best tuning setting on every seed."""
    if spec.protocol["kind"] != "two_stage":
        return None
    counts = {
        s: n
        for s, n in store.conn.execute(
            "SELECT status, COUNT(*) FROM trials WHERE stage = 'tune' GROUP BY status"
        )
    }
    if counts.get("pending", 0) or counts.get("running", 0):
        return None
    from .summary import Results, best_settings

    results = Results.from_store(store)
    configs = []
    for problem in spec.problems:
        for opt in spec.optimizers:
            best = best_settings(results, problem["label"], opt["label"])
            if best is None:
                continue
            for seed in spec.seeds:
                configs.append(trial_config(spec, problem, opt, best["hyperparameters"], seed))
    return "final", configs
