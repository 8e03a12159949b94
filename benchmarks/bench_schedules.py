"""Cost of a scheduler step, ravine.schedules.Scheduler against torch.optim.lr_scheduler.

    python benchmarks/bench_schedules.py [--steps 20000]

Both drive the lr of the same torch.optim.SGD (one parameter, no gradient: the optimizer step
is a no-op, so the loop measures the scheduler). Reports microseconds per step and the ratio.
Also reports how far torch's recursive schedulers drift from the closed form over the run.
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch.optim import lr_scheduler as tls

from ravine import schedules as S

CASES = {
    "cosine": (lambda o, n: tls.CosineAnnealingLR(o, T_max=n), lambda n: S.cosine(n)),
    "step": (lambda o, n: tls.StepLR(o, 30, 0.7), lambda n: S.step_decay(30, 0.7)),
    "exponential": (lambda o, n: tls.ExponentialLR(o, 0.9995), lambda n: S.exponential(0.9995)),
    "one_cycle": (
        lambda o, n: tls.OneCycleLR(o, max_lr=0.1, total_steps=n + 1, cycle_momentum=False),
        lambda n: S.one_cycle(n + 1),
    ),
}


def run(make, steps: int, ravine: bool) -> tuple[float, list[float]]:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = S.Scheduler(opt, {"lr": make(steps)}) if ravine else make(opt, steps)
    lrs = []
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    return (time.perf_counter() - start) / steps * 1e6, lrs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=20_000)
    args = ap.parse_args()
    print(
        f"{'schedule':12s} {'torch us/step':>14s} {'ravine us/step':>15s} {'ratio':>6s} "
        f"{'max rel. diff':>14s}"
    )
    for name, (torch_make, ravine_make) in CASES.items():
        t_torch, a = run(torch_make, args.steps, ravine=False)
        t_ravine, b = run(ravine_make, args.steps, ravine=True)
        diff = max(
            abs(x - y) / max(abs(x), 1e-300)
            for x, y in zip(a, b, strict=True)
            if not math.isclose(x, 0.0, abs_tol=1e-12)
        )
        print(f"{name:12s} {t_torch:14.2f} {t_ravine:15.2f} {t_ravine / t_torch:6.2f} {diff:14.2e}")


if __name__ == "__main__":
    main()
