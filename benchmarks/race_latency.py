"""Race latency: the explorer's race, the reference path against the fast path.

The explorer's case: 6 optimizers (sgd, momentum, nesterov, rmsprop, adam, adagrad), 3
starts, 500 steps on a 2-D landscape, each at the landscape's default learning rate, all
measured (``ravine.race``: plan, steps, losses, outcomes). Both paths run in the same
process, interleaved in rounds with their order alternating; each round gives one sample of
each and their ratio. Reports the median over rounds with the range, the first call of
each (a fresh process pays imports and allocator warm-up once; the first round's samples),
the time to the first streamed chunk, the thread count and the load average.

    python benchmarks/race_latency.py                  # rosenbrock, 15 rounds
    python benchmarks/race_latency.py --landscape beale --rounds 25 --threads 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import ravine
from ravine.race import RacePlan, run, run_stream

NAMES = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adagrad"]


def starts_for(landscape: str) -> list[list[float]]:
    """Three starts spread over the landscape's domain."""
    f = ravine.landscapes.get(landscape)
    (ax, bx), (ay, by) = f.domain
    return [
        [ax + (bx - ax) * q, ay + (by - ay) * r] for q, r in ((0.2, 0.8), (0.5, 0.3), (0.8, 0.6))
    ]


def timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def parser(doc: str) -> argparse.ArgumentParser:
    """The options of the explorer's latency benchmarks (this one and explore_latency.py)."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--landscape", default="rosenbrock")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    return ap


def main() -> None:
    args = parser(__doc__).parse_args()
    torch.set_num_threads(args.threads)
    load = os.getloadavg()
    kwargs = {"starts": starts_for(args.landscape), "steps": args.steps}

    def race(fast: bool) -> None:  # the server's work: the plan checked, the race run
        run(RacePlan.build(args.landscape, NAMES, **kwargs), fast=fast)

    def first_chunk() -> None:
        plan = RacePlan.build(args.landscape, NAMES, **kwargs)
        next(run_stream(plan, first=25, every=100))

    # The process's first race pays the imports and the allocator's warm-up: the server's
    # first request, unless it races once at start.
    first = {"fast": timed(lambda: race(True)), "reference": timed(lambda: race(False))}
    samples: dict[str, list[float]] = {"reference": [], "fast": [], "first chunk": []}
    ratios = []
    for r in range(args.rounds):
        order = [False, True] if r % 2 == 0 else [True, False]
        got = {fast: timed(lambda fast=fast: race(fast)) for fast in order}
        samples["reference"].append(got[False])
        samples["fast"].append(got[True])
        samples["first chunk"].append(timed(first_chunk))
        ratios.append(got[False] / got[True])
    print(
        f"{args.landscape}: {len(NAMES)} optimizers x {len(kwargs['starts'])} starts x "
        f"{args.steps} steps; torch {torch.__version__}, {args.threads} thread(s), "
        f"{args.rounds} rounds"
    )
    print(f"load average before: {load}")
    print(
        f"first call in the process: fast {first['fast'] * 1e3:.0f} ms; "
        f"then the reference's first: {first['reference'] * 1e3:.0f} ms"
    )
    for name, xs in samples.items():
        print(
            f"{name:>12}: median {statistics.median(xs) * 1e3:6.1f} ms "
            f"(range {min(xs) * 1e3:.1f}-{max(xs) * 1e3:.1f})"
        )
    print(
        f"reference / fast: median {statistics.median(ratios):.2f}x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f})"
    )
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
