"""Study specs: the grammar of values, and every malformed case names its key."""

from __future__ import annotations

import copy
import math

import pytest

from ravine.study.protocols import first_stage
from ravine.study.records import Interval
from ravine.study.spec import Spec, SpecError, expand_values, load_spec

BASE = {
    "name": "s",
    "seeds": [0, 1],
    "budget": {"epochs": 1},
    "batch_size": 16,
    "problems": [{"name": "moons", "options": {"n": 100}}],
    "optimizers": [
        {"name": "sgd", "lr": {"log": [1e-3, 1.0, 4]}},
        {"name": "adam", "lr": 1e-3, "betas": [0.9, 0.999]},
    ],
}


def with_(path: str, value):
    """BASE with the entry at dotted ``path`` (list indices as numbers) set or deleted."""
    spec = copy.deepcopy(BASE)
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = spec
    for k in keys[:-1]:
        node = node[k]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return spec


DELETE = object()

MALFORMED = [
    ("unknown", 1, "unknown"),
    ("name", "two words", "name"),
    ("seeds", [], "seeds"),
    ("seeds", [0, "1"], "seeds[1]"),
    ("seeds", [0, -1], "seeds[1]"),
    ("seeds", [1, 1], "seeds"),
    ("budget", {"epochs": 0}, "budget.epochs"),
    ("budget", {"hours": 1}, "budget"),
    ("budget", {"epochs": 1.5}, "budget.epochs"),
    ("eval_every", {"steps": -1}, "eval_every.steps"),
    ("batch_size", 0, "batch_size"),
    ("batch_size", "half", "batch_size"),
    ("batch_size", True, "batch_size"),
    ("protocol", "hyperband", "protocol.kind"),
    ("protocol", {"kind": "random"}, "protocol.samples"),
    ("protocol", {"kind": "random", "samples": 0}, "protocol.samples"),
    ("protocol", {"kind": "two_stage", "tune_seed": 7}, "protocol.tune_seed"),
    ("protocol", {"kind": "grid", "samples": 3}, "protocol.samples"),
    ("problems", [], "problems"),
    ("problems.0.name", "nonexistent_problem", "problems[0].name"),
    ("problems.0.name", "no_such_module_xyz:fn", "problems[0].name"),
    ("problems.0.options", {"colour": 1}, "problems[0].options"),
    ("problems.0.options", 3, "problems[0].options"),
    ("problems.0.target", "high", "problems[0].target"),
    ("problems.0.name", DELETE, "problems[0].name"),
    ("problems.0.extra", 1, "problems[0].extra"),
    ("optimizers", [], "optimizers"),
    ("optimizers.1.name", "adamz", "optimizers[1].name"),
    ("optimizers.1.name", DELETE, "optimizers[1].name"),
    ("optimizers.1.lr", -1.0, "optimizers[1].lr"),
    ("optimizers.1.lr", math.inf, "optimizers[1].lr"),
    ("optimizers.1.lr", [1e-3, -1e-3], "optimizers[1].lr[1]"),
    ("optimizers.1.lr", [], "optimizers[1].lr"),
    ("optimizers.1.lr", {"log": [0.0, 1.0, 3]}, "optimizers[1].lr"),
    ("optimizers.1.lr", {"log": [1.0, 1e-3, 3]}, "optimizers[1].lr"),
    ("optimizers.1.lr", {"log": [1e-3, 1.0]}, "optimizers[1].lr.log"),
    ("optimizers.1.lr", {"log": [1e-3, 1.0, 2.5]}, "optimizers[1].lr.log"),
    ("optimizers.1.lr", {"geometric": [1e-3, 1.0, 3]}, "optimizers[1].lr"),
    ("optimizers.1.lr", "log:1e-3:1:x", "optimizers[1].lr"),
    ("optimizers.1.lr", {"wat": 1}, "optimizers[1].lr"),
    ("optimizers.1.betas", [0.9, 1.5], "optimizers[1].betas"),
    ("optimizers.1.momentum", 0.9, "optimizers[1].momentum"),
    ("optimizers.0.momentum", 1.5, "optimizers[0].momentum"),
    ("optimizers.1.schedules", "cosine", "optimizers[1].schedules"),
    ("optimizers.1.schedules", {"lr": 3}, "optimizers[1].schedules.lr"),
    ("optimizers.1.schedules", {"gamma": "cosine:10"}, "optimizers[1].schedules.gamma"),
    ("optimizers.1.schedules", {"lr": "cosine:ten"}, "optimizers[1].schedules.lr"),
    ("optimizers.1.schedules", {"lr": "teapot:3"}, "optimizers[1].schedules.lr"),
    ("optimizers.1.label", "sgd", "optimizers"),
    ("save_models", "yes", "save_models"),
    ("device", 0, "device"),
]


@pytest.mark.parametrize(
    ("path", "value", "key"), MALFORMED, ids=[f"{p}={v!r}" for p, v, _ in MALFORMED]
)
def test_malformed_spec_names_the_key(path, value, key):
    with pytest.raises(SpecError) as info:
        Spec.from_dict(with_(path, value))
    assert info.value.key == key
    assert str(info.value).startswith(key + ":")


def test_valid_spec_round_trips_through_dict():
    spec = Spec.from_dict(BASE)
    assert Spec.from_dict(spec.to_dict()) == spec


def test_toml_text_and_string_range(tmp_path):
    text = """
name = "t"
seeds = [3]
budget = { steps = 20 }
batch_size = "full"
eval_every = { steps = 5 }
[[problems]]
name = "moons"
[[optimizers]]
name = "momentum"
lr = "log:1e-4:1:9"
momentum = [0.0, 0.9]
"""
    path = tmp_path / "s.toml"
    path.write_text(text)
    spec = load_spec(path)
    assert spec.batch_size == "full" and spec.budget == Interval("steps", 20)
    stage, configs = first_stage(spec)
    assert stage == "grid"
    assert len(configs) == 9 * 2
    lrs = sorted({c.hyperparameters["lr"] for c in configs})
    assert lrs == pytest.approx([10.0**k for k in (-4, -3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0)])
    with pytest.raises(SpecError, match=r"^spec: not valid TOML"):
        load_spec("name = \n[[")


def test_log_range_values_match_numpy_logspace():
    import numpy as np

    r = expand_values("lr", {"log": [1e-5, 1e2, 36]})  # the DeepOBS tuning grid
    assert r.grid() == pytest.approx(np.logspace(-5, 2, 36).tolist(), rel=1e-11)
    lin = expand_values("x", {"linear": [0.0, 1.0, 5]})
    assert lin.grid() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert expand_values("betas", [0.9, 0.999]) == [(0.9, 0.999)]
    assert expand_values("betas", [[0.9, 0.999], [0.5, 0.9]]) == [(0.9, 0.999), (0.5, 0.9)]


def test_random_protocol_equal_budgets_and_reproducible():
    spec = Spec.from_dict({**BASE, "protocol": {"kind": "random", "samples": 5, "sample_seed": 3}})
    _, a = first_stage(spec)
    _, b = first_stage(spec)
    assert a == b
    per_opt = {}
    for c in a:
        per_opt.setdefault(c.optimizer_label, []).append(c)
    assert {k: len(v) for k, v in per_opt.items()} == {"sgd": 10, "adam": 10}  # 5 x 2 seeds
    lrs = [c.hyperparameters["lr"] for c in per_opt["sgd"]]
    assert all(1e-3 <= lr <= 1.0 for lr in lrs) and len(set(lrs)) == 5


def test_two_stage_first_stage_uses_the_tune_seed_only():
    spec = Spec.from_dict({**BASE, "seeds": [4, 5, 6], "protocol": {"kind": "two_stage"}})
    stage, configs = first_stage(spec)
    assert stage == "tune"
    assert {c.seed for c in configs} == {4}
    assert len(configs) == 4 + 1


def test_torch_optim_names_are_accepted():
    spec = Spec.from_dict(
        {**BASE, "optimizers": [{"name": "torch.optim.SGD", "lr": 0.1, "momentum": 0.9}]}
    )
    assert spec.optimizers[0].raw == {"lr": 0.1, "momentum": 0.9}
    assert spec.optimizers[0].values == {"lr": [0.1], "momentum": [0.9]}
    with pytest.raises(SpecError) as info:
        Spec.from_dict({**BASE, "optimizers": [{"name": "torch.optim.Nope"}]})
    assert info.value.key == "optimizers[0].name"


def test_built_in_examples_validate_and_expand():
    from ravine.study import EXAMPLES, example

    for name in EXAMPLES:
        stage, configs = first_stage(example(name))
        assert configs
    digits = example("digits")
    stage, configs = first_stage(digits)
    assert stage == "tune" and len(configs) == 4 * 7  # then 4 x 2 reruns of the best
    with pytest.raises(ValueError, match="unknown example"):
        example("imagenet")
