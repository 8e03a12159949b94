"""The one registry: names, torch.optim names and classes resolve to one record that knows
hyperparameters, constraints and how to build the optimizer."""

from __future__ import annotations

import pytest
import torch

from ravine import optim
from ravine.optim.registry import resolve


def test_every_name_resolves_to_its_class_and_defaults():
    for name, cls in optim.REGISTRY.items():
        info = resolve(name.upper())
        assert info.cls is cls and info.name == name and info.is_ravine
        assert info.defaults == cls.hyperparameter_defaults()
        if cls is optim.Lookahead:  # any keyword: the inner optimizer's hyperparameters
            assert info.hyperparameters is None
        else:
            assert info.hyperparameters == frozenset(cls.hyperparameter_defaults())


def test_torch_names_and_classes_resolve():
    info = resolve("torch.optim.Adam")
    assert info.cls is torch.optim.Adam and not info.is_ravine
    assert info.defaults["lr"] == 1e-3 and "betas" in info.hyperparameters
    assert info.constraint("lr") is None
    assert resolve(torch.optim.LBFGS).needs_closure
    assert not resolve(torch.optim.SGD).needs_closure
    assert resolve(optim.Nadam).name == "Nadam"


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("adamm", "unknown optimizer 'adamm'"),
        ("torch.optim.Nope", "torch.optim has no"),
        (3, "optimizer must be a name"),
    ],
)
def test_unknown_optimizers_are_refused_by_name(which, message):
    with pytest.raises(ValueError, match=message):
        resolve(which)


def test_check_names_the_hyperparameter_and_the_allowed_range():
    info = resolve("adam")
    info.check("betas", [0.9, 0.99])  # lists stand for tuples
    with pytest.raises(
        ValueError, match=r"Adam: invalid betas\[1\]=1\.5; allowed: a finite number in \[0, 1\)"
    ):
        info.check("betas", [0.9, 1.5])
    with pytest.raises(ValueError, match="lr"):
        info.check("lr", -1.0)
    info.check("no_such_key", 1)  # no constraint: nothing to check


def test_build_takes_a_module_and_names_what_it_accepts():
    model = torch.nn.Linear(3, 2)
    opt = resolve("momentum").build(model, lr=0.1)
    assert [p for g in opt.param_groups for p in g["params"]] == list(model.parameters())
    kfac = resolve("kfac").build(model)
    assert kfac.closure_kind == "model"
    with pytest.raises(ValueError, match="its hyperparameters are: lr"):
        resolve("sgd").build(model, beta=0.9)
    with pytest.raises(ValueError, match="its hyperparameters are"):
        optim.get("sgd", model.parameters(), beta=0.9)


def test_capabilities():
    assert resolve("adam").elementwise and not resolve("bfgs").elementwise
    assert resolve("newton").closure_kind == "loss"
    assert resolve("gauss_newton").closure_kind == "outputs"
    assert resolve("adam").description


def test_lineage_names_the_class_and_the_registered_classes_it_renames():
    assert resolve("adadelta_torch").lineage == ["adadelta_torch", "adadelta"]
    assert resolve("adam").lineage == ["adam"]
    assert resolve("adamw").lineage == ["adamw", "adam"]
    assert resolve("torch.optim.Adam").lineage == []
