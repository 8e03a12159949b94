"""Shared optimizer machinery: every ravine optimizer is one rule plus this class.

An algorithm is written once, as a *rule*: a pure function of plain torch ops that takes a
parameter, its (already preprocessed) gradient, the algorithm's state, the step number and
the hyperparameters as keywords, and returns the new parameter and the new state::

    def rule(p, g, state, t, *, lr, ...) -> tuple[Tensor, dict[str, Tensor]]

Everything around it lives here and is never repeated per algorithm: param groups with
per-group hyperparameters, validation of every hyperparameter against its allowed range,
lazy state creation, the step counter, ``maximize``, coupled and decoupled weight decay,
closures (including evaluation at a look-ahead point), rejection of sparse, complex and
non-finite gradients, and ``state_dict``/``load_state_dict`` (inherited from torch).

Hyperparameters may be Python numbers or tensors that broadcast against the parameter.
A tensor ``lr`` of shape ``[T, 1]`` applied to a parameter of shape ``[T, D]`` advances T
independent problems at T learning rates in one tensor op: races and batched sweeps rest on it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor

__all__ = [
    "BOOL",
    "NONNEGATIVE",
    "POSITIVE",
    "UNIT_INTERVAL",
    "Betas",
    "Choice",
    "Constraint",
    "Optimizer",
    "Range",
    "Rule",
    "State",
    "arguments",
    "zeros",
]

State = dict[str, Tensor]
Rule = Callable[..., tuple[Tensor, State]]


# --------------------------------------------------------------------------- constraints


class Constraint:
    """An allowed set of values for one hyperparameter; ``check`` raises ``ValueError``."""

    def check(self, name: str, value: Any, owner: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


def _real(value: Tensor) -> bool:
    return not value.is_complex() and value.dtype != torch.bool


def _values(value: Any) -> list[float] | None:
    """The numbers in a number or one-element real tensor, or None when neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, Tensor) and _real(value) and value.numel() == 1:
        return [float(value.detach())]
    return None


@dataclass(frozen=True)
class Range(Constraint):
    """A real interval; ``low_open``/``high_open`` exclude the end points. Non-finite values
    are always rejected, whatever the interval."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        left = "(" if self.low_open or self.low == -math.inf else "["
        right = ")" if self.high_open or self.high == math.inf else "]"
        return f"a finite number in {left}{self.low:g}, {self.high:g}{right}"

    def contains(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        above = x > self.low if self.low_open else x >= self.low
        below = x < self.high if self.high_open else x <= self.high
        return above and below

    def check(self, name: str, value: Any, owner: str) -> None:
        if isinstance(value, Tensor) and _real(value) and value.numel() > 1:
            bad = self._outside(value.detach())
            if bad is not None:
                raise ValueError(
                    f"{owner}: invalid {name}=a tensor holding {bad:.6g}; "
                    f"allowed: {self.describe()}"
                )
            return
        xs = _values(value)
        if xs is None:
            raise ValueError(
                f"{owner}: {name} must be a number or a real tensor, "
                f"got {type(value).__name__} {value!r}"
            )
        if not self.contains(xs[0]):
            raise ValueError(f"{owner}: invalid {name}={value}; allowed: {self.describe()}")

    def _outside(self, v: Tensor) -> float | None:
        """The first element of ``v`` outside the interval, or None (one vectorized pass)."""
        ok = torch.isfinite(v)
        ok &= v > self.low if self.low_open else v >= self.low
        ok &= v < self.high if self.high_open else v <= self.high
        if bool(ok.all()):
            return None
        return float(v[~ok].flatten()[0])


@dataclass(frozen=True)
class Choice(Constraint):
    """One of a fixed set of option values (compared with ``==``, type included)."""

    options: tuple[Any, ...]

    def describe(self) -> str:
        return "one of " + ", ".join(repr(o) for o in self.options)

    def check(self, name: str, value: Any, owner: str) -> None:
        if not any(type(value) is type(o) and value == o for o in self.options):
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")


@dataclass(frozen=True)
class Betas(Constraint):
    """A pair (beta1, beta2), each a number or tensor in [0, 1)."""

    each: Range = Range(0.0, 1.0, high_open=True)

    def describe(self) -> str:
        return f"a pair (beta1, beta2), each {self.each.describe()}"

    def check(self, name: str, value: Any, owner: str) -> None:
        if not isinstance(value, tuple | list) or len(value) != 2:
            raise ValueError(f"{owner}: invalid {name}={value!r}; allowed: {self.describe()}")
        for i, beta in enumerate(value):
            self.each.check(f"{name}[{i}]", beta, owner)


NONNEGATIVE = Range(0.0)
POSITIVE = Range(0.0, low_open=True)
UNIT_INTERVAL = Range(0.0, 1.0, high_open=True)  # momentum and decay rates: [0, 1)
BOOL = Choice((False, True))


# --------------------------------------------------------------------------- the optimizer


class Optimizer(torch.optim.Optimizer):
    """Base class of every ravine optimizer: a rule plus shared machinery.

    Subclasses set :attr:`rule` (the algorithm's math), :attr:`constraints` (the allowed
    range of each hyperparameter), override :meth:`init_state` (the state the rule keeps)
    and write an ``__init__`` whose keyword defaults are the algorithm's defaults.

    Shared hyperparameters handled here, never inside a rule:

    * ``maximize``: the rule sees ``-grad``;
    * ``weight_decay`` (L2, coupled): the rule sees ``grad + weight_decay * p``;
    * ``decoupled_weight_decay`` (where a class declares it): ``p <- p (1 - lr weight_decay)``
      before the rule, as in AdamW (Loshchilov and Hutter 2019).

    ``check_finite`` (default True) raises :class:`FloatingPointError` on a NaN or infinite
    gradient, naming the parameter; races that record divergence pass ``False``.
    """

    rule: ClassVar[Rule]
    constraints: ClassVar[Mapping[str, Constraint]] = {}
    # Metadata for `ravine list` and the docs.
    family: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    # Whether step() must receive a closure.
    needs_closure: ClassVar[bool] = False
    # What step(closure) expects of its closure: "backward" (torch's contract: zero the
    # gradients, compute the loss, call backward(), return the loss); "loss" (return the
    # loss with its graph, no backward: the optimizer differentiates it itself); "outputs"
    # (return (loss, model outputs): Gauss-Newton and Fisher methods); "model" (the
    # optimizer is built on a model and reads its layers: K-FAC).
    closure_kind: ClassVar[str] = "backward"
    # True when the rule acts on each coordinate alone, so that the rows of a [T, D]
    # parameter are T independent problems (races and sweeps batch them). Methods that mix
    # coordinates (Newton, quasi-Newton, K-FAC) set it False.
    elementwise: ClassVar[bool] = True
    # Elementwise rules with scalar hyperparameters run over parameters larger than this
    # many elements in chunks of this size (see _step_in_chunks).
    chunk_size: ClassVar[int] = 1 << 16

    _SHARED: ClassVar[Mapping[str, Constraint]] = {
        "lr": NONNEGATIVE,
        "weight_decay": NONNEGATIVE,
        "maximize": BOOL,
        "decoupled_weight_decay": BOOL,
    }

    def __init__(self, params: Any, *, check_finite: bool = True, **defaults: Any) -> None:
        BOOL.check("check_finite", check_finite, type(self).__name__)
        self.check_finite = check_finite
        self._validate(defaults)
        self._rule_args = _keyword_only(type(self).rule)
        super().__init__(params, defaults)

    # -- hooks for subclasses ---------------------------------------------------------

    def init_state(self, p: Tensor, group: Mapping[str, Any]) -> State:
        """The rule's state for a new parameter ``p`` (the step counter is kept apart)."""
        return {}

    def gradient_offset(self, p: Tensor, state: State, group: Mapping[str, Any]) -> Tensor | None:
        """Offset from ``p`` at which the gradient is to be taken, or None for ``p`` itself.

        Look-ahead methods (Sutskever et al.'s Nesterov) return it; step() then moves every
        parameter there, calls the closure, and moves them back before the rule runs."""
        return None

    # -- validation ---------------------------------------------------------------------

    def _constraint(self, name: str) -> Constraint | None:
        return self.constraints.get(name) or self._SHARED.get(name)

    def _validate(self, values: Mapping[str, Any]) -> None:
        owner = type(self).__name__
        for name, value in values.items():
            constraint = self._constraint(name)
            if constraint is not None:
                constraint.check(name, value, owner)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        self._validate(group)
        owner = type(self).__name__
        for p in group["params"]:
            if p.is_complex():
                raise TypeError(
                    f"{owner} does not support complex parameters; "
                    "optimize torch.view_as_real(p) instead"
                )

    # -- the step -------------------------------------------------------------------------

    def _gradient(self, p: Tensor, g: Tensor, group: Mapping[str, Any]) -> Tensor:
        """The gradient the rule sees: negated to maximize, plus L2 (coupled) weight decay."""
        if group["maximize"]:
            g = -g
        wd = group["weight_decay"]
        if not group.get("decoupled_weight_decay", False) and _nonzero(wd):
            g = g + wd * p
        return g

    def _update(
        self, p: Tensor, g: Tensor, state: Mapping[str, Any], t: int, group: Mapping[str, Any]
    ) -> tuple[Tensor, State]:
        """The rule applied to ``p`` (a parameter or a chunk of one) with the shared
        preprocessing: gradient as :meth:`_gradient`, decoupled weight decay on ``p``."""
        lr, wd = group["lr"], group["weight_decay"]
        if group.get("decoupled_weight_decay", False) and _nonzero(wd):
            p = p * (1 - lr * wd)
        hyper = {name: group[name] for name in self._rule_args}
        return type(self).rule(p, self._gradient(p, g, group), state, t, **hyper)

    def _check_finite(self, grads: list[Tensor], where: list[tuple[int, int]]) -> None:
        if not grads:
            return
        extremes = [e for g in grads if g.numel() for e in (g.amax(), g.amin())]
        if not extremes or bool(torch.isfinite(torch.stack(extremes)).all()):
            return
        for g, (gi, pi) in zip(grads, where, strict=True):
            if not bool(all_finite(g)):
                raise FloatingPointError(
                    f"{type(self).__name__}: non-finite gradient in param group {gi}, "
                    f"parameter {pi}; pass check_finite=False to let non-finite values through"
                )

    def _evaluate(self, closure: Callable[[], Any] | None) -> Any:
        offsets: list[tuple[Tensor, Tensor]] = []
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state.get(p)
                if state:
                    offset = self.gradient_offset(p, state, group)
                    if offset is not None:
                        offsets.append((p, offset))
        if not offsets:
            if closure is None:
                return None
            with torch.enable_grad():
                return closure()
        if closure is None:
            raise RuntimeError(
                f"{type(self).__name__} takes its gradient at a look-ahead point: "
                "call step(closure) with a closure that recomputes the loss and its gradients"
            )
        saved = [(p, p.detach().clone()) for p, _ in offsets]
        for p, offset in offsets:
            p.add_(offset)
        try:
            with torch.enable_grad():
                loss = closure()
        finally:
            for p, original in saved:
                p.copy_(original)
        return loss

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Advance every parameter one step; ``closure`` recomputes the loss and gradients."""
        if self.needs_closure and closure is None:
            raise RuntimeError(f"{type(self).__name__}.step needs a closure")
        loss = self._evaluate(closure)
        owner = type(self).__name__
        for gi, group in enumerate(self.param_groups):
            active = [(pi, p) for pi, p in enumerate(group["params"]) if p.grad is not None]
            for pi, p in active:
                if p.grad.is_sparse:
                    raise TypeError(f"{owner} does not support sparse gradients (parameter {pi})")
            if self.check_finite:
                self._check_finite([p.grad for _, p in active], [(gi, pi) for pi, _ in active])
            keys = (*self._rule_args, "lr", "weight_decay")
            scalar = self.elementwise and all(_is_scalar(group[k]) for k in keys)
            for pi, p in active:
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0, dtype=_step_dtype(p))
                    state.update(self.init_state(p, group))
                state["step"] += 1
                t = int(state["step"].item())
                if scalar and p.numel() > self.chunk_size and _chunkable(p, state):
                    self._step_in_chunks(p, state, t, group)
                    continue
                new_p, new_state = self._update(p, p.grad, state, t, group)
                if new_p.shape != p.shape:
                    raise ValueError(
                        f"{owner}: a hyperparameter tensor of group {gi} broadcasts parameter "
                        f"{pi} from {tuple(p.shape)} to {tuple(new_p.shape)}; tensor "
                        "hyperparameters must broadcast against the parameter without "
                        "enlarging it"
                    )
                p.copy_(new_p)
                state.update(new_state)
        return loss

    def _step_in_chunks(self, p: Tensor, state: dict[str, Any], t: int, group: Mapping) -> None:
        """The rule over consecutive chunks of a large parameter, written back in place.

        An elementwise rule with scalar hyperparameters gives the same numbers chunk by chunk
        (tests/optim/test_chunked.py checks bit equality), while its temporaries stay small
        enough to live in cache and in the allocator's free lists instead of fresh pages."""
        full = {
            k: v.view(-1)
            for k, v in state.items()
            if k != "step" and isinstance(v, Tensor) and v.shape == p.shape
        }
        rest = {k: v for k, v in state.items() if k not in full}
        flat_p, flat_g, size = p.view(-1), p.grad.view(-1), self.chunk_size
        new_rest: dict[str, Tensor] = {}
        for a in range(0, flat_p.numel(), size):
            piece = slice(a, a + size)
            chunk_state = rest | {k: v[piece] for k, v in full.items()}
            new_p, new_state = self._update(flat_p[piece], flat_g[piece], chunk_state, t, group)
            flat_p[piece].copy_(new_p)
            for k, v in new_state.items():
                if k in full:
                    full[k][piece].copy_(v)
                elif (
                    v.numel() == 1
                ):  # per-parameter scalars (Nadam's mu product): same in every chunk
                    new_rest[k] = v
                else:
                    raise RuntimeError(
                        f"{type(self).__name__}: the rule returned state {k!r} that init_state "
                        "did not create; declare it in init_state"
                    )
        state.update(new_rest)

    # -- description ------------------------------------------------------------------------

    @classmethod
    def hyperparameter_defaults(cls) -> dict[str, Any]:
        """The keyword defaults of the constructor: the algorithm's published defaults."""
        sig = inspect.signature(cls.__init__)
        return {
            name: prm.default
            for name, prm in sig.parameters.items()
            if prm.default is not inspect.Parameter.empty and name != "check_finite"
        }


def arguments(local_vars: Mapping[str, Any], **fixed: Any) -> dict[str, Any]:
    """The arguments of a subclass ``__init__``, from its ``locals()``, to pass on to
    :class:`Optimizer`: ``super().__init__(**arguments(locals()))``. Keywords in ``fixed``
    are added (or override), e.g. ``decoupled_weight_decay=True`` for AdamW."""
    args = {k: v for k, v in local_vars.items() if k not in ("self", "__class__")}
    return args | fixed


def all_finite(t: Tensor) -> Tensor:
    """Whether every entry of ``t`` is finite, as a 0-d bool tensor.

    From the tensor's extremes (NaN propagates through both; an infinity is one of them):
    two reductions that allocate nothing the size of ``t``, where ``isfinite(t).all()``
    writes a bool tensor as large as ``t`` (40 times slower on a 10M-element gradient)."""
    if t.numel() == 0:
        return torch.tensor(True)
    return torch.isfinite(torch.stack((t.amax(), t.amin()))).all()


def zeros(p: Tensor) -> Tensor:
    """A zero state buffer shaped, typed and laid out like ``p``."""
    return torch.zeros_like(p, memory_format=torch.preserve_format)


def _keyword_only(rule: Rule) -> tuple[str, ...]:
    sig = inspect.signature(rule)
    return tuple(
        name for name, prm in sig.parameters.items() if prm.kind is inspect.Parameter.KEYWORD_ONLY
    )


def _is_scalar(value: Any) -> bool:
    if isinstance(value, tuple | list):
        return all(_is_scalar(v) for v in value)
    return not isinstance(value, Tensor) or value.numel() == 1


def _chunkable(p: Tensor, state: Mapping[str, Any]) -> bool:
    """Whether the parameter, its gradient and its full-size state are flat-viewable."""
    return (
        p.is_contiguous()
        and p.grad.is_contiguous()
        and p.grad.shape == p.shape
        and all(
            v.is_contiguous()
            for v in state.values()
            if isinstance(v, Tensor) and v.shape == p.shape
        )
    )


def _nonzero(x: float | Tensor) -> bool:
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


def _step_dtype(p: Tensor) -> torch.dtype:
    return torch.float64 if p.dtype == torch.float64 else torch.float32
