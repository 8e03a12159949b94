"""The search space in words, against the spec's documented meaning of each value form."""

from __future__ import annotations

from ravine.report.space import describe, protocol_kind, search_space
from ravine.study.values import Range


def test_values_in_words():
    assert describe(Range("log", 1e-4, 0.1, 4), sampled=False) == (
        "grid of 4 log-spaced values from 0.0001 to 0.1"
    )
    assert describe(Range("log", 1e-4, 0.1, 4), sampled=True) == (
        "sampled log-uniformly from 0.0001 to 0.1"
    )
    assert describe(Range("linear", 0.0, 0.9, 3), sampled=True) == (
        "sampled uniformly from 0 to 0.9"
    )
    assert describe([0.9], sampled=True) == "fixed at 0.9"
    assert describe([0.1, 0.2], sampled=False) == "grid [0.1, 0.2]"
    assert describe([0.1, 0.2], sampled=True) == "sampled from [0.1, 0.2]"


def test_search_space_rows_and_old_protocol_strings():
    spec = {
        "protocol": "grid",
        "optimizers": [
            {"name": "sgd", "label": "s", "lr": "log:1e-3:1:4", "schedules": {"lr": "cosine:9"}}
        ],
    }
    assert protocol_kind(spec) == "grid"
    assert protocol_kind({"protocol": {"kind": "random", "samples": 2}}) == "random"
    assert search_space(spec) == [
        {"optimizer": "s", "hyperparameter": "lr", "values": "grid of 4 log-spaced values "
         "from 0.001 to 1"},
        {"optimizer": "s", "hyperparameter": "lr", "values": "schedule cosine:9"},
    ]  # fmt: skip
