r"""Schedules: learning-rate decay, momentum annealing, any hyperparameter over time.

A *schedule* is a pure function of the step ``t = 0, 1, 2, ...`` (the number of optimizer
steps taken so far). A :class:`Scheduler` applies schedules to named hyperparameters of an
optimizer's param groups (``lr``, ``momentum``, ``betas[0]``, ``decay``, ``eps``, ...)::

    opt = ravine.optim.Momentum(model.parameters(), lr=0.1, momentum=0.5)
    sched = Scheduler(opt, {"lr": warmup(100, then=cosine(10_000)),
                            "momentum": linear(0.5, 0.99, 200)})
    for batch in data:
        ...; opt.step(); sched.step()

Absolute and relative values
----------------------------
Every schedule is evaluated as ``s(t, initial)``, where ``initial`` is the value the
hyperparameter had in the param group when the :class:`Scheduler` was built.

* A **relative** schedule uses ``initial``: ``cosine(1000)`` anneals from the group's own
  ``lr`` to 0, ``exponential(0.99)`` gives ``initial * 0.99**t``. This is how
  ``torch.optim.lr_scheduler`` works; the decay schedules are relative unless you pin their
  start with ``init=...``. Called alone, ``s(t)`` uses ``initial = 1``: the multiplier.
* An **absolute** schedule ignores ``initial``: ``linear(0.5, 0.99, 200)`` gives momentum
  0.5 at step 0 rising to 0.99 at step 200 and after, whatever the group held.

Numbers a schedule takes are absolute values (``final``, ``peak``, ``low``, ``high``,
``start``, ``min_value``) or dimensionless factors (``factor``, ``gamma``, ``k``,
``power``); ``linear(..., relative=True)`` reads its ``start`` and ``end`` as factors of the
initial value (``torch.optim.lr_scheduler.LinearLR``). The :attr:`Schedule.relative`
property says which kind a schedule is.

Formulas (``eta_0`` the initial value, ``t`` the step)::

    constant(v)                   v            (v=None: eta_0)
    step_decay(every, factor)     eta_0 factor^floor(t / every)                    StepLR
    multi_step(milestones, f)     eta_0 f^(number of milestones <= t)              MultiStepLR
    exponential(gamma)            eta_0 gamma^t                                    ExponentialLR
    inverse_time(k, power=1)      eta_0 / (1 + k t)^power
    cosine(total, final=0)        final + (eta_0 - final) (1 + cos(pi min(t,total)/total)) / 2
    polynomial(total, p, final=0) final + (eta_0 - final) (1 - min(t,total)/total)^p  PolynomialLR
    linear(start, end, steps)     start + (end - start) min(t, steps) / steps     LinearLR
    warmup(steps, then, start=0)  start + (then(0) - start) t / steps for t < steps,
                                  then(t - steps) after
    one_cycle(total, peak)        Smith's 1cycle: start -> peak -> end             OneCycleLR
    cyclic(low, high, up, down)   triangular cycles between low and high           CyclicLR
    join(schedules, boundaries)   schedules[i](t - boundaries[i-1]) on segment i   (piecewise)
    reduce_on_plateau(...)        eta_0 factor^(plateaus seen), metric-driven      ReduceLROnPlateau

Composition: ``warmup(then=...)`` and ``join`` chain schedules in time; ``a * b`` multiplies
``a``'s values by ``b``'s multiplier ``b(t)`` and ``c * a`` scales by a number.

Values are closed-form functions of ``t`` (torch's schedulers update recursively, so theirs
drift from these by a few ulps over thousands of steps), which makes a resumed run exactly
equal to an uninterrupted one. Where ravine differs from torch after the end of a schedule:
``cosine`` holds ``final`` after ``total`` (torch's CosineAnnealingLR climbs back up),
``one_cycle`` holds its last value (torch raises).

Batched values: any numeric parameter (``init``, ``final``, ``peak``, ``gamma``, ...) may be a
tensor with a leading trial axis, e.g. ``one_cycle(1000, peak=torch.tensor([[1e-1], [1e-2]]))``;
the schedule then yields tensors, which ravine optimizers broadcast against ``[T, D]``
parameters.

String grammar (:func:`parse`, used by the ``--lr-schedule``/``--momentum-schedule`` flags)::

    SPEC   := PART ('>' PART)*        a PART, then the next one from where it ends
    PART   := NAME (':' ARG)*
    ARG    := VALUE | KEY '=' VALUE   positional or keyword, as the Python function takes them
    VALUE  := number | int,int,... | none | true | false | word

``cosine:1000``, ``linear:0.5:0.99:200``, ``step:30:0.1``, ``multistep:100,200:0.1``,
``onecycle:1000:peak=0.1:anneal=linear``, ``warmup:100>cosine:900``,
``linear:0.5:0.9:100>constant:0.9``. ``A>B`` runs ``A`` for its length (``warmup``:
``steps``; ``linear``: ``steps``; ``cosine``, ``polynomial``, ``one_cycle``: ``total``;
others need ``A@N>B``), then ``B`` restarted at step 0; ``warmup:N>B`` warms up towards
``B``'s first value. Names and aliases: see :data:`NAMES`.

Modules: :mod:`.checks` (argument checks), :mod:`.base` (the :class:`Schedule` protocol,
products), :mod:`.decay` (one-piece closed forms), :mod:`.cycles` (1cycle, cyclic),
:mod:`.compose` (warm-up, join), :mod:`.plateau` (reduce on plateau), :mod:`.scheduler`
(:class:`Scheduler`), :mod:`.grammar` (the string form).
"""

from __future__ import annotations

from .base import Schedule
from .checks import Value
from .compose import join, warmup
from .cycles import cyclic, one_cycle
from .decay import (
    constant,
    cosine,
    exponential,
    inverse_time,
    linear,
    multi_step,
    polynomial,
    step_decay,
)
from .grammar import ALIASES, NAMES, parse, usage
from .plateau import reduce_on_plateau
from .scheduler import Scheduler

__all__ = [
    "ALIASES",
    "NAMES",
    "Schedule",
    "Scheduler",
    "Value",
    "constant",
    "cosine",
    "cyclic",
    "exponential",
    "inverse_time",
    "join",
    "linear",
    "multi_step",
    "one_cycle",
    "parse",
    "polynomial",
    "reduce_on_plateau",
    "step_decay",
    "usage",
    "warmup",
]
