"""The fast path of batched races gives the reference's numbers, bitwise: every elementwise
optimizer of the catalog in each of its variants, on every deterministic landscape, with
one learning rate (the multi-tensor path's layouts) and several (tensor hyperparameters,
the per-tensor reference's layouts), look-ahead, schedules and float32."""

from __future__ import annotations

import pytest
import torch

from ravine import landscapes
from ravine.optim.stepper import plain_step
from ravine.race import RacePlan, run
from ravine.race.engine import start
from support.catalog import variants

STARTS = [[-1.5, 2.0], [0.5, -0.5], [-1.0, 0.0]]

FIELDS = ("positions", "losses", "grad_norms", "outcome", "minimum", "diverged_step")


def _same(reference, fast) -> None:
    assert list(reference.runs) == list(fast.runs)
    for label, want in reference.runs.items():
        got = fast[label]
        for field in (*FIELDS, "arrival_step"):
            a, b = getattr(want, field), getattr(got, field)
            torch.testing.assert_close(b, a, rtol=0, atol=0, equal_nan=True, msg=field)


def _taken(plan: RacePlan) -> list[bool]:
    """Which entries of ``plan`` the fast path takes."""
    runs, _ = start(plan, plan.entries)
    return [r.rule is not None for r in runs]


def _raceable(variant) -> bool:
    info = variant.entry.registry
    return info.elementwise and info.closure_kind == "backward"


@pytest.mark.parametrize("variant", variants(_raceable))
def test_every_elementwise_variant_races_fast_with_the_reference_numbers(variant):
    f = landscapes.get("rosenbrock")
    info = variant.entry.registry
    options = {k: v for k, v in variant.kwargs.items() if k in info.hyperparameters}
    optimizers = {"one": {"optimizer": info.name, **options}}
    if "lr" in info.defaults:  # several learning rates: tensor hyperparameters
        lr = RacePlan.build(f, {info.name: options}).entries[0].lrs[0]
        optimizers["grid"] = {"optimizer": info.name, "lr": [lr / 3, lr], **options}
    plan = RacePlan.build(f, optimizers, starts=STARTS, steps=60)
    # the fast path serves every class whose step is the shared one (its rule)
    assert _taken(plan) == [plain_step(info.cls)] * len(optimizers)
    _same(run(plan, fast=False), run(plan))


def _inside(f) -> list[list[float]]:
    """Three starts spread over ``f``'s domain, each coordinate at another fraction."""
    fractions = [[0.15 + (0.3 * k + 0.25 * i) % 0.7 for i in range(f.dim)] for k in range(3)]
    return [[a + (b - a) * q for (a, b), q in zip(f.domain, qs, strict=True)] for qs in fractions]


RACERS = {
    "sgd": {},
    "ahead": {"optimizer": "nesterov", "lookahead": True},
    "adam": {"lr": [1e-3, 1e-2]},
    "rmsprop": {},
    "bfgs": {},  # one trajectory at a time, beside the fast entries
}


@pytest.mark.parametrize(
    "name", [n for n in landscapes.names() if not landscapes.get(n).stochastic]
)
def test_one_evaluation_for_all_entries_gives_each_its_own_numbers(name):
    f = landscapes.get(name)
    racers = {k: v for k, v in RACERS.items() if k != "bfgs" or f.dim == 2}
    plan = RacePlan.build(f, racers, steps=40, starts=_inside(f))
    assert _taken(plan) == [True, True, True, True, False][: len(racers)]
    _same(run(plan, fast=False), run(plan))


def test_schedules_and_float32_race_fast_with_the_reference_numbers():
    schedules = {"adam": {"lr": "cosine:80"}, "momentum": {"momentum": "linear:0.5:0.9:80"}}
    for dtype in (torch.float64, torch.float32):
        plan = RacePlan.build(
            "beale",
            {"adam": {}, "momentum": {}, "sgd": {"lr": [1e-4, 1e-3]}},
            starts=STARTS,
            steps=80,
            schedules=schedules,
            dtype=dtype,
        )
        assert all(_taken(plan))
        _same(run(plan, fast=False), run(plan))


def test_stochastic_landscapes_and_torch_classes_keep_the_reference_path():
    plan = RacePlan.build("moons", ["adam"], steps=3)
    assert _taken(plan) == [False]
    plan = RacePlan.build("booth", {"torch": {"optimizer": torch.optim.SGD}}, steps=3)
    assert _taken(plan) == [False]
