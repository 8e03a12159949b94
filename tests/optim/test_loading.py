"""A torch.optim state dict loads into the matching ravine optimizer and gives torch's
numbers onward, or is refused at load time naming what is missing (never a KeyError at the
next step)."""

from __future__ import annotations

import copy

import pytest
import torch

import ravine.optim as ro

MATCHING = {
    "SGD": {"momentum": 0.9, "dampening": 0.2},
    "SGD-plain": {},
    "Adagrad": {"lr_decay": 0.01},
    "RMSprop": {},
    "RMSprop-centered": {"momentum": 0.9, "centered": True},
    "Adadelta": {},
    "Adam": {"amsgrad": True},
    "AdamW": {},
    "Adamax": {},
    "NAdam": {},
}


def _model(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    ).double()


def _train(model, opt, steps: int, start: int = 0) -> None:
    x = torch.linspace(-1, 1, 24, dtype=torch.float64).reshape(8, 3)
    for step in range(start, start + steps):
        opt.zero_grad()
        ((model(x + 0.01 * step) - 1) ** 2).mean().backward()
        opt.step()


@pytest.mark.parametrize("case", MATCHING)
def test_torch_state_dict_continues_with_torchs_numbers(case) -> None:
    name, kwargs = case.split("-")[0], MATCHING[case]
    theirs = _model()
    topt = getattr(torch.optim, name)(theirs.parameters(), **kwargs)
    _train(theirs, topt, 10)
    ours = _model()
    ours.load_state_dict(theirs.state_dict())
    oopt = getattr(ro, name)(ours.parameters(), **kwargs)
    oopt.load_state_dict(copy.deepcopy(topt.state_dict()))  # as saved: no shared tensors
    _train(theirs, topt, 20, start=10)
    _train(ours, oopt, 20, start=10)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert ((a - b).abs().max() / b.abs().max()).item() <= 1e-12


def test_a_state_dict_of_another_optimizer_is_refused_at_load_time() -> None:
    model = _model()
    adam = torch.optim.Adam(model.parameters())
    _train(model, adam, 2)
    opt = ro.RMSprop(model.parameters())
    with pytest.raises(
        ValueError, match=r"RMSprop.load_state_dict: the state of parameter 0 lacks"
    ):
        opt.load_state_dict(adam.state_dict())
    assert not opt.state  # nothing half-loaded
    _train(model, opt, 1)  # and it still steps


def test_a_state_without_what_the_convention_needs_is_refused() -> None:
    model = _model()
    adam = torch.optim.Adam(model.parameters(), amsgrad=True)
    _train(model, adam, 2)
    saved = copy.deepcopy(adam.state_dict())
    del saved["state"][1]["max_exp_avg_sq"]
    with pytest.raises(ValueError, match="state of parameter 1 lacks v_max"):
        ro.Adam(model.parameters(), amsgrad=True).load_state_dict(saved)


def test_ravine_state_dict_still_round_trips() -> None:
    model = _model()
    opt = ro.RMSprop(model.parameters(), momentum=0.9)
    _train(model, opt, 3)
    twin = ro.RMSprop(model.parameters(), momentum=0.9)
    twin.load_state_dict(opt.state_dict())
    assert twin.state_dict()["state"].keys() == opt.state_dict()["state"].keys()
