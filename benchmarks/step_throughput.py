"""Step throughput of every elementwise ravine optimizer on every path, against torch.optim's
for-loop, foreach, fused and (``--torch-compile``) compiled steps, in one process,
interleaved in rounds. Prints ms per step, the fraction of the memory-bandwidth floor and the
ratio to the best torch path (median over rounds, with its range).

    python benchmarks/step_throughput.py                       # every set and algorithm, CPU
    python benchmarks/step_throughput.py --sets mlp,resnet18 --algorithms adam,sgd
    python benchmarks/step_throughput.py --device cuda --memory
"""

from __future__ import annotations

import argparse

import torch

from ravine.bench import steps
from ravine.bench.timing import machine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(steps.PARAMETER_SETS))
    parser.add_argument("--algorithms", default=",".join(steps.ALGORITHMS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64", "bfloat16"])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--torch-compile",
        action="store_true",
        help="add torch.compile(opt.step) as a peer (minutes of warm-up)",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also report bytes allocated during one step, per path",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device, dtype = torch.device(args.device), getattr(torch, args.dtype)
    print(machine(device))
    for set_name in args.sets.split(","):
        print(f"\n== {set_name}: {len(steps.PARAMETER_SETS[set_name]())} tensors, {args.dtype}")
        rows = steps.measure_steps(
            set_name, args.algorithms.split(","), device=device, dtype=dtype,
            rounds=args.rounds, per_round=args.per_round, torch_compile=args.torch_compile,
        )  # fmt: skip
        print("\n".join(steps.format_rows(rows)))
        print("\nsummary (ratios of step times; below 1: ravine faster)")
        print("\n".join(steps.format_summary(rows)))
        if args.memory:
            for line in steps.memory_table(set_name, args.algorithms.split(","), device, dtype):
                print(line)
    print(f"\nafter: {machine(device)}")


if __name__ == "__main__":
    main()
