"""Races of optimizers on landscapes, every trajectory of one optimizer batched.

>>> result = ravine.race("beale", ["sgd", "momentum", "adam"], lrs=[1e-3, 1e-2], steps=300)
>>> result["adam"].positions          # [lr, start, seed, steps + 1, dim]

A race goes through four modules, each one concept:

* :mod:`~ravine.race.plan`: the arguments checked and resolved once (:class:`RacePlan`);
  a refusal is a :class:`PlanError` naming the argument, before any work;
* :mod:`~ravine.race.engine`: the trajectories advanced, batched or one at a time;
* :mod:`~ravine.race.measures`: divergence, losses and gradient norms, outcomes;
* :mod:`~ravine.race.result`: :class:`Run` and :class:`RaceResult`.

:func:`race` builds the plan and runs it (:func:`run`); the command line builds the plan
itself, so that each refusal points at its flag. :func:`stream` (:mod:`~ravine.race.stream`)
runs it a chunk of steps at a time and hands out the paths so far after each chunk, for
interactive use. ``ravine.race`` is both this package and
the function: calling the package races.

Speed. A step of N batched trajectories costs a fixed number of tensor ops whatever N is:
the landscape's hand-written gradient where it has one (else one backward pass), the rule,
and a copy into the record. Optimizers whose step is their rule take the fast path
(:mod:`~ravine.race.fast`): the rule called directly, one evaluation of the landscape a step
for all of them, the numbers of ``optimizer.step()`` bitwise. Losses and gradient norms
come from the step's own gradient evaluation when it is at the current point; otherwise
(look-ahead, line searches, noise) they are computed from the record afterwards.
``benchmarks/race_latency.py`` measures the explorer's race; ``benchmarks/race_throughput.py``
measures the result against the per-trajectory loops.
"""

from __future__ import annotations

import sys
from typing import Any

from .measures import OUTCOMES
from .plan import Entry, PlanError, RacePlan, check_raceable
from .result import RaceResult, Run
from .runner import race, run
from .stream import RaceChunk, run_stream, stream

__all__ = [
    "OUTCOMES",
    "Entry",
    "PlanError",
    "RaceChunk",
    "RacePlan",
    "RaceResult",
    "Run",
    "check_raceable",
    "race",
    "run",
    "run_stream",
    "stream",
]


class _CallableModule(type(sys.modules[__name__])):
    """``ravine.race`` is both this package and the function: calling the package races."""

    def __call__(self, *args: Any, **kwargs: Any) -> RaceResult:
        return race(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
