"""optax as a peer of the step benchmark, where JAX and optax are installed (neither is a
dependency of ravine: without them these candidates are left out).

Each candidate is optax's transformation for the algorithm, jitted over the same shapes as
one update plus ``apply_updates``, with the parameters and state donated so that XLA may
update them in place, timed to ``block_until_ready``. XLA's CPU runtime is held to one
thread when torch is (set before JAX is first imported in the process).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

import torch

from .timing import Candidate

__all__ = ["available", "optax_candidate"]

LR = 1e-4


def _transformations(optax: Any) -> dict[str, Callable[[], Any]]:
    return {
        "sgd": lambda: optax.sgd(LR),
        "momentum": lambda: optax.sgd(LR, momentum=0.9),
        "nesterov": lambda: optax.sgd(LR, momentum=0.9, nesterov=True),
        "adagrad": lambda: optax.adagrad(LR, initial_accumulator_value=0.0, eps=1e-10),
        "rmsprop": lambda: optax.rmsprop(LR, decay=0.99, eps=1e-8),
        "adadelta": lambda: optax.adadelta(1.0, rho=0.9, eps=1e-6),
        "adam": lambda: optax.adam(LR),
        "adamw": lambda: optax.adamw(LR, weight_decay=1e-2),
        "adamax": lambda: optax.adamax(LR),
        "nadam": lambda: optax.nadam(LR),
        "adabelief": lambda: optax.adabelief(LR),
        "adagrad-optax": lambda: optax.adagrad(LR),
        "rmsprop-eps-in-sqrt": lambda: optax.rmsprop(LR, decay=0.9),
    }


def available() -> bool:
    """Whether JAX and optax can be imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("jax", "optax"))


def optax_candidate(name: str, params: list[torch.Tensor]) -> Candidate | None:
    """optax's step for algorithm ``name`` on copies of ``params`` and their gradients, or
    None where optax is not installed or has no such algorithm."""
    if not available() or params[0].device.type != "cpu":
        return None
    if torch.get_num_threads() == 1:
        os.environ.setdefault(
            "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        )
    import jax
    import jax.numpy as jnp
    import optax

    make = _transformations(optax).get(name)
    if make is None:
        return None
    tx = make()
    values = [jnp.asarray(p.detach().cpu().numpy()) for p in params]
    grads = [jnp.asarray(p.grad.detach().cpu().numpy()) for p in params]

    def update(p: Any, s: Any, g: Any) -> tuple[Any, Any]:
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s

    step = jax.jit(update, donate_argnums=(0, 1))
    held = [values, tx.init(values)]

    def run() -> None:
        held[0], held[1] = step(held[0], held[1], grads)
        jax.block_until_ready(held[0])

    return Candidate("optax jit", run, owner=None)
