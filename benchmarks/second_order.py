"""Speed of ravine's second-order pieces against their peers, side by side, as ratios.

* ``ravine.optim.LBFGS`` against ``torch.optim.LBFGS`` (same settings, same iterates) on a
  small MLP, full batch, with and without the strong Wolfe line search;
* ``ravine.curvature.hvp`` (double backward, forward-over-reverse) against
  ``torch.autograd.functional.hvp`` and ``torch.func`` on the same model loss;
* ``ravine.curvature.hessian`` against ``torch.autograd.functional.hessian``.

Times are CPU seconds of the process on one thread (best of ``--repeats``); a ratio above 1
means ravine is slower. Run: python benchmarks/second_order.py
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

import ravine.optim as ro
from ravine import curvature


def best(fn, repeats: int) -> float:
    out = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        out.append(time.process_time() - t)
    return min(out)


def lbfgs_case(cls, line_search_fn, steps=30):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))
    x, y = torch.randn(512, 64), torch.randint(0, 10, (512,))
    opt = cls(
        net.parameters(), max_iter=1, max_eval=25, history_size=20, line_search_fn=line_search_fn
    )

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        return loss

    def run():
        for _ in range(steps):
            opt.step(closure)

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for ls in (None, "strong_wolfe"):
        ours = best(lbfgs_case(ro.LBFGS, ls), args.repeats)
        ref = best(lbfgs_case(torch.optim.LBFGS, ls), args.repeats)
        rows.append((f"LBFGS 30 steps, line_search_fn={ls}", ours, "torch.optim.LBFGS", ref))

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 4)).double()
    data = (torch.randn(256, 16, dtype=torch.float64), torch.randint(0, 4, (256,)))
    obj = curvature.objective(net, nn.functional.cross_entropy, data)
    x0 = obj.x0
    v = torch.randn_like(x0)
    reps = 20

    def ravine_rev():
        for _ in range(reps):
            curvature.hvp(obj, v, mode="reverse")

    def ravine_fwd():
        for _ in range(reps):
            curvature.hvp(obj, v, mode="forward")

    def torch_hvp():
        for _ in range(reps):
            torch.autograd.functional.hvp(obj.f, x0, v)

    ref = best(torch_hvp, args.repeats)
    rows.append(
        (
            f"{reps} HVPs, double backward",
            best(ravine_rev, args.repeats),
            "torch.autograd.functional.hvp",
            ref,
        )
    )
    rows.append(
        (
            f"{reps} HVPs, forward-over-reverse",
            best(ravine_fwd, args.repeats),
            "torch.autograd.functional.hvp",
            ref,
        )
    )
    ours = best(lambda: curvature.hessian(obj), args.repeats)
    ref = best(lambda: torch.autograd.functional.hessian(obj.f, x0), args.repeats)
    rows.append((f"dense Hessian, N={x0.numel()}", ours, "torch.autograd.functional.hessian", ref))
    ref_vec = best(
        lambda: torch.autograd.functional.hessian(obj.f, x0, vectorize=True), args.repeats
    )
    rows.append((f"dense Hessian, N={x0.numel()}", ours, "... hessian(vectorize=True)", ref_vec))

    print(f"{'case':<42} {'ravine s':>9} {'peer':<36} {'peer s':>9} {'ratio':>6}")
    for case, ours, peer, ref in rows:
        print(f"{case:<42} {ours:>9.4f} {peer:<36} {ref:>9.4f} {ours / ref:>6.2f}")


if __name__ == "__main__":
    main()
