"""The multi-tensor path (the default) against the per-tensor reference (``foreach=False``).

The same rule runs on the same numbers element by element, only over longer or shorter
vectors, so parameters and state must be bitwise equal: for every elementwise optimizer and
its option variants, with param groups, weight decay, maximize, non-contiguous, zero-size,
0-d and gradient-less parameters, float32 beside float64, large parameters cut into slices
and small ones packed, and through a mid-run save and load in either direction.
"""

from __future__ import annotations

import io

import pytest
import torch

import ravine.optim as ro
from support import catalog, paramset
from support.paramset import make_params, run, states

STEPS = 7


def assert_same(params_a, opt_a, params_b, opt_b) -> None:
    for name in params_a:
        assert torch.equal(params_a[name], params_b[name]), name
    sa, sb = states(opt_a, params_a), states(opt_b, params_b)
    for name in sa:
        assert sa[name].keys() == sb[name].keys(), name
        for key in sa[name]:
            a, b = sa[name][key], sb[name][key]
            assert a.shape == b.shape and a.dtype == b.dtype, (name, key)
            assert torch.equal(a, b), (name, key)


MULTI_TENSOR = catalog.variants(lambda v: v.entry.multi_tensor)


@pytest.mark.parametrize("variant", MULTI_TENSOR)
def test_multi_tensor_equals_reference(variant) -> None:
    ref = run(lambda g: variant.make(g, foreach=False), STEPS)
    fast = run(variant.make, STEPS)
    assert fast[1]._buckets, "the default path built no bucket"
    assert_same(*ref, *fast)


@pytest.mark.parametrize("variant", MULTI_TENSOR)
@pytest.mark.parametrize("first,second", [(None, False), (False, None)])
def test_checkpoint_moves_between_paths(variant, first, second) -> None:
    """Save after 3 steps on one path, load into a fresh optimizer on the other, go on:
    bitwise the run that never stopped."""
    straight = run(lambda g: variant.make(g, foreach=False), 6)

    params, opt = run(lambda g: variant.make(g, foreach=first), 3)
    buffer = io.BytesIO()
    torch.save({"params": {n: p.detach() for n, p in params.items()}, "opt": opt.state_dict()},
               buffer)  # fmt: skip
    buffer.seek(0)
    saved = torch.load(buffer)
    resumed = make_params(seed=7)
    with torch.no_grad():
        for n, p in resumed.items():
            p.copy_(saved["params"][n])
    opt2 = variant.make(paramset.groups(resumed), foreach=second)
    opt2.chunk_size = paramset.CHUNK_SIZE
    opt2.load_state_dict(saved["opt"])
    resumed, opt2 = run(None, 3, params=resumed, opt=opt2, start=3)
    assert_same(*straight, resumed, opt2)


def test_state_dict_keeps_the_per_parameter_layout() -> None:
    params, opt = run(lambda g: ro.Adam(g), 2)
    for p in params.values():
        if p.grad is None:
            assert p not in opt.state
            continue
        st = opt.state[p]
        assert st["m"].shape == p.shape and st["v"].shape == p.shape
        assert int(st["step"]) == 2
    sd = opt.state_dict()
    assert len(sd["state"]) == sum(paramset.LAYOUT[n][3] for n in paramset.LAYOUT)


def test_changing_set_of_gradients_and_step_counts() -> None:
    """A parameter that skips steps gets a step count of its own: the bucket is rebuilt
    (or gives way to the reference path) and every number still matches."""

    def train(foreach):
        params = make_params()
        opt = ro.Adam(paramset.groups(params), foreach=foreach)
        opt.chunk_size = paramset.CHUNK_SIZE
        for step in range(6):
            opt.zero_grad()
            paramset.loss(params, step).backward()
            if step in (2, 3):
                params["b1"].grad = None
            opt.step()
        return params, opt

    assert_same(*train(False), *train(None))


def test_state_replaced_by_hand_is_used() -> None:
    def train(foreach):
        params, opt = run(lambda g: ro.Momentum(g, foreach=foreach), 2)
        opt.state[params["w1"]]["v"] = torch.full_like(params["w1"], 0.5)
        return run(None, 2, params=params, opt=opt, start=2)

    assert_same(*train(False), *train(None))


def test_non_finite_gradient_moves_nothing() -> None:
    params, opt = run(lambda g: ro.Adam(g), 2)
    before = {n: p.detach().clone() for n, p in params.items()}
    state_before = {n: {k: v.clone() for k, v in s.items()} for n, s in states(opt, params).items()}
    opt.zero_grad()
    paramset.loss(params, 2).backward()
    params["single"].grad[1, 2] = float("inf")  # group 1, after group 0's buckets
    with pytest.raises(FloatingPointError, match="param group 1, parameter 2"):
        opt.step()
    for n, p in params.items():
        assert torch.equal(p, before[n]), n
    for n, s in states(opt, params).items():
        for k, v in s.items():
            assert torch.equal(v, state_before[n][k]), (n, k)


def test_non_finite_check_is_exact_when_a_sum_overflows() -> None:
    """Finite gradients whose sum overflows are not mistaken for non-finite ones."""
    x = torch.nn.Parameter(torch.zeros(4, dtype=torch.float32))
    x.grad = torch.full((4,), 3e38, dtype=torch.float32)
    ro.SGD([x], lr=1e-40).step()  # the sum is inf, every entry finite: no error
    assert torch.isfinite(x).all()


def test_tensor_hyperparameters_take_the_reference_path() -> None:
    lr = torch.tensor([[1e-3], [1e-2]])
    x = torch.nn.Parameter(torch.ones(2, 3))
    x.grad = torch.ones(2, 3)
    opt = ro.Adam([x], lr=lr)
    opt.step()
    assert not opt._buckets
    y = torch.nn.Parameter(torch.ones(1, 3))
    y.grad = torch.ones(1, 3)
    ro.Adam([y], lr=1e-2).step()
    assert torch.equal(x[1:], y)


@pytest.mark.parametrize("bad", ["yes", 1, 0.5])
def test_path_options_are_validated(bad) -> None:
    x = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="invalid foreach"):
        ro.Adam([x], foreach=bad)
    with pytest.raises(ValueError, match="invalid compile"):
        ro.SGD([x], compile=bad)


def test_bfloat16_parameters_with_float32_state() -> None:
    """bf16 parameters, fp32 state: the rule computes in fp32 and rounds the parameter once;
    both paths agree bitwise, and a checkpoint keeps the fp32 state exactly."""

    def train(foreach, steps=4, params=None, opt=None):
        g = torch.Generator().manual_seed(5)
        if params is None:
            params = [torch.nn.Parameter(torch.randn(s, generator=g).bfloat16())
                      for s in [(30, 7), (7,), (300,)]]  # fmt: skip
            opt = ro.Adam(params, lr=1e-2, state_dtype=torch.float32, foreach=foreach)
            opt.chunk_size = 64
        for step in range(steps):
            for i, p in enumerate(params):
                p.grad = (torch.sin(p.float() * (i + 1) + step)).bfloat16()
            opt.step()
        return params, opt

    ref_params, ref = train(False)
    params, opt = train(None)
    for p, q in zip(ref_params, params, strict=True):
        assert p.dtype == torch.bfloat16 and torch.equal(p, q)
        assert opt.state[q]["m"].dtype == torch.float32
        assert torch.equal(ref.state[p]["v"], opt.state[q]["v"])
    # Round trip through a checkpoint: the fp32 state survives torch's cast to bf16.
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    clone = [torch.nn.Parameter(p.detach().clone()) for p in params]
    opt2 = ro.Adam(clone, lr=1e-2, state_dtype=torch.float32)
    opt2.load_state_dict(torch.load(buffer))
    for p, q in zip(params, clone, strict=True):
        assert opt2.state[q]["v"].dtype == torch.float32
        assert torch.equal(opt.state[p]["v"], opt2.state[q]["v"])
    train(None, 2, params, opt)
    train(None, 2, clone, opt2)
    for p, q in zip(params, clone, strict=True):
        assert torch.equal(p, q)


def test_state_dtype_is_validated() -> None:
    x = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(ValueError, match="invalid state_dtype"):
        ro.Adam([x], state_dtype=torch.int32)


def test_parameter_moved_to_new_memory_is_followed() -> None:
    """``p.data = ...`` (as a module's ``.to()`` may do) gives the parameter new memory: the
    next step writes there, as the reference does."""

    def train(foreach):
        params, opt = run(lambda g: ro.Adam(g, foreach=foreach), 2)
        for name in ("w1", "big"):
            params[name].data = params[name].data.clone() * 0.5
        return run(None, 2, params=params, opt=opt, start=2)

    assert_same(*train(False), *train(None))


@pytest.mark.parametrize("foreach", [False, True])
def test_one_element_tensor_hyperparameters_step_like_numbers(foreach):
    """A [1, 1] lr and a [1] beta (what a schedule may write) are one number each: the
    same step as the floats on either path, bitwise (the multi-tensor path once broadcast a
    flat chunk to 2-D with them)."""
    import ravine.optim as ro

    def run(lr, beta1):
        torch.manual_seed(0)
        params = [torch.nn.Parameter(torch.randn(s)) for s in ((3, 5), (4,), ())]
        opt = ro.Adam(params, lr=lr, betas=(beta1, 0.999), foreach=foreach)
        for _ in range(3):
            for p in params:
                p.grad = torch.sin(p.detach() * 3) + 0.5
            opt.step()
        return [p.detach() for p in params]

    tensors = run(torch.tensor([[0.1]]), torch.tensor([0.9]))
    numbers = run(0.1, 0.9)
    assert all(torch.equal(a, b) for a, b in zip(tensors, numbers, strict=True))
