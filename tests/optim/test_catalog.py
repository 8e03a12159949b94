"""The optimizer catalog (tests/support/catalog/) covers every registered optimizer, so a
new one cannot escape the generic tests, and each of its records is usable as written."""

from __future__ import annotations

import pytest
import torch

import ravine.optim as ro
from support import catalog


def test_every_registered_optimizer_has_one_entry() -> None:
    listed = [entry.cls for entry in catalog.CATALOG]
    assert len(listed) == len(set(listed)), "an optimizer is listed twice"
    missing = [name for name, cls in ro.REGISTRY.items() if cls not in listed]
    assert not missing, f"add these optimizers to the catalog (tests/support/catalog/): {missing}"
    assert set(listed) <= set(ro.REGISTRY.values())


def test_every_entry_states_its_defaults_first_and_refuses_something() -> None:
    for entry in catalog.CATALOG:
        assert not entry.variants[0].kwargs, f"{entry.name}: the first variant is the defaults"
        assert entry.bad, f"{entry.name}: no bad input"


def test_variant_names_are_unique() -> None:
    names = [p.values[0].name for p in catalog.variants()]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("variant", catalog.variants())
def test_variant_builds_with_its_keywords(variant) -> None:
    model = torch.nn.Linear(3, 2)
    opt = variant.make(model if variant.entry.takes_model else model.parameters())
    for key, value in variant.kwargs.items():
        assert opt.param_groups[0].get(key, getattr(opt, key, None)) == value, key
    assert opt.closure_kind == variant.entry.closure_kind


def test_variants_with_a_reference_give_it_every_convention_keyword() -> None:
    """A keyword the reference does not take must be renamed or dropped explicitly."""
    for param in catalog.variants(lambda v: v.reference is not None):
        variant = param.values[0]
        model = torch.nn.Linear(3, 2)
        first, second = variant.reference.groups
        groups = [{"params": [model.weight], **first}, {"params": [model.bias], **second}]
        variant.make_reference(groups)  # raises on an unexpected keyword


def test_taking_lists_the_optimizers_of_a_hyperparameter() -> None:
    classes = {cls for cls, _ in catalog.taking("betas[0]")}
    assert ro.Adam in classes and ro.DiagonalNewton in classes and ro.SGD not in classes
    assert (ro.Momentum, {"lr_in_velocity": False}) in catalog.taking("momentum")
    assert {cls for cls, _ in catalog.taking("lr")} == set(ro.REGISTRY.values()) - {
        ro.LevenbergMarquardt
    }
