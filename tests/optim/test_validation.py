"""Bad input gets a clear error naming the parameter, the value and the allowed range."""

from __future__ import annotations

import math

import pytest
import torch

import ravine.optim as ro
from ravine.optim.closures import make_closure
from support import catalog


def params():
    return [torch.nn.Parameter(torch.zeros(3))]


def target(entry):
    """What the optimizer is built on: parameters, or a model for those that read layers."""
    return torch.nn.Linear(3, 1) if entry.takes_model else params()


@pytest.mark.parametrize(("entry", "bad"), catalog.bad_inputs())
def test_constructor_rejects(entry, bad) -> None:
    with pytest.raises(bad.error, match=bad.pattern) as raised:
        entry.cls(target(entry), **{bad.key: bad.value})
    assert str(raised.value).startswith(entry.cls.__name__)


@pytest.mark.parametrize(("entry", "bad"), catalog.bad_inputs(lambda b: b.group))
def test_param_group_rejects(entry, bad) -> None:
    opt = entry.cls(target(entry))
    with pytest.raises(bad.error, match=bad.pattern):
        opt.add_param_group({"params": params(), bad.key: bad.value})


def test_tensor_hyperparameter_with_one_bad_entry() -> None:
    lr = torch.tensor([[0.1], [-0.2], [0.3]])
    with pytest.raises(ValueError, match=r"invalid lr=a tensor holding -0\.2"):
        ro.Adam(params(), lr=lr)
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        ro.Adam(params(), betas=(torch.tensor([0.5, 1.0]), 0.999))


def test_sparse_gradient_is_rejected() -> None:
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2])).sum().backward()
    with pytest.raises(TypeError, match="Adam does not support sparse gradients"):
        ro.Adam(emb.parameters()).step()


def test_complex_parameter_is_rejected() -> None:
    with pytest.raises(TypeError, match="does not support complex parameters"):
        ro.RMSProp([torch.nn.Parameter(torch.zeros(2, dtype=torch.complex64))])


def test_non_finite_gradient_names_the_parameter() -> None:
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    a.grad = torch.zeros(2)
    b.grad = torch.tensor([0.0, math.inf])
    opt = ro.Adam([{"params": [a]}, {"params": [b]}])
    with pytest.raises(FloatingPointError, match="non-finite gradient in param group 1, param"):
        opt.step()
    assert torch.equal(b, torch.zeros(2)), "nothing may move on a rejected step"
    passing = ro.SGD([b], lr=1.0, check_finite=False)
    passing.step()
    assert math.isinf(float(b.detach()[1]))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("size", [3, 200_000])
def test_every_kind_of_non_finite_entry_is_caught_anywhere(bad, size) -> None:
    # the check reads the gradient's extremes: NaN, +inf and -inf at the first, a middle or
    # the last entry of a small or a large (chunked) gradient; huge finite values pass
    for where in (0, size // 2, size - 1):
        ok, p = torch.nn.Parameter(torch.zeros(4)), torch.nn.Parameter(torch.zeros(size))
        ok.grad = torch.full((4,), -3e38)  # near float32's largest, finite
        p.grad = torch.zeros(size)
        p.grad[where] = bad
        opt = ro.SGD([ok, torch.nn.Parameter(torch.zeros(0)), p], lr=0.1)
        with pytest.raises(FloatingPointError, match="param group 0, parameter 2"):
            opt.step()
    big = torch.nn.Parameter(torch.zeros(3))
    big.grad = torch.tensor([1e308, -1e308, 0.0])
    ro.SGD([big], lr=1e-3).step()  # finite, however large
    assert torch.isfinite(big).all()


def test_lookahead_needs_a_closure() -> None:
    x = torch.nn.Parameter(torch.ones(2))
    opt = ro.Nesterov([x], lookahead=True)
    x.grad = torch.ones(2)
    opt.step()  # first step: v = 0, the look-ahead point is x itself
    x.grad = torch.ones(2)
    with pytest.raises(RuntimeError, match="look-ahead point: call step\\(closure\\)"):
        opt.step()


def test_registry_names() -> None:
    assert isinstance(ro.get("ADAM", params(), lr=0.1), ro.Adam)
    assert isinstance(ro.get(" rmsprop ", params()), ro.RMSProp)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'; known optimizers: sgd, "):
        ro.get("adamm", params())
    with pytest.raises(ValueError, match=r"Adam: .*unexpected keyword argument 'momentum'.*betas"):
        ro.get("adam", params(), momentum=0.9)
    with pytest.raises(TypeError, match="optimizer name must be a string"):
        ro.get(3, params())


def test_works_with_torch_lr_scheduler_unchanged() -> None:
    x = torch.nn.Parameter(torch.ones(1))
    opt = ro.Adam([x], lr=1.0)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for _ in range(6):
        x.grad = torch.ones(1)
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]


def _fuzz_cases():
    """(entry, hyperparameter, label, bad value) for every hyperparameter of every catalog
    optimizer: negative, NaN, infinite, of a wrong type, a tensor of a wrong shape, a string,
    and a fraction where the default is an integer (a count or a seed)."""
    cases = []
    for entry in catalog.CATALOG:
        for name, default in entry.registry.defaults.items():
            values = {
                "negative": -1,
                "nan": math.nan,
                "inf": math.inf,
                "object": object(),
                "tensor": torch.ones(2, 3, 4),
                "string": "x",
            }
            if type(default) is int:
                values["fraction"] = 2.5
            for label, value in values.items():
                cases.append(pytest.param(entry, name, value, id=f"{entry.name}-{name}-{label}"))
    return cases


@pytest.mark.parametrize(("entry", "name", "value"), _fuzz_cases())
def test_every_bad_hyperparameter_is_refused_by_name(entry, name, value) -> None:
    """Never accepted, never another exception (torch's manual_seed or int() errors, a
    'Boolean value of Tensor is ambiguous' later): a ValueError or TypeError naming it."""
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        opt = entry.registry.build(target(entry), **{name: value})
        if entry.elementwise:  # refused at the first step at the latest
            for group in opt.param_groups:
                for p in group["params"]:
                    p.grad = torch.ones_like(p)
            opt.step()


@pytest.mark.parametrize("entry", catalog.CATALOG, ids=lambda e: e.name)
def test_every_hyperparameter_has_a_declared_constraint(entry) -> None:
    if entry.registry.is_ravine:
        undeclared = [k for k in entry.registry.defaults if entry.cls.constraint(k) is None]
        assert not undeclared, f"{entry.name}: no constraint for {undeclared}"


@pytest.mark.parametrize(
    "v", catalog.variants(lambda v: not v.entry.elementwise and not v.entry.takes_model, first=True)
)
def test_second_order_methods_take_numbers_and_one_element_tensors(v) -> None:
    """A real hyperparameter may be a Python or NumPy number or a one-element tensor (what a
    schedule may write); steps run with each."""
    np = pytest.importorskip("numpy")
    g = torch.Generator().manual_seed(0)
    inputs, targets = torch.randn(8, 3, generator=g), torch.randint(0, 2, (8,), generator=g)
    for lr in (np.float32(0.5), torch.tensor(0.5)):
        w = torch.nn.Parameter(torch.zeros(3, 2))
        taken = v.entry.registry.defaults
        hyper = {k: x for k, x in (("lr", lr), ("damping", 0.1)) if k in taken}
        opt = v.make([w], **hyper)  # damping: the softmax's shift leaves a flat direction

        def outputs(w=w):
            z = inputs @ w
            return torch.nn.functional.cross_entropy(z, targets), z

        closure = make_closure(
            v.entry.closure_kind,
            zero_grad=opt.zero_grad,
            loss=lambda outputs=outputs: outputs()[0],
            outputs=outputs,
        )
        for _ in range(2):  # SOAP's first step only builds its eigenbasis
            opt.step(closure)
        assert torch.isfinite(w).all() and not torch.equal(w.detach(), torch.zeros(3, 2))
