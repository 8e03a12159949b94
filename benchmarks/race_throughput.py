"""Race throughput: trajectory-steps per second on Rosenbrock, ravine against its peers.

Three ways to run N trajectories (one learning rate each, log-spaced) of one optimizer:

* ``ravine``  ``ravine.race``: all N in one ``[2, N]`` tensor, one optimizer step per step,
  positions recorded, losses and gradient norms evaluated, outcomes classified;
* ``numpy``   the per-trajectory loop of the classic tutorials: a Python loop over steps
  for each trajectory, the analytic gradient and the update rule in numpy, path recorded;
* ``torch``   one ``torch.optim`` optimizer per trajectory on a 2-vector, autograd gradient.

The peers are slow, so they run a subset of trajectories and are scaled to N (their cost
is linear in N). All in float64. Reports trajectory-steps/s and ravine's speed-up ratios.

    python benchmarks/race_throughput.py                      # 1,024 and 16,384
    python benchmarks/race_throughput.py --threads 2 --steps 200 --json out.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np
import torch

import ravine

NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def lr_grid(n: int, name: str) -> np.ndarray:
    # stable learning rates for each rule from -1.5, 2 (so no peer wastes time on NaN)
    high = {"sgd": 1e-3, "momentum": 1e-4, "nesterov": 1e-4}.get(name, 1e-2)
    return np.geomspace(high * 1e-2, high, n)


# -------------------------------------------------------------------------- numpy peer


def rosen_grad(x: np.ndarray) -> np.ndarray:
    a, b = x
    return np.array([-400 * a * (b - a * a) - 2 * (1 - a), 200 * (b - a * a)])


def numpy_trajectory(name: str, lr: float, start: np.ndarray, steps: int) -> np.ndarray:
    """The textbook loop: one trajectory, one step at a time."""
    x = start.copy()
    path = [x.copy()]
    v = np.zeros(2)
    s = np.zeros(2)
    m = np.zeros(2)
    for t in range(1, steps + 1):
        g = rosen_grad(x)
        if name == "sgd":
            x = x - lr * g
        elif name == "momentum":
            v = 0.9 * v - lr * g
            x = x + v
        elif name == "nesterov":
            v = 0.9 * v + g
            x = x - lr * (g + 0.9 * v)
        elif name == "adagrad":
            s = s + g * g
            x = x - lr * g / (np.sqrt(s) + 1e-8)
        elif name == "rmsprop":
            s = 0.9 * s + 0.1 * g * g
            x = x - lr * g / (np.sqrt(s) + 1e-8)
        elif name == "adam":
            m = 0.9 * m + 0.1 * g
            s = 0.999 * s + 0.001 * g * g
            mh, sh = m / (1 - 0.9**t), s / (1 - 0.999**t)
            x = x - lr * mh / (np.sqrt(sh) + 1e-8)
        path.append(x.copy())
    return np.array(path)


# -------------------------------------------------------------------------- torch peer


def torch_optimizer(name: str, params, lr: float) -> torch.optim.Optimizer:
    return {
        "sgd": lambda: torch.optim.SGD(params, lr=lr),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
        "nesterov": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True),
        "adagrad": lambda: torch.optim.Adagrad(params, lr=lr, eps=1e-8),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-8),
        "adam": lambda: torch.optim.Adam(params, lr=lr),
    }[name]()


def torch_trajectory(name: str, lr: float, start: np.ndarray, steps: int) -> torch.Tensor:
    x = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(name, [x], lr)
    path = torch.empty(steps + 1, 2, dtype=torch.float64)
    path[0] = x.detach()
    for t in range(1, steps + 1):
        opt.zero_grad()
        loss = 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
        loss.backward()
        opt.step()
        path[t] = x.detach()
    return path


# -------------------------------------------------------------------------- timing


def first_write_cost(megabytes: int = 64) -> tuple[float, float]:
    """Seconds per 4 KiB page for the first write to freshly allocated memory, and for a
    second write to the same memory. A race writes every position, loss and gradient norm
    once: 8 (dim + 2) bytes per trajectory-step, so the first-write cost is a floor under
    its time that no arithmetic saving removes."""
    n = megabytes * (1 << 20) // 8
    pages = megabytes * (1 << 20) / 4096
    buf = torch.empty(n, dtype=torch.float64)
    t0 = time.perf_counter()
    buf.fill_(1.0)
    t1 = time.perf_counter()
    buf.fill_(2.0)
    t2 = time.perf_counter()
    return (t1 - t0) / pages, (t2 - t1) / pages


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 16384])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--numpy-subset", type=int, default=32)
    parser.add_argument("--torch-subset", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads (1: best on a busy CPU)"
    )
    parser.add_argument("--json", default=None, help="also write the rows to this file")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = np.array([-1.5, 2.0])
    steps = args.steps
    print(
        f"# race throughput on rosenbrock, {steps} steps, float64, torch {torch.__version__}, "
        f"{torch.get_num_threads()} thread(s), {platform.processor() or platform.machine()}"
    )
    ravine.race("rosenbrock", NAMES, lrs=1e-4, steps=2)  # warm-up (imports, first calls)
    first, again = first_write_cost()
    floor = 8 * (2 + 2) / 4096 * first
    print(
        f"# first write to fresh memory: {first * 1e6:.2f} us per 4 KiB page ({again * 1e6:.2f} "
        f"us to write it again): a floor of {floor * 1e9:.0f} ns per trajectory-step for "
        "recording position, loss and gradient norm"
    )
    rows = []
    header = (
        f"{'optimizer':<10} {'N':>6} {'ravine/s':>10} {'f32/s':>10} {'numpy/s':>10} "
        f"{'torch/s':>9} {'x numpy':>8} {'f32 x numpy':>12} {'x torch':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in NAMES:
        # peers: per trajectory, independent of N -> time a subset once per optimizer
        sub = lr_grid(args.numpy_subset, name)
        t_np = best_of(
            lambda name=name, sub=sub: [numpy_trajectory(name, lr, start, steps) for lr in sub],
            args.repeats,
        )
        np_rate = len(sub) * steps / t_np
        sub = lr_grid(args.torch_subset, name)
        t_th = best_of(
            lambda name=name, sub=sub: [torch_trajectory(name, lr, start, steps) for lr in sub],
            args.repeats,
        )
        th_rate = len(sub) * steps / t_th
        for n in args.sizes:
            lrs = lr_grid(n, name).tolist()
            t = best_of(
                lambda name=name, lrs=lrs: ravine.race("rosenbrock", [name], lrs=lrs, steps=steps),
                args.repeats,
            )
            rate = n * steps / t
            t32 = best_of(
                lambda name=name, lrs=lrs: ravine.race(
                    "rosenbrock", [name], lrs=lrs, steps=steps, dtype=torch.float32
                ),
                args.repeats,
            )
            rate32 = n * steps / t32
            row = {
                "optimizer": name,
                "trajectories": n,
                "steps": steps,
                "ravine": rate,
                "ravine_float32": rate32,
                "numpy": np_rate,
                "torch_optim": th_rate,
                "vs_numpy": rate / np_rate,
                "vs_torch_optim": rate / th_rate,
            }
            rows.append(row)
            print(
                f"{name:<10} {n:>6} {rate:>10.3g} {rate32:>10.3g} {np_rate:>10.3g} "
                f"{th_rate:>9.3g} {rate / np_rate:>7.0f}x {rate32 / np_rate:>11.0f}x "
                f"{rate / th_rate:>7.0f}x",
                flush=True,
            )
    for n in args.sizes:
        ratios = [r["vs_numpy"] for r in rows if r["trajectories"] == n]
        geo = float(np.exp(np.mean(np.log(ratios))))
        r32 = [r["ravine_float32"] / r["numpy"] for r in rows if r["trajectories"] == n]
        geo32 = float(np.exp(np.mean(np.log(r32))))
        print(
            f"# N={n}: geometric-mean speed-up over the numpy loop {geo:.0f}x in float64 "
            f"(min {min(ratios):.0f}x), {geo32:.0f}x in float32"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
