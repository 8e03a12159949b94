"""Time of one optimizer step, ravine against torch.optim, side by side in one process.

Two shapes of problem: a small MLP (many small tensors: per-step overhead dominates) and one
large tensor (memory traffic dominates). Reports microseconds per step and the ratio
ravine / torch (below 1 means ravine is faster).

    python benchmarks/optimizer_step.py [--device cuda] [--repeat 200]
"""

from __future__ import annotations

import argparse
import time

import torch

import ravine.optim as ro

PAIRS = {
    "sgd": (lambda p: ro.SGD(p, lr=1e-3), lambda p: torch.optim.SGD(p, lr=1e-3)),
    "momentum": (
        lambda p: ro.Momentum(p, lr=1e-3, lr_in_velocity=False),
        lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9),
    ),
    "rmsprop": (
        lambda p: ro.RMSProp(p, decay=0.99),
        lambda p: torch.optim.RMSprop(p, alpha=0.99, lr=1e-3),
    ),
    "adam": (lambda p: ro.Adam(p), lambda p: torch.optim.Adam(p, foreach=False)),
    "adam (torch foreach)": (lambda p: ro.Adam(p), lambda p: torch.optim.Adam(p, foreach=True)),
}


def problems(device: str) -> dict[str, list[torch.Tensor]]:
    torch.manual_seed(0)
    mlp = [torch.randn(s, device=device) for s in [(256, 64), (256,), (256, 256), (256,)] * 4]
    large = [torch.randn(10_000_000, device=device)]
    return {"mlp (16 tensors, 0.3M)": mlp, "one tensor (10M)": large}


def time_steps(build, tensors: list[torch.Tensor], repeat: int, device: str) -> float:
    params = [torch.nn.Parameter(t.clone()) for t in tensors]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    opt = build(params)
    for _ in range(5):
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeat):
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, device {args.device}, threads {torch.get_num_threads()}")
    print(f"{'problem':<24}{'optimizer':<22}{'ravine us':>12}{'torch us':>12}{'ratio':>8}")
    for pname, tensors in problems(args.device).items():
        repeat = args.repeat if "mlp" in pname else max(5, args.repeat // 10)
        for oname, (ours, theirs) in PAIRS.items():
            a = time_steps(ours, tensors, repeat, args.device)
            b = time_steps(theirs, tensors, repeat, args.device)
            print(f"{pname:<24}{oname:<22}{a * 1e6:>12.0f}{b * 1e6:>12.0f}{a / b:>8.2f}")


if __name__ == "__main__":
    main()
