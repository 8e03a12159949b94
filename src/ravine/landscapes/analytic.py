"""The analytic test functions, by family, and the table of their builders.

Every function takes positions of shape ``[..., dim]`` and returns ``[...]``. The families
live in their own modules: :mod:`.saddles`, :mod:`.valleys` (ravines and valleys),
:mod:`.classics` (the 2-D benchmark surfaces), :mod:`.multimodal` (any dimension) and
:mod:`.plateau`. The polynomial ones carry ``value_and_grad``, their gradient written out
by hand (the race's fast path); tests/landscapes check each against autograd on ``fn``.
"""

from __future__ import annotations

from collections.abc import Callable

from .base import Landscape
from .classics import beale, booth, goldstein_price, himmelblau, six_hump_camel, three_hump_camel
from .common import refine
from .multimodal import ackley, rastrigin, styblinski_tang
from .plateau import plateau
from .saddles import monkey_saddle, saddle
from .valleys import quadratic, rosenbrock

__all__ = [
    "BUILDERS",
    "ackley",
    "beale",
    "booth",
    "goldstein_price",
    "himmelblau",
    "monkey_saddle",
    "plateau",
    "quadratic",
    "rastrigin",
    "refine",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
    "styblinski_tang",
    "three_hump_camel",
]

BUILDERS: dict[str, Callable[..., Landscape]] = {
    "saddle": saddle,
    "monkey_saddle": monkey_saddle,
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "beale": beale,
    "booth": booth,
    "himmelblau": himmelblau,
    "rastrigin": rastrigin,
    "ackley": ackley,
    "styblinski_tang": styblinski_tang,
    "goldstein_price": goldstein_price,
    "three_hump_camel": three_hump_camel,
    "six_hump_camel": six_hump_camel,
    "plateau": plateau,
}
