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

import torch

from ravine.bench.trials import measure


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
    rows = [
        row
        for problem in args.problems
        for row in measure(
            problem, args.optimizer, tuple(args.T), args.epochs, args.rounds,
            args.seq_trials, args.threads, args.engines,
        )
    ]  # fmt: skip
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
