"""Step throughput: every elementwise algorithm on every ravine path against torch.optim's
for-loop, foreach, fused and (optionally) compiled steps, on parameter sets shaped like real
models, with the fraction of the memory-bandwidth floor each reaches.

The floor of an elementwise step is the bytes it must move (read the parameter, its gradient
and each state tensor, write the parameter and each state tensor: ``(3 + 2k)`` elements for
``k`` state tensors) at the copy bandwidth measured on the same machine, in the same run, by
copying that many bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from .. import optim as ro
from .optax_peers import optax_candidate
from .timing import Candidate, interleaved, median_range, round_times

__all__ = [
    "ALGORITHMS",
    "PARAMETER_SETS",
    "Algorithm",
    "Row",
    "measure_steps",
    "memory_table",
    "step_memory",
]


def _resnet18() -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = [(64, 3, 7, 7), (64,), (64,)]
    stages = [(64, 64, 0), (64, 64, 0), (64, 128, 1), (128, 128, 0),
              (128, 256, 1), (256, 256, 0), (256, 512, 1), (512, 512, 0)]  # fmt: skip
    for cin, cout, down in stages:
        shapes += [(cout, cin, 3, 3), (cout,), (cout,), (cout, cout, 3, 3), (cout,), (cout,)]
        if down:
            shapes += [(cout, cin, 1, 1), (cout,), (cout,)]
    return [*shapes, (1000, 512), (1000,)]


def _transformer(d: int = 768, layers: int = 12, vocab: int = 1000, ff: int = 3072):
    """A GPT-2-small-like decoder: embeddings, 12 layers of attention and MLP, final norm."""
    shapes: list[tuple[int, ...]] = [(vocab, d), (1024, d)]
    for _ in range(layers):
        shapes += [(d,), (d,), (3 * d, d), (3 * d,), (d, d), (d,)]
        shapes += [(d,), (d,), (ff, d), (ff,), (d, ff), (d,)]
    return [*shapes, (d,), (d,)]


PARAMETER_SETS: dict[str, Callable[[], list[tuple[int, ...]]]] = {
    "mlp": lambda: [(128, 64), (128,), (128, 128), (128,), (10, 128), (10,)],
    "resnet18": _resnet18,
    "transformer": _transformer,
    "one10M": lambda: [(10_000_000,)],
}


@dataclass(frozen=True)
class Algorithm:
    """A ravine optimizer and the torch.optim optimizer of the same math (or, where torch
    has none, of the same memory traffic: ``nearest``)."""

    ravine: Callable[..., torch.optim.Optimizer]
    torch_cls: type[torch.optim.Optimizer]
    torch_kwargs: dict[str, Any] = field(default_factory=dict)
    fused: bool = False  # torch has a fused kernel for it
    nearest: bool = False


LR = 1e-4
ALGORITHMS: dict[str, Algorithm] = {
    "sgd": Algorithm(lambda p, **k: ro.SGD(p, lr=LR, **k), torch.optim.SGD, {"lr": LR}, True),
    "momentum": Algorithm(
        lambda p, **k: ro.Momentum(p, lr=LR, lr_in_velocity=False, **k),
        torch.optim.SGD, {"lr": LR, "momentum": 0.9}, True,
    ),
    "nesterov": Algorithm(
        lambda p, **k: ro.Nesterov(p, lr=LR, **k),
        torch.optim.SGD, {"lr": LR, "momentum": 0.9, "nesterov": True}, True,
    ),
    "adagrad": Algorithm(
        lambda p, **k: ro.AdaGrad(p, lr=LR, eps=1e-10, **k), torch.optim.Adagrad, {"lr": LR}, True
    ),
    "rmsprop": Algorithm(
        lambda p, **k: ro.RMSProp(p, lr=LR, decay=0.99, **k), torch.optim.RMSprop, {"lr": LR}
    ),
    "adadelta": Algorithm(lambda p, **k: ro.AdaDelta(p, **k), torch.optim.Adadelta),
    "adam": Algorithm(lambda p, **k: ro.Adam(p, lr=LR, **k), torch.optim.Adam, {"lr": LR}, True),
    "adamw": Algorithm(
        lambda p, **k: ro.AdamW(p, lr=LR, **k), torch.optim.AdamW, {"lr": LR}, True
    ),
    "adamax": Algorithm(lambda p, **k: ro.AdaMax(p, lr=LR, **k), torch.optim.Adamax, {"lr": LR}),
    "nadam": Algorithm(
        lambda p, **k: ro.Nadam(p, lr=LR, momentum_decay=4e-3, **k), torch.optim.NAdam, {"lr": LR}
    ),
    "adabelief": Algorithm(
        lambda p, **k: ro.AdaBelief(p, lr=LR, **k), torch.optim.Adam, {"lr": LR}, True, True
    ),
}  # fmt: skip

# Conventions torch does not have, against its algorithm of the same memory traffic.
CONVENTIONS: dict[str, Algorithm] = {
    "momentum-classic": Algorithm(
        lambda p, **k: ro.Momentum(p, lr=LR, **k),
        torch.optim.SGD, {"lr": LR, "momentum": 0.9}, True, True,
    ),
    "adam-uncorrected": Algorithm(
        lambda p, **k: ro.Adam(p, lr=LR, bias_correction=False, **k),
        torch.optim.Adam, {"lr": LR}, True, True,
    ),
    "adagrad-optax": Algorithm(
        lambda p, **k: ro.AdaGrad(p, lr=LR, initial_accumulator=0.1, eps_in_sqrt=True, **k),
        torch.optim.Adagrad, {"lr": LR, "initial_accumulator_value": 0.1}, True, True,
    ),
    "rmsprop-eps-in-sqrt": Algorithm(
        lambda p, **k: ro.RMSProp(p, lr=LR, eps_in_sqrt=True, **k),
        torch.optim.RMSprop, {"lr": LR, "alpha": 0.9}, False, True,
    ),
}  # fmt: skip
ALGORITHMS |= CONVENTIONS

RAVINE_PATHS = {
    "ravine": {},  # the default: eager multi-tensor, compiled on large CPU groups and CUDA
    "ravine eager": {"foreach": True},
    "ravine compiled": {"compile": True},
    # torch checks no gradient: the same step without ravine's finiteness check
    "ravine compiled -c": {"compile": True, "check_finite": False},
    "ravine per-tensor": {"foreach": False},
}
TORCH_PATHS = {"torch for-loop": {"foreach": False}, "torch foreach": {"foreach": True},
               "torch fused": {"fused": True}}  # fmt: skip


@dataclass
class Row:
    """One candidate's figures on one parameter set."""

    algorithm: str
    path: str
    ms: float
    ms_range: tuple[float, float]
    floor_fraction: float
    ratio: float | None  # median over rounds of this time / the best peer's time
    ratio_range: tuple[float, float] | None
    warmup: float
    # median over rounds of this time / torch's foreach and fused times (None: no fused)
    to_foreach: float | None = None
    to_fused: float | None = None
    to_optax: float | None = None


def make_parameters(set_name: str, device: torch.device, dtype: torch.dtype):
    """The parameter set with fixed gradients, and a reset that restores the gradients
    (torch's foreach Nesterov adds into them in place)."""
    g = torch.Generator().manual_seed(0)
    params = []
    for shape in PARAMETER_SETS[set_name]():
        p = torch.nn.Parameter(torch.randn(shape, generator=g).to(device, dtype))
        p.grad = (torch.randn(shape, generator=g) * 1e-3).to(device, dtype)
        params.append(p)
    saved = [p.grad.clone() for p in params]

    def reset() -> None:
        torch._foreach_copy_([p.grad for p in params], saved)

    return params, reset


def copy_bandwidth(elements: int, device: torch.device, dtype: torch.dtype) -> float:
    """Bytes per second of ``dst.copy_(src)`` over ``elements`` elements (read + write)."""
    src = torch.randn(elements, device=device).to(dtype)
    dst = torch.empty_like(src)
    c = Candidate("copy", lambda: dst.copy_(src))
    interleaved([c], rounds=3, per_round=5, device=device)
    seconds = min(min(s) for s in c.samples)
    return 2 * elements * src.element_size() / seconds


def _state_tensors(opt: torch.optim.Optimizer, params: list[torch.Tensor]) -> int:
    """How many parameter-sized state tensors the optimizer keeps (k of the floor)."""
    st = opt.state[params[-1]]
    return sum(1 for v in st.values() if torch.is_tensor(v) and v.shape == params[-1].shape)


def candidates_for(name: str, params, reset, torch_compile: bool) -> list[Candidate]:
    algo = ALGORITHMS[name]
    out = []
    for label, options in RAVINE_PATHS.items():
        opt = algo.ravine(params, **options)
        out.append(Candidate(label, opt.step, reset, owner=opt))
    for label, options in TORCH_PATHS.items():
        if label == "torch fused" and not algo.fused:
            continue
        opt = algo.torch_cls(params, **algo.torch_kwargs, **options)
        out.append(Candidate(label, opt.step, reset, owner=opt))
    if torch_compile:
        opt = algo.torch_cls(params, **algo.torch_kwargs)
        out.append(Candidate("torch compiled", torch.compile(opt.step), reset))
    peer = optax_candidate(name, params)
    if peer is not None:
        out.append(peer)
    return out


def measure_steps(
    set_name: str,
    algorithms: list[str],
    *,
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    rounds: int = 5,
    per_round: int = 3,
    torch_compile: bool = False,
    progress: Callable[[str], object] | None = None,
) -> list[Row]:
    """Time every path of each algorithm on one parameter set; rows in candidate order."""
    params, reset = make_parameters(set_name, device, dtype)
    elements = sum(p.numel() for p in params)
    bandwidth = copy_bandwidth(elements, device, dtype)
    rows: list[Row] = []
    for name in algorithms:
        cands = candidates_for(name, params, reset, torch_compile)
        interleaved(cands, rounds, per_round, device)
        k = _state_tensors(cands[0].owner, params)
        rows += _rows(name, cands, elements, dtype, bandwidth, k)
        if progress is not None:
            progress(name)
    return rows


def _rows(name, cands, elements, dtype, bandwidth, k) -> list[Row]:
    peers = [c for c in cands if c.name.startswith("torch")]
    best_peer = [min(ts) for ts in zip(*(round_times(c) for c in peers), strict=True)]
    by_name = {c.name: round_times(c) for c in cands}
    out = []
    for c in cands:
        times = round_times(c)
        ms, lo, hi = median_range([t * 1e3 for t in times])
        floor = elements * torch.empty((), dtype=dtype).element_size() * (3 + 2 * k) / bandwidth
        r, rlo, rhi = _ratio(times, best_peer)
        row = Row(name, c.name, ms, (lo, hi), floor / (ms / 1e3), r, (rlo, rhi), c.warmup)
        row.to_foreach = _ratio(times, by_name["torch foreach"])[0]
        if "torch fused" in by_name:
            row.to_fused = _ratio(times, by_name["torch fused"])[0]
        if "optax jit" in by_name:
            row.to_optax = _ratio(times, by_name["optax jit"])[0]
        out.append(row)
    return out


def _ratio(times: list[float], peer: list[float]) -> tuple[float, float, float]:
    """Median and range over rounds of the ratio of two candidates' round times."""
    return median_range([t / b for t, b in zip(times, peer, strict=True)])


def step_memory(step: Callable[[], object], device: torch.device) -> tuple[float, float]:
    """Bytes allocated during one call of ``step``, and the most of them live at once: on
    the CPU from the profiler's allocation events in time order (RSS would read zero, as
    freed pages are reused), on CUDA from the caching allocator's statistics."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_stats(device)["allocated_bytes.all.allocated"]
        step()
        torch.cuda.synchronize(device)
        stats = torch.cuda.memory_stats(device)
        total = stats["allocated_bytes.all.allocated"] - before
        return float(total), float(torch.cuda.max_memory_allocated(device) - base)
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    live = peak = total = 0
    for e in sorted(events, key=lambda e: e.start_ns()):
        live += e.nbytes()
        total += max(e.nbytes(), 0)
        peak = max(peak, live)
    return float(total), float(peak)


def memory_table(
    set_name: str, algorithms: list[str], device: torch.device, dtype: torch.dtype
) -> list[str]:
    """Bytes allocated during one step (after two warm-up steps) and their peak, per path."""
    params, reset = make_parameters(set_name, device, dtype)
    size = sum(p.numel() * p.element_size() for p in params)
    lines = [f"memory during one step on {set_name} (parameters: {size / 2**20:.0f} MiB)",
             f"{'algorithm':<10} {'path':<18} {'allocated MiB':>14} {'peak MiB':>9}"]  # fmt: skip
    for name in algorithms:
        for c in candidates_for(name, params, reset, torch_compile=False):
            if c.owner is None:
                continue  # not a torch optimizer: its allocations are not torch's to see
            for _ in range(2):
                c.reset()
                c.run()
            c.reset()
            total, peak = step_memory(c.run, device)
            lines.append(f"{name:<10} {c.name:<18} {total / 2**20:14.1f} {peak / 2**20:9.1f}")
            if c.owner is not None:
                c.owner.state.clear()  # free this candidate's state before the next
    return lines


def format_rows(rows: list[Row]) -> list[str]:
    """The table, one line per candidate."""
    lines = [f"{'algorithm':<20} {'path':<18} {'ms/step':>9} {'(range)':>17} {'of floor':>8} "
             f"{'/ best torch':>12} {'(range)':>11} {'/ foreach':>9} {'/ fused':>7} "
             f"{'warm-up':>8}"]  # fmt: skip
    for r in rows:
        ratio = f"{r.ratio:.2f}" if r.ratio is not None else "-"
        rr = f"{r.ratio_range[0]:.2f}-{r.ratio_range[1]:.2f}" if r.ratio_range else ""
        fe = f"{r.to_foreach:.2f}" if r.to_foreach is not None else "-"
        fu = f"{r.to_fused:.2f}" if r.to_fused is not None else "-"
        lines.append(
            f"{r.algorithm:<20} {r.path:<18} {r.ms:9.3f} "
            f"{f'{r.ms_range[0]:.3f}-{r.ms_range[1]:.3f}':>17} {r.floor_fraction:8.2f} "
            f"{ratio:>12} {rr:>11} {fe:>9} {fu:>7} {r.warmup:7.2f}s"
        )
    return lines


def format_summary(rows: list[Row]) -> list[str]:
    """One line per algorithm: each ravine path against the torch path the targets name
    (the default and eager paths against foreach; the compiled ones against fused where
    torch has a fused kernel, else foreach), medians over rounds of per-round ratios."""
    head = (f"{'algorithm':<20} {'default/foreach':>15} {'eager/foreach':>13} "
            f"{'compiled/peer':>13} {'unchecked/peer':>14} {'peer':>7} {'warm-up':>8}")  # fmt: skip
    if any(r.to_optax for r in rows):
        head += f" {'default/optax':>13}"
    lines = [head]
    for name in dict.fromkeys(r.algorithm for r in rows):
        mine = {r.path: r for r in rows if r.algorithm == name}
        peer = "fused" if mine["ravine compiled"].to_fused is not None else "foreach"
        pairs = [("ravine", "foreach"), ("ravine eager", "foreach"),
                 ("ravine compiled", peer), ("ravine compiled -c", peer)]  # fmt: skip
        cells = [_versus(mine, path, against) for path, against in pairs]
        shown = f"{name}*" if ALGORITHMS[name].nearest else name
        lines.append(
            f"{shown:<20} {cells[0]:>15} {cells[1]:>13} {cells[2]:>13} {cells[3]:>14} "
            f"{peer:>7} {mine['ravine compiled'].warmup:7.2f}s"
            + (f" {mine['ravine'].to_optax:13.2f}" if mine["ravine"].to_optax else "")
        )
    if any(ALGORITHMS[name].nearest for name in dict.fromkeys(r.algorithm for r in rows)):
        lines.append("* a convention torch lacks: against its algorithm of the same memory traffic")
    return lines


def _versus(rows: dict[str, Row], path: str, peer: str) -> str:
    r = rows[path]
    return f"{(r.to_fused if peer == 'fused' else r.to_foreach):.2f}"
