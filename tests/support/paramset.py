"""A parameter set that exercises every corner of the multi-tensor path, and its loss.

Two param groups; float64 and float32 parameters in the same group; a parameter larger
than the chunk size the tests set (so it is cut into slices) and small ones (packed); a
non-contiguous parameter (served by the reference path), a zero-size one, a 0-d one and
one that never gets a gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# name: (shape, dtype, group, takes part in the loss)
LAYOUT = {
    "w1": ((7, 5), torch.float64, 0, True),
    "b1": ((7,), torch.float64, 0, True),
    "big": ((40, 9), torch.float64, 0, True),
    "transposed": ((6, 4), torch.float64, 0, True),
    "empty": ((0, 3), torch.float64, 1, True),
    "scalar": ((), torch.float64, 1, True),
    "single": ((5, 3), torch.float32, 1, True),
    "frozen": ((4,), torch.float64, 1, False),
}
CHUNK_SIZE = 50  # "big" (360 elements) becomes 8 slices, the others pack


def make_params(seed: int = 0) -> dict[str, torch.nn.Parameter]:
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, (shape, dtype, _, _) in LAYOUT.items():
        value = torch.randn(shape, generator=g, dtype=torch.float64).to(dtype)
        if name == "transposed":
            value = torch.randn(shape[::-1], generator=g, dtype=torch.float64).t()
        out[name] = torch.nn.Parameter(value)
    assert not out["transposed"].is_contiguous()
    return out


def groups(params: dict[str, torch.nn.Parameter], **group1) -> list[dict]:
    """The two param groups; group 0 has its own learning rate and weight decay."""
    first = [p for n, p in params.items() if LAYOUT[n][2] == 0]
    second = [p for n, p in params.items() if LAYOUT[n][2] == 1]
    return [{"params": first, "lr": 3e-3, "weight_decay": 0.05}, {"params": second, **group1}]


def loss(params: dict[str, torch.nn.Parameter], step: int) -> torch.Tensor:
    """A smooth loss of every parameter but "frozen", changing with ``step`` so that the
    gradients differ between steps."""
    total = torch.zeros((), dtype=torch.float64)
    for i, (name, p) in enumerate(params.items()):
        if not LAYOUT[name][3]:
            continue
        x = p.double()
        shift = 0.1 * (i + 1) * (1 + step % 3)
        total = total + ((x - shift) ** 2).sum() + 0.05 * (x**4).sum() + (x * shift).sin().sum()
    return total


def closure_for(opt, params, counter: list[int]) -> Callable[[], torch.Tensor]:
    def closure() -> torch.Tensor:
        opt.zero_grad()
        value = loss(params, counter[0])
        value.backward()
        return value

    return closure


def run(build, steps: int, params=None, opt=None, start: int = 0):
    """``steps`` steps of the optimizer ``build(groups)`` (or ``opt``) on the parameter set;
    returns the parameters and the optimizer."""
    params = make_params() if params is None else params
    if opt is None:
        opt = build(groups(params))
        opt.chunk_size = CHUNK_SIZE
    counter = [start]
    closure = closure_for(opt, params, counter)
    for _ in range(steps):
        opt.step(closure)
        counter[0] += 1
    return params, opt


def states(opt: torch.optim.Optimizer, params) -> dict[str, dict]:
    return {name: dict(opt.state.get(p, {})) for name, p in params.items()}
