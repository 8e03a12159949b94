"""Batched trials: trials per second of the sequential runner against T trials as one batch.

For each problem and each T, T trials of one optimizer (log-spaced learning rates, one seed
each) run two ways, in the same process, interleaved in rounds:

* ``sequential``  :func:`ravine.study.run_trial` on each config, one after another (what
  ``ravine study run --no-batch`` does); its cost is linear in T, so it runs
  ``min(T, --seq-trials)`` trials a round and is scaled to T;
* ``batched``     :func:`ravine.study.batched.run_batch` on the T configs: one computation
  (stacked layers for MLPs, ``torch.func.vmap`` for other models);
* ``vmap``        (MLPs, with ``--engines``) the same batch forced through ``vmap``, to
  compare the two ways of stacking a model.

Both record every evaluation row, as a study does. Reports the median over rounds of trials
per second and of the ratio batched / sequential, with torch's thread count and
``os.getloadavg()`` before and after (the machine's load moves the figures). Not a test:
nothing here asserts a time.

    python benchmarks/batched_trials.py                                  # digits MLP, T=1..64
    python benchmarks/batched_trials.py --problems digits_mlp digits_cnn mnist1d --epochs 3
    python benchmarks/batched_trials.py --threads 2 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Any

import torch

from ravine.study import batched
from ravine.study.batched import run_batch
from ravine.study.trial import run_trial


def configs(problem: str, optimizer: str, T: int, epochs: int, threads: int) -> list[dict]:
    """T trials: learning rates log-spaced over two decades, seed i for trial i."""
    base = 0.1 if optimizer == "sgd" else 1e-3
    return [
        {
            "problem": {"name": problem, "options": {}, "label": problem},
            "optimizer": {"name": optimizer, "label": optimizer},
            "hyperparameters": {"lr": base * 10 ** (i / max(T - 1, 1) - 1.0)},
            "schedules": {},
            "seed": i,
            "budget": {"epochs": epochs},
            "batch_size": 64,
            "eval_every": {"epochs": 1},
            "device": "cpu",
            "save_model": True,
            "threads": threads,
        }
        for i in range(T)
    ]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def sequential_rate(cfgs: list[dict], seq_trials: int) -> float:
    part = cfgs[:seq_trials]
    return len(part) / timed(lambda: [run_trial(c) for c in part])


def batched_rate(cfgs: list[dict], force_vmap: bool = False) -> float:
    stacked = batched._stacked_mlp
    if force_vmap:
        batched._stacked_mlp = lambda skeleton: None
    try:
        results: list[dict[str, Any]] = []
        seconds = timed(lambda: results.extend(run_batch(cfgs)))
    finally:
        batched._stacked_mlp = stacked
    if len(cfgs) > 1 and "batch" not in results[0]["environment"]:
        raise RuntimeError(f"the batch ran one trial at a time: {results[0]['environment']}")
    return len(cfgs) / seconds


def measure(args: argparse.Namespace, problem: str) -> list[dict[str, Any]]:
    """Median trials/s per T over the rounds, sequential and batched interleaved."""
    warm = configs(problem, args.optimizer, 2, 1, args.threads)
    run_batch(warm)  # load the data, warm the kernels
    run_trial(warm[0])
    mlp = problem in {"digits_mlp", "mnist1d", "moons", "logreg"}
    samples: dict[int, dict[str, list[float]]] = {T: {} for T in args.T}
    for _ in range(args.rounds):
        for T in args.T:
            cfgs = configs(problem, args.optimizer, T, args.epochs, args.threads)
            s = samples[T]
            s.setdefault("sequential", []).append(sequential_rate(cfgs, args.seq_trials))
            s.setdefault("batched", []).append(batched_rate(cfgs))
            if args.engines and mlp and T > 1:
                s.setdefault("vmap", []).append(batched_rate(cfgs, force_vmap=True))
    rows = []
    for T, s in samples.items():
        row: dict[str, Any] = {"problem": problem, "T": T}
        for k, v in s.items():
            row[k] = statistics.median(v)
        ratios = [b / q for b, q in zip(s["batched"], s["sequential"], strict=True)]
        row["ratio"] = statistics.median(ratios)
        rows.append(row)
        print(
            f"{problem:<11} T={T:<3} sequential {row['sequential']:8.1f}/s  "
            f"batched {row['batched']:8.1f}/s"
            + (f"  vmap {row['vmap']:8.1f}/s" if "vmap" in row else "")
            + f"  ratio {row['ratio']:5.1f}x",
            flush=True,
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--problems", nargs="+", default=["digits_mlp"])
    p.add_argument("--optimizer", default="adam")
    p.add_argument("--T", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seq-trials", type=int, default=8, help="sequential trials per round")
    p.add_argument("--threads", type=int, default=1, help="torch threads (the config's)")
    p.add_argument("--engines", action="store_true", help="also time MLPs through vmap")
    p.add_argument("--json", default=None, help="write the results here")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
        f"{args.optimizer}, {args.epochs} epochs, batches of 64, {args.rounds} rounds; "
        f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}",
        flush=True,
    )
    rows = [row for problem in args.problems for row in measure(args, problem)]
    load_after = os.getloadavg()
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        info = {
            "threads": args.threads,
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "optimizer": args.optimizer,
            "epochs": args.epochs,
            "rounds": args.rounds,
            "loadavg_before": load_before,
            "loadavg_after": load_after,
        }
        with open(args.json, "w") as f:
            json.dump({"info": info, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
