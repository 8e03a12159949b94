"""What torch.optim users bring: numpy scalars, foreach/fused/capturable/differentiable,
meta parameters, and tensor hyperparameters checked against the parameters they act on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ravine.optim as ro

FIRST_ORDER = [n for n in sorted(ro.REGISTRY) if ro.registry.resolve(n).elementwise]


@pytest.mark.parametrize("name", FIRST_ORDER)
def test_numpy_scalars_are_accepted_as_torch_accepts_them(name) -> None:
    p = torch.nn.Parameter(torch.ones(3))
    p.grad = torch.ones(3)
    opt = ro.get(name, [p], lr=np.float32(0.01), weight_decay=np.float64(0.0))
    opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(2))], "lr": np.float32(0.5)})
    opt.step()
    assert type(opt.param_groups[0]["lr"]) is float and opt.param_groups[1]["lr"] == 0.5


def test_numpy_scalars_give_torchs_numbers() -> None:
    results = []
    for cls in (torch.optim.Adam, ro.Adam):
        p = torch.nn.Parameter(torch.linspace(-1, 1, 5))
        opt = cls([p], lr=np.float32(0.01), eps=np.float32(1e-6), weight_decay=np.float64(0.01))
        for _ in range(5):
            p.grad = p.detach() ** 3
            opt.step()
        results.append(p.detach())
    torch.testing.assert_close(*results, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("flag", ["capturable", "differentiable"])
def test_capturable_and_differentiable_are_refused_naming_them(flag) -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    with pytest.raises(ValueError, match=rf"Adam: {flag}=True is not supported"):
        ro.Adam(p, **{flag: True})
    ro.Adam(p, **{flag: False})


def test_fused_chooses_the_compiled_path() -> None:
    p = [torch.nn.Parameter(torch.ones(2))]
    assert ro.Adam(p, fused=True).compile is True
    assert ro.Adam(p, fused=False).compile is False
    assert ro.SGD(p, fused=None).compile is None
    with pytest.raises(ValueError, match="fused"):
        ro.SGD(p, fused="yes")


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad", "NAdam"])
@pytest.mark.parametrize("foreach", [None, False])
def test_meta_parameters_step_like_torchs(name, foreach) -> None:
    for cls in (getattr(torch.optim, name), getattr(ro, name)):
        p = torch.nn.Parameter(torch.empty(3, 4, device="meta"))
        p.grad = torch.empty(3, 4, device="meta")
        opt = cls([p], foreach=foreach)
        opt.step()
        opt.step()
        assert p.device.type == "meta"


def test_enlarging_tensor_hyperparameter_is_refused_at_construction_naming_it() -> None:
    p = torch.nn.Parameter(torch.zeros(3))
    with pytest.raises(ValueError, match=r"Adam: hyperparameter betas\[0\] .*shape \(4, 1\)"):
        ro.Adam([p], betas=(torch.full((4, 1), 0.9), 0.999))
    opt = ro.Adam([p])
    with pytest.raises(ValueError, match="hyperparameter lr"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(2))], "lr": torch.ones(5)})
    assert len(opt.param_groups) == 1  # nothing half-added
    ro.Adam([torch.nn.Parameter(torch.zeros(4, 3))], lr=torch.full((4, 1), 0.1))  # fits
