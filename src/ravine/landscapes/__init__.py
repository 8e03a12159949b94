"""Test landscapes: analytic surfaces, noise models and a data-defined loss.

>>> from ravine import landscapes
>>> f = landscapes.get("rosenbrock")
>>> f.loss(torch.tensor([[1.0, 1.0]]))    # positions [..., dim] -> losses [...]
>>> f.gradient(f.minima[0].location)      # through autograd
>>> landscapes.get("beale", noise=0.5)    # gradient noise N(0, 0.5^2) each step

Every landscape carries its dimension, a plotting ``domain``, known ``minima`` and
``saddles`` (location and value) and a ``default_start``. The polynomial ones also carry
``value_and_grad``, their gradient written out (the race engine's fast path; autograd stays
the reference), and those that are a model's loss carry ``model`` (:class:`OutputModel`:
outputs and per-example losses, so that Gauss-Newton, natural gradient, Hessian-free and
K-FAC can race on them).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .analytic import BUILDERS as _ANALYTIC
from .base import GradientNoise, Landscape, OutputModel, Point, least_squares
from .moons import Moons, moons

__all__ = [
    "REGISTRY",
    "GradientNoise",
    "Landscape",
    "Moons",
    "OutputModel",
    "Point",
    "get",
    "least_squares",
    "names",
    "noisy",
    "options",
]

REGISTRY: dict[str, Callable[..., Landscape]] = {**_ANALYTIC, "moons": moons}


def names() -> list[str]:
    """The names :func:`get` accepts."""
    return list(REGISTRY)


def options(name: str) -> dict[str, Any]:
    """The options of landscape ``name`` with their defaults."""
    builder = _builder(name)
    return {
        k: p.default
        for k, p in inspect.signature(builder).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _builder(name: str) -> Callable[..., Landscape]:
    if not isinstance(name, str):
        raise TypeError(f"landscape name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in REGISTRY:
        raise ValueError(f"unknown landscape {name!r}; known landscapes: {', '.join(REGISTRY)}")
    return REGISTRY[key]


def noisy(landscape: Landscape, scale: float, seed: int = 0) -> GradientNoise:
    """``landscape`` with gradient noise N(0, scale^2) per coordinate, redrawn every step."""
    if landscape.stochastic:
        raise ValueError(f"{landscape.name} is already stochastic; noise cannot be added")
    return GradientNoise(landscape, scale, seed)


def get(name: str, *, noise: float | None = None, noise_seed: int = 0, **opts: Any) -> Landscape:
    """Build landscape ``name`` with ``opts``; ``noise > 0`` adds gradient noise of that scale.

    For ``moons``, ``noise`` is the data noise of ``make_moons`` (its stochasticity comes
    from the mini-batches)."""
    builder = _builder(name)
    allowed = options(name)
    unknown = sorted(set(opts) - set(allowed))
    if builder is moons:
        allowed_shown = ", ".join(allowed)
        if unknown:
            raise ValueError(
                f"moons: unknown option(s) {', '.join(unknown)}; allowed: {allowed_shown}"
            )
        return builder(**opts) if noise is None else builder(noise=noise, **opts)
    if unknown:
        shown = ", ".join(allowed) or "none"
        raise ValueError(
            f"{name}: unknown option(s) {', '.join(unknown)}; allowed options: {shown}"
        )
    landscape = builder(**opts)
    if noise:
        return noisy(landscape, noise, noise_seed)
    if noise_seed:
        raise ValueError("noise_seed needs noise > 0")
    return landscape
