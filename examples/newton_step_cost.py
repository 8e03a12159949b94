"""Cost of one exact Newton step against the parameter count N.

The test function f(x) = sum_i softplus(x_i) + 1/2 sum_i (x_{i+1} - x_i)^2 has a gradient that
costs O(N), so what grows faster is the Newton step itself: forming the dense Hessian (N
Hessian-vector products, N^2 entries of memory) and solving with it (O(N^3) time). For each N
the script times (CPU time of the process, one thread) the Hessian
(ravine.curvature.hessian_graph), the solve
(ravine.optim.newton.newton_direction) and a full ravine.optim.Newton step, records the bytes of
the Hessian tensor, and fits the log-log slopes over the largest sizes.

Prints a table and writes docs/figures/second_order/newton_step_cost.png.
Run: python examples/newton_step_cost.py   (about a minute; --sizes 128,...,4096 for more)
"""

from __future__ import annotations

import math
import time

import torch
from _common import FIGURES, made, parser

import ravine.optim as ro
from ravine.curvature import hessian_graph
from ravine.optim.newton import newton_direction
from ravine.plot.curvature import cost_vs_parameters

torch.set_default_dtype(torch.float64)


def f(x: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.softplus(x).sum() + 0.5 * ((x[1:] - x[:-1]) ** 2).sum()


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def slope(ns, ys) -> float:
    """Least-squares slope of log y against log N."""
    lx = [math.log(n) for n in ns]
    ly = [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum(
        (a - mx) ** 2 for a in lx
    )


def main() -> None:
    ap = parser(__doc__, FIGURES / "second_order")
    ap.add_argument("--sizes", default="128,256,512,1024,2048")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ns = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in ns:
        x = torch.randn(n, generator=torch.Generator().manual_seed(n), requires_grad=True)

        def build(x=x):
            with torch.enable_grad():
                (g,) = torch.autograd.grad(f(x), x, create_graph=True)
                return hessian_graph([g], [x]).detach()

        h = build()
        g = torch.autograd.grad(f(x), x)[0]
        t_hess = best_of(build)
        t_solve = best_of(lambda h=h, g=g: newton_direction(h, g))
        opt = ro.Newton([x], max_params=max(ns))
        t_step = best_of(lambda opt=opt, x=x: opt.step(lambda: f(x)))
        rows.append((n, t_hess, t_solve, t_step, h.numel() * h.element_size()))
        print(
            f"N={n:>5}  hessian {t_hess * 1e3:9.2f} ms  solve {t_solve * 1e3:9.2f} ms  "
            f"step {t_step * 1e3:9.2f} ms  hessian memory {rows[-1][4] / 2**20:8.1f} MiB",
            flush=True,
        )
    big = ns[-3:]
    tail = rows[-3:]
    print(
        f"log-log slopes over N={big}: hessian time {slope(big, [r[1] for r in tail]):.2f}, "
        f"solve time {slope(big, [r[2] for r in tail]):.2f}, "
        f"step time {slope(big, [r[3] for r in tail]):.2f}, "
        f"memory {slope(big, [r[4] for r in tail]):.2f}"
    )
    out = made(args.out)
    p1 = cost_vs_parameters(
        ns,
        {
            "Hessian (N HVPs)": [r[1] for r in rows],
            "solve (N^3)": [r[2] for r in rows],
            "Newton step": [r[3] for r in rows],
        },
        out / "newton_step_cost.png",
        reference_slopes={"solve (N^3)": 3.0, "Hessian (N HVPs)": 2.0},
        title="Exact Newton step: time (dotted: N^2, N^3)",
    )
    p2 = cost_vs_parameters(
        ns,
        {"Hessian memory": [r[4] / 2**20 for r in rows]},
        out / "newton_step_memory.png",
        ylabel="MiB",
        reference_slopes={"Hessian memory": 2.0},
        title="Exact Newton step: memory (dotted: N^2)",
    )
    print("wrote", p1, p2)


if __name__ == "__main__":
    main()
