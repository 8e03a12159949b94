"""Built-in example studies (``ravine study run --example NAME``)."""

from __future__ import annotations

from typing import Any

from .spec import Spec

__all__ = ["EXAMPLES", "example"]

EXAMPLES: dict[str, dict[str, Any]] = {
    # The classic comparison: SGD, momentum, RMSProp and Adam on the digits MLP. The DeepOBS
    # protocol: tune each optimizer's learning rate over a 7-point log grid on one seed, then
    # rerun the best on three seeds; mini-batches of 64, 10 epochs, evaluated every epoch.
    "digits": {
        "name": "digits",
        "seeds": [0, 1, 2],
        "budget": {"epochs": 10},
        "batch_size": 64,
        "eval_every": {"epochs": 1},
        "protocol": {"kind": "two_stage", "tune_seed": 0},
        "problems": [{"name": "digits_mlp", "target": 0.95}],
        "optimizers": [
            {"name": "sgd", "lr": {"log": [1e-2, 10.0, 7]}},
            {"name": "momentum", "lr": {"log": [1e-3, 1.0, 7]}, "momentum": 0.9},
            {"name": "rmsprop", "lr": {"log": [1e-4, 1e-1, 7]}},
            {"name": "adam", "lr": {"log": [1e-4, 1e-1, 7]}},
        ],
    },
    # A quick cross-problem study for performance profiles: four small problems.
    "profile": {
        "name": "profile",
        "seeds": [0, 1],
        "budget": {"epochs": 8},
        "batch_size": 32,
        "protocol": "grid",
        "problems": [
            {"name": "moons", "target": 0.85},
            {"name": "digits_mlp", "target": 0.9},
            {"name": "logreg", "target": 0.95},
            {
                "name": "logreg",
                "options": {"dataset": "wine"},
                "label": "logreg_wine",
                "target": 0.95,
            },
        ],
        "optimizers": [
            {"name": "sgd", "lr": {"log": [1e-2, 1.0, 3]}},
            {"name": "momentum", "lr": {"log": [1e-3, 1e-1, 3]}},
            {"name": "adam", "lr": {"log": [1e-4, 1e-2, 3]}},
        ],
    },
}


def example(name: str) -> Spec:
    """The built-in example study ``name`` as a validated Spec."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; examples: {', '.join(EXAMPLES)}")
    return Spec.from_dict(EXAMPLES[name])
