"""The compiled path (``compile=True``) against the per-tensor reference.

Inductor fuses the rule into one loop per chunk; its arithmetic may differ from eager torch
in the last bits (scalar factors computed in double precision on the host, a different
association of a product), so the comparison allows a few ulps: relative 1e-12 for float64,
1e-5 for float32 (about 80 float32 ulps after 7 steps; measured differences were at most
8 ulps), with an absolute floor for entries near zero. The graphs compiled must be one per
rule, dtype and option set, never one per parameter shape.
"""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch._dynamo.utils import counters

import ravine.optim as ro
import ravine.optim.compiled
from support import catalog, paramset
from support.paramset import run, states

TOL = {torch.float64: {"rtol": 1e-12, "atol": 1e-15}, torch.float32: {"rtol": 1e-5, "atol": 1e-7}}


def assert_close_runs(params_a, opt_a, params_b, opt_b) -> None:
    for name, p in params_a.items():
        torch.testing.assert_close(p, params_b[name], **TOL[p.dtype], msg=name)
    sa, sb = states(opt_a, params_a), states(opt_b, params_b)
    for name in sa:
        assert sa[name].keys() == sb[name].keys(), name
        for key, a in sa[name].items():
            tol = TOL.get(a.dtype, TOL[torch.float64])
            torch.testing.assert_close(a, sb[name][key], **tol, msg=f"{name}.{key}")


# Each optimizer's defaults: a variant is one more set of graphs to compile (a second or
# more each, cold); the eager paths check every variant (test_multi_tensor, test_chunked).
@pytest.mark.parametrize("variant", catalog.variants(lambda v: v.entry.compiled, first=True))
def test_compiled_matches_reference(variant) -> None:
    graphs = counters["stats"]["unique_graphs"]
    ref = run(lambda g: variant.make(g, foreach=False), 7)
    fast = run(lambda g: variant.make(g, compile=True), 7)
    assert not fast[1]._compile_broken
    assert_close_runs(*ref, *fast)
    # Two groups (with and without weight decay), two dtypes: at most 3 graphs for 6 shapes.
    assert counters["stats"]["unique_graphs"] - graphs <= 3


def test_compiled_checkpoint_resumes_on_the_eager_path() -> None:
    straight = run(lambda g: ro.Adam(g, foreach=False, amsgrad=True), 6)
    params, opt = run(lambda g: ro.Adam(g, compile=True, amsgrad=True), 3)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    opt2 = ro.Adam(paramset.groups(params), amsgrad=True)
    opt2.load_state_dict(torch.load(buffer))
    resumed = run(None, 3, params=params, opt=opt2, start=3)
    assert_close_runs(*straight, *resumed)


def test_compiler_failure_falls_back_to_the_eager_path(monkeypatch) -> None:
    def broken(rule, device_type, variant=None):
        def kernel(*args, **kwargs):
            raise RuntimeError("no compiler here")

        return kernel

    monkeypatch.setattr(ravine.optim.compiled, "fused_kernel", broken)
    eager = run(lambda g: ro.RMSProp(g), 3)
    with pytest.warns(RuntimeWarning, match="compiling the step failed"):
        fallback = run(lambda g: ro.RMSProp(g, compile=True), 3)
    assert fallback[1]._compile_broken
    for name, p in eager[0].items():
        assert torch.equal(p, fallback[0][name]), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not every step
        run(None, 1, params=fallback[0], opt=fallback[1], start=3)


def test_compiled_float32_parameters_with_many_shapes_share_one_graph() -> None:
    shapes = [(3, 5), (17,), (4, 4, 2), (100,), (2, 9), (64, 3)]
    params = [torch.nn.Parameter(torch.randn(s, dtype=torch.float32)) for s in shapes]
    opt = ro.Adam(params, compile=True, amsgrad=True, bias_correction=False)
    opt.chunk_size = 40  # slices and packs of many lengths
    graphs = counters["stats"]["unique_graphs"]
    for step in range(3):
        for p in params:
            p.grad = torch.full_like(p, 0.1 * (step + 1))
        opt.step()
    assert counters["stats"]["unique_graphs"] - graphs <= 1
    assert len(opt._buckets) == 1


def test_compiled_bfloat16_parameters_with_float32_state() -> None:
    """The fused kernel reads bf16 parameters and gradients and fp32 state, computes in
    fp32 and rounds the parameter once: within one bf16 ulp (2**-8 relative) of the
    reference, the fp32 state within float32 tolerance."""

    def train(**options):
        g = torch.Generator().manual_seed(5)
        params = [
            torch.nn.Parameter(torch.randn(s, generator=g).bfloat16()) for s in [(30, 7), (300,)]
        ]
        opt = ro.Adam(params, lr=1e-2, state_dtype=torch.float32, **options)
        for step in range(4):
            for i, p in enumerate(params):
                p.grad = torch.sin(p.float() * (i + 1) + step).bfloat16()
            opt.step()
        return params, opt

    ref_params, ref = train(foreach=False)
    params, opt = train(compile=True)
    assert not opt._compile_broken
    for p, q in zip(ref_params, params, strict=True):
        torch.testing.assert_close(q, p, rtol=2**-8, atol=1e-6)
        torch.testing.assert_close(opt.state[q]["v"], ref.state[p]["v"], **TOL[torch.float32])


def test_default_compiles_large_cpu_groups_only() -> None:
    """compile=None compiles a CPU group of 2**20 elements or more (with a C++ compiler),
    runs smaller ones eagerly, and foreach=True keeps the eager multi-tensor path."""
    from ravine.optim.paths import AUTO_COMPILE_CPU, _compiler_available

    def path_of(n: int, **options) -> str | None:
        p = torch.nn.Parameter(torch.zeros(n, dtype=torch.float32))
        p.grad = torch.zeros_like(p)
        opt = ro.Adam([p], **options)
        return opt._path(opt.param_groups[0], [(0, p)])

    assert path_of(AUTO_COMPILE_CPU - 1) == "eager"
    assert path_of(AUTO_COMPILE_CPU) == ("compiled" if _compiler_available() else "eager")
    assert path_of(AUTO_COMPILE_CPU, foreach=True) == "eager"
    assert path_of(AUTO_COMPILE_CPU, compile=False) == "eager"
    assert path_of(10, compile=True) == "compiled"
    assert path_of(10, foreach=False) is None


@pytest.mark.parametrize("name", ["adam", "nadam", "rmsprop"])
def test_compiled_tensor_hyperparameters_match_separate_runs(name: str) -> None:
    """compile=True with [T, 1] hyperparameters: one fused kernel per whole parameter, the
    rows equal to T separate reference runs (float64: relative 1e-12)."""
    cls = ro.REGISTRY[name]
    lrs = torch.tensor([[1e-3], [3e-3], [1e-2]])
    beta1 = torch.tensor([[0.8], [0.9], [0.95]])
    hyper = {"betas": (beta1, 0.99)} if name != "rmsprop" else {"momentum": beta1}
    x0 = torch.randn(3, 5, generator=torch.Generator().manual_seed(2))

    def train(x0, **options):
        x = torch.nn.Parameter(x0.clone())
        opt = cls([x], **options)
        for step in range(6):
            x.grad = torch.sin(3 * x.detach() + step)
            opt.step()
        return x.detach(), opt

    batched, opt = train(x0, lr=lrs, compile=True, **hyper)
    assert not opt._compile_broken and not opt._buckets
    for i in range(3):
        row = {k: (v[0][i].item(), v[1]) if isinstance(v, tuple) else v[i].item()
               for k, v in hyper.items()}  # fmt: skip
        single, _ = train(x0[i : i + 1], lr=lrs[i].item(), foreach=False, **row)
        torch.testing.assert_close(batched[i : i + 1], single, rtol=1e-12, atol=1e-15)


def test_enlarging_hyperparameter_refused_before_anything_moves() -> None:
    x = torch.nn.Parameter(torch.zeros(3))
    y = torch.nn.Parameter(torch.zeros(4, 1))
    for p in (x, y):
        p.grad = torch.ones_like(p)
    opt = ro.SGD([{"params": [y], "lr": torch.full((4, 1), 0.1)},
                  {"params": [x], "lr": 0.1}], compile=True)  # fmt: skip
    opt.param_groups[1]["lr"] = torch.full((4, 1), 0.1)  # a construction would refuse it
    with pytest.raises(ValueError, match="group 1 broadcasts parameter 0"):
        opt.step()
    assert torch.equal(y, torch.zeros(4, 1)) and not opt.state
