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

How a rule is applied is chosen per optimizer, never per algorithm:

* ``foreach=False``: the per-tensor reference, the rule on each whole parameter;
* default: the multi-tensor path (:mod:`ravine.optim.multi_tensor`), the rule once per chunk
  of a param group's parameters, state in flat buffers, written in place;
* ``compile=True`` (by default where it pays, see :mod:`ravine.optim.paths`): the same
  chunks through one fused kernel each (:mod:`ravine.optim.compiled`).

Constraints live in :mod:`ravine.optim.constraints`, the shared preprocessing of a rule in
:mod:`ravine.optim.rule`, gradient checks in :mod:`ravine.optim.finite`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor

from .closures import evaluate_offset
from .constraints import BOOL, NONNEGATIVE, Constraint
from .finite import check_gradients
from .loading import StateLoading
from .multi_tensor import Bucket, Chunk, Kernel, build_bucket, by_kind, eager_kernel
from .paths import auto_compile
from .rule import (
    Rule,
    State,
    apply_rule,
    as_number,
    check_broadcast,
    is_scalar,
    keyword_only,
)
from .sharded import is_dtensor
from .torch_compat import machinery, plain_group

__all__ = ["MACHINERY", "Optimizer"]


# --------------------------------------------------------------------------- the optimizer


class Optimizer(StateLoading, torch.optim.Optimizer):
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
    gradient, naming the parameter, before any parameter moves; races that record divergence
    pass ``False``.

    ``foreach`` (default None: on) runs elementwise rules with scalar hyperparameters on the
    multi-tensor path; ``False`` keeps the per-tensor reference, ``True`` the eager
    multi-tensor path. ``compile=True`` runs them as compiled fused kernels; the default
    (None, with ``foreach`` not True) compiles where that pays (:mod:`ravine.optim.paths`:
    CUDA with Triton; CPU groups of at least a million elements). All paths give the
    reference's numbers (bitwise for the eager multi-tensor path, to a few ulps compiled)
    and the same per-parameter ``state_dict``.

    ``state_dtype`` (default None: the parameter's dtype) keeps the state in another
    floating dtype, e.g. ``torch.float32`` state for ``bfloat16`` parameters: the rule then
    computes in the wider type and the new parameter is rounded once, when written.
    """

    rule: ClassVar[Rule]
    constraints: ClassVar[Mapping[str, Constraint]] = {}
    # Metadata for `ravine list` and the docs.
    family: ClassVar[str] = ""
    paper: ClassVar[str] = ""
    # The group keys of the rule's arguments where they differ (e.g. {"decay": "alpha"} for
    # torch's RMSprop), and rule arguments a class fixes (e.g. {"eps_in_sqrt": False}).
    rule_names: ClassVar[Mapping[str, str]] = {}
    fixed: ClassVar[Mapping[str, Any]] = {}
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
    # The multi-tensor path runs the rule over chunks of at most this many elements (see
    # ravine.optim.multi_tensor): large enough that per-chunk overhead is small, small
    # enough that the rule's temporaries stay in cache.
    chunk_size: ClassVar[int] = 1 << 16

    _SHARED: ClassVar[Mapping[str, Constraint]] = {
        "lr": NONNEGATIVE,
        "weight_decay": NONNEGATIVE,
        "maximize": BOOL,
        "decoupled_weight_decay": BOOL,
    }

    def __init__(
        self,
        params: Any,
        *,
        check_finite: bool = True,
        foreach: bool | None = None,
        compile: bool | None = None,
        state_dtype: torch.dtype | None = None,
        fused: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        **defaults: Any,
    ) -> None:
        compile = machinery(
            type(self).__name__,
            check_finite=check_finite,
            foreach=foreach,
            compile=compile,
            state_dtype=state_dtype,
            fused=fused,
            capturable=capturable,
            differentiable=differentiable,
        )
        defaults = plain_group(defaults)
        self.check_finite = check_finite
        self.foreach = foreach
        self.compile = compile
        self.state_dtype = state_dtype
        self.validate(defaults)
        rule, names = type(self).rule, type(self).rule_names
        self._rule_keys = {a: names.get(a, a) for a in keyword_only(rule) if a not in self.fixed}
        self._buckets: dict[tuple[int, str, torch.device, torch.dtype], Bucket] = {}
        self._compile_broken = False
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

    @classmethod
    def constraint(cls, name: str) -> Constraint | None:
        """The declared constraint on hyperparameter ``name``, or None."""
        return cls.constraints.get(name) or cls._SHARED.get(name)

    def validate(self, values: Mapping[str, Any]) -> None:
        """Check each hyperparameter in ``values`` against its constraint; raises
        ``ValueError`` naming the hyperparameter and its allowed values."""
        owner = type(self).__name__
        for name, value in values.items():
            constraint = self.constraint(name)
            if constraint is not None:
                constraint.check(name, value, owner)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's ``add_param_group``, its hyperparameters validated (numpy scalars read as
        numbers) and, for elementwise rules, tensor hyperparameters checked against each
        parameter: one that would enlarge a parameter is refused here, naming it."""
        super().add_param_group(plain_group(param_group))
        group = self.param_groups[-1]
        try:
            self.validate(group)
            owner = type(self).__name__
            for p in group["params"]:
                if p.is_complex():
                    raise TypeError(
                        f"{owner} does not support complex parameters; "
                        "optimize torch.view_as_real(p) instead"
                    )
            if self.elementwise:  # every hyperparameter: the rule's and the state's alike
                values = {k: v for k, v in group.items() if k != "params"}
                gi, params = len(self.param_groups) - 1, enumerate(group["params"])
                check_broadcast(owner, gi, params, values)
        except (ValueError, TypeError):
            self.param_groups.pop()  # nothing half-added
            raise

    def _hyper(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """The rule's hyperparameters, from ``group`` (under :attr:`rule_names`) and
        :attr:`fixed`; a one-element tensor as a number (:func:`as_number`)."""
        hyper = {arg: as_number(group[key]) for arg, key in self._rule_keys.items()}
        return hyper | dict(self.fixed)

    # -- the step -------------------------------------------------------------------------

    def _prep(self, group: Mapping[str, Any]) -> dict[str, Any]:
        """The shared preprocessing of ``group``, as :func:`apply_rule` takes it."""
        wd = group["weight_decay"]
        return {
            "lr": as_number(group["lr"]),
            "weight_decay": as_number(wd) if _nonzero(wd) else None,
            "maximize": bool(group["maximize"]),
            "decoupled": bool(group.get("decoupled_weight_decay", False)),
        }

    def _update(
        self, p: Tensor, g: Tensor, state: Mapping[str, Any], t: int, group: Mapping[str, Any]
    ) -> tuple[Tensor, State]:
        """The rule applied to ``p`` with the shared preprocessing of :func:`apply_rule`."""
        return apply_rule(type(self).rule, p, g, state, t, self._hyper(group), **self._prep(group))

    def _evaluate(self, closure: Callable[[], Any] | None) -> Any:
        offsets: list[tuple[Tensor, Tensor]] = []
        looks_ahead = type(self).gradient_offset is not Optimizer.gradient_offset
        for group in self.param_groups if looks_ahead else ():
            for p in group["params"]:
                state = self.state.get(p)
                if state:
                    offset = self.gradient_offset(p, state, group)
                    if offset is not None:
                        offsets.append((p, offset))
        return evaluate_offset(type(self).__name__, closure, offsets)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Advance every parameter one step; ``closure`` recomputes the loss and gradients.

        Each param group goes through the multi-tensor path (eager or compiled, see
        :mod:`ravine.optim.multi_tensor`) where it can, the per-tensor reference otherwise.
        Every gradient is gathered and checked before the first parameter moves."""
        if self.needs_closure and closure is None:
            raise RuntimeError(f"{type(self).__name__}.step needs a closure")
        loss = self._evaluate(closure)
        work = [self._plan(gi, group) for gi, group in enumerate(self.param_groups)]
        if self.check_finite:
            probes = [
                t for w in work for bucket, staged in w.buckets for t in bucket.probes(staged)
            ]
            # Meta parameters (never in a bucket) hold no values to check.
            probes += [p.grad for w in work for _, p in w.rest if p.device.type != "meta"]
            check_gradients(type(self).__name__, probes, [w.group["params"] for w in work])
        for w in work:
            if w.buckets:
                kernel = self._kernel(w.group, w.path)
                for bucket, staged in w.buckets:
                    bucket.apply(kernel, staged)
            if w.path == WHOLE:
                kernel = self._kernel(w.group, "compiled")
                for _, p in w.rest:
                    self._step_whole_compiled(p, w.group, kernel)
            else:
                for _, p in w.rest:
                    self._step_reference(p, w.group)
        return loss

    def _plan(self, gi: int, group: dict[str, Any]) -> _GroupStep:
        """How group ``gi`` steps: its buckets with their gradients gathered, and the
        parameters left to the reference path."""
        active = [(pi, p) for pi, p in enumerate(group["params"]) if p.grad is not None]
        for pi, p in active:
            if p.grad.is_sparse:
                raise TypeError(
                    f"{type(self).__name__} does not support sparse gradients (parameter {pi})"
                )
        path = self._path(group, active)
        work = _GroupStep(gi, group, path)
        if path is None or path == WHOLE:
            values = {k: group[k] for k in (*self._rule_keys.values(), "weight_decay")}
            check_broadcast(type(self).__name__, gi, active, values)  # before any moves
            work.rest = active
            return work
        kinds, work.rest = by_kind(active)
        for kind, members in kinds.items():
            bucket = self._bucket((gi, path, *kind), [p for _, p in members], group)
            if bucket is None:
                work.rest += members
            else:
                work.buckets.append((bucket, bucket.stage()))
        return work

    def _path(self, group: Mapping[str, Any], active: list[tuple[int, Tensor]]) -> str | None:
        """ "compiled", "eager" (multi-tensor) or None (the per-tensor reference)."""
        if not active or not self.elementwise or (self.foreach is False and not self.compile):
            return None
        keys = (*self._rule_keys.values(), "lr", "weight_decay")
        if not all(is_scalar(group[k]) for k in keys):
            # Tensor hyperparameters broadcast against each whole parameter: the reference
            # serves them, or asked to compile, one fused kernel per parameter.
            whole = self.compile and not self._compile_broken
            return WHOLE if whole and not any(is_dtensor(p) for _, p in active) else None
        compile = self.compile
        if compile is None:
            compile = self.foreach is not True and auto_compile([p for _, p in active])
        return "compiled" if compile and not self._compile_broken else "eager"

    def _state_of(self, p: Tensor, group: Mapping[str, Any]) -> dict[str, Any]:
        """The state of ``p``, created (step 0 and :meth:`init_state`, in ``state_dtype``
        where one is set) on first use."""
        state = self.state[p]
        if not state:
            state["step"] = torch.tensor(0.0, dtype=_step_dtype(p))
            new = self.init_state(p, group)
            if self.state_dtype is not None:
                new = {k: v.to(self.state_dtype) for k, v in new.items()}
            state.update(new)
        return state

    def _step_reference(self, p: Tensor, group: Mapping[str, Any]) -> None:
        """The rule over the whole parameter ``p``, out of place, copied back."""
        state = self._state_of(p, group)
        state["step"] = state["step"] + 1  # out of place: multi-tensor buckets share one
        t = int(state["step"].item())
        new_p, new_state = self._update(p, p.grad, state, t, group)
        p.copy_(new_p)
        state.update(new_state)

    def _step_whole_compiled(self, p: Tensor, group: Mapping[str, Any], kernel: Kernel) -> None:
        """The compiled kernel over the whole parameter ``p``, its tensor hyperparameters
        broadcast inside the kernel, parameter and state written in place."""
        state = self._state_of(p, group)
        state["step"] = state["step"] + 1
        t = int(state["step"].item())
        full = {k: v for k, v in state.items() if k != "step" and v.shape == p.shape}
        scalars = {k: v for k, v in state.items() if k != "step" and k not in full}
        chunk = Chunk([(0, 0, p.numel())], [p.detach()], full, p.numel(), [p.shape])
        state.update(kernel(chunk, p.grad, scalars, t))

    def _bucket(self, key: tuple, params: list[Tensor], group: Mapping[str, Any]) -> Bucket | None:
        bucket = self._buckets.get(key)
        if bucket is not None and bucket.valid(params, self.state):
            return bucket
        states = [self._state_of(p, group) for p in params]
        bucket = build_bucket(
            params, states, self.state, self.chunk_size, slice_large=key[1] == "eager"
        )
        if bucket is None:
            self._buckets.pop(key, None)
        else:
            self._buckets[key] = bucket
        return bucket

    def _kernel(self, group: Mapping[str, Any], path: str) -> Kernel:
        """The chunk update of ``group``'s rule: eager ops, or the compiled fused kernel with
        the eager one as its fallback should compiling fail (then for good)."""
        rule, owner = type(self).rule, type(self).__name__
        hyper, prep = self._hyper(group), self._prep(group)
        eager = eager_kernel(rule, hyper, prep, owner)
        if path == "eager":
            return eager
        from .compiled import compiled_kernel  # imports Inductor: on first use

        def broken() -> bool:
            return self._compile_broken

        def fail() -> None:
            self._compile_broken = True

        device_type = group["params"][0].device.type
        return compiled_kernel(rule, hyper, prep, device_type, eager, broken, fail)

    # -- description ------------------------------------------------------------------------

    @classmethod
    def hyperparameter_defaults(cls) -> dict[str, Any]:
        """The keyword defaults of the constructor: the algorithm's published defaults."""
        sig = inspect.signature(cls.__init__)
        return {
            name: prm.default
            for name, prm in sig.parameters.items()
            if prm.default is not inspect.Parameter.empty and name not in MACHINERY
        }


@dataclass
class _GroupStep:
    """One param group's share of a step (see :meth:`Optimizer._plan`)."""

    gi: int
    group: dict[str, Any]
    path: str | None
    buckets: list[tuple[Bucket, list[Tensor]]] = field(default_factory=list)
    rest: list[tuple[int, Tensor]] = field(default_factory=list)


# The path of tensor hyperparameters with compile=True: one fused kernel per whole parameter.
WHOLE = "compiled whole tensors"

# Keyword arguments of every optimizer that choose how it runs, not what it computes.
MACHINERY = (
    "check_finite",
    "foreach",
    "compile",
    "state_dtype",
    "fused",
    "capturable",
    "differentiable",
)


def _nonzero(x: float | Tensor) -> bool:
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


def _step_dtype(p: Tensor) -> torch.dtype:
    return torch.float64 if p.dtype == torch.float64 else torch.float32
