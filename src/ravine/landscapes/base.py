"""The landscape object: a loss written in torch plus the facts a race and a figure need.

A landscape's :meth:`Landscape.loss` takes positions of shape ``[..., dim]`` and returns the
loss of each position, shape ``[...]``; rows are independent, so the gradient of
``loss(x).sum()`` with respect to ``x`` holds every row's own gradient. Gradients and Hessians
come from autograd.

A landscape may also carry ``value_and_grad``, its loss and gradient written out by hand.
The race engine uses it, when present, in place of a backward pass (several times fewer
tensor ops per step); autograd stays the reference, and tests check that the two agree at
random points of every landscape that has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

__all__ = ["GradientNoise", "Landscape", "OutputModel", "Point", "least_squares"]

LossFn = Callable[[Tensor], Tensor]
ValueAndGrad = Callable[[Tensor], tuple[Tensor, Tensor]]


@dataclass(frozen=True)
class Point:
    """A known stationary point: its location and its loss value there."""

    location: tuple[float, ...]
    value: float
    label: str = ""

    def tensor(self, dtype: torch.dtype = torch.float64) -> Tensor:
        return torch.tensor(self.location, dtype=dtype)


@dataclass(frozen=True)
class OutputModel:
    r"""A landscape seen as a model: :math:`f(x) = \mathrm{reduce}_j\, \ell(z_j)` with outputs
    :math:`z = z(x)`, for the optimizers that need outputs (Gauss-Newton, natural gradient,
    Hessian-free) or layers (K-FAC).

    ``outputs(x, sample)`` maps positions ``[..., dim]`` to outputs ``[..., m]``; ``loss(z,
    sample)`` gives the per-example losses ``[..., m]``; ``reduction`` (``"sum"`` or
    ``"mean"``) over them gives ``fn``. ``likelihood`` names the distribution whose negative
    log-likelihood ``loss`` is (``"gaussian"``: :math:`\ell = z^2/2`, least squares;
    ``"bernoulli"``: :math:`\ell = \log(1 + e^{-z})`, logistic regression on margins), so that
    the Fisher is defined. ``inputs(sample)``, for linear models only, gives the matrix
    ``[m, dim]`` with :math:`z = \mathrm{inputs}\; x`: a bias-free ``nn.Linear`` layer.
    ``sample`` is a stochastic landscape's mini-batch (None: all the data).
    """

    outputs: Callable[[Tensor, Tensor | None], Tensor]
    loss: Callable[[Tensor, Tensor | None], Tensor]
    likelihood: str
    reduction: str = "sum"
    inputs: Callable[[Tensor | None], Tensor] | None = None

    def value(self, x: Tensor, sample: Tensor | None = None) -> Tensor:
        """The reduced loss at ``x``: equals the landscape's ``fn`` (tests check it)."""
        per = self.loss(self.outputs(x, sample), sample)
        return per.sum(-1) if self.reduction == "sum" else per.mean(-1)


def least_squares(residuals: Callable[[Tensor], Tensor]) -> OutputModel:
    r"""The model of :math:`f(x) = \sum_j \frac12 r_j(x)^2`: outputs the residuals, Gaussian
    likelihood (so the Fisher equals the Gauss-Newton matrix :math:`J^\top J`)."""
    return OutputModel(
        outputs=lambda x, sample=None: residuals(x),
        loss=lambda z, sample=None: 0.5 * z * z,
        likelihood="gaussian",
        reduction="sum",
    )


@dataclass(frozen=True, eq=False)
class Landscape:
    """A test function with its known facts.

    ``fn`` maps positions ``[..., dim]`` to losses ``[...]``. ``domain`` is the plotting box,
    one ``(low, high)`` pair per coordinate. ``minima`` lists known minima, the global one
    first; ``saddles`` known saddle points. ``log_scale`` asks figures for logarithmic
    contour levels (losses spanning many decades). ``value_and_grad``, where given, maps
    positions ``[..., dim]`` to ``(loss [...], gradient [..., dim])``, the same numbers as
    ``fn`` and autograd give, computed without a graph. ``model``, where given, writes the
    loss as a model's outputs and per-example losses (:class:`OutputModel`), for the
    optimizers that need them. ``lrs`` maps an optimizer family (the optimizer class's
    ``family``: ``"gradient descent"``, ``"momentum"``, ``"adaptive"``, ``"adam"``) or a
    registry name (``"adadelta"``, which wins over its family) to the learning rate a race
    uses when none is given (:meth:`default_lr`): one with which that optimizer makes
    progress from ``default_start`` in a couple of hundred steps without diverging.
    """

    name: str
    fn: LossFn
    dim: int
    domain: tuple[tuple[float, float], ...]
    minima: tuple[Point, ...] = ()
    saddles: tuple[Point, ...] = ()
    default_start: tuple[float, ...] = ()
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    log_scale: bool = False
    value_and_grad: ValueAndGrad | None = field(default=None, repr=False)
    model: OutputModel | None = field(default=None, repr=False)
    lrs: Mapping[str, float] = field(default_factory=dict, repr=False)

    # Deterministic landscapes see the same loss every step.
    stochastic = False
    #: Data examples the loss reads at every evaluation (0 for an analytic function): what a
    #: batched evaluation of many positions holds in memory per position.
    n_examples = 0

    def __post_init__(self) -> None:
        if len(self.domain) != self.dim:
            raise ValueError(f"{self.name}: domain has {len(self.domain)} ranges, dim={self.dim}")
        if self.default_start and len(self.default_start) != self.dim:
            raise ValueError(f"{self.name}: default_start must have {self.dim} coordinates")

    # -- evaluation ---------------------------------------------------------------------

    def _as_positions(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            x = torch.as_tensor(x, dtype=torch.float64)
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"{self.name}: positions must have shape [..., {self.dim}], got {tuple(x.shape)}"
            )
        return x

    def loss(self, x: Any) -> Tensor:
        """f(x) for positions ``x`` of shape ``[..., dim]``; returns shape ``[...]``."""
        return self.fn(self._as_positions(x))

    __call__ = loss

    def gradient(self, x: Any) -> Tensor:
        """grad f(x), shape ``[..., dim]``, through autograd."""
        x = self._as_positions(x).detach().clone().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.loss(x).sum(), x)
        return g

    def hessian(self, x: Any) -> Tensor:
        """The Hessian of f at ``x``, shape ``[..., dim, dim]``, through autograd."""
        x = self._as_positions(x).detach().clone().requires_grad_(True)
        with torch.enable_grad():
            (g,) = torch.autograd.grad(self.loss(x).sum(), x, create_graph=True)
            rows = [
                torch.autograd.grad(g[..., i].sum(), x, retain_graph=True)[0]
                for i in range(self.dim)
            ]
        return torch.stack(rows, dim=-2)

    # -- facts ----------------------------------------------------------------------------

    @property
    def global_minimum(self) -> Point | None:
        """The lowest known minimum, or None where the function has none (saddles)."""
        return min(self.minima, key=lambda p: p.value) if self.minima else None

    def start(self, dtype: torch.dtype = torch.float64) -> Tensor:
        """The default start as a tensor of shape ``[dim]``."""
        return torch.tensor(self.default_start, dtype=dtype)

    def default_lr(self, name: str, family: str = "") -> float | None:
        """The learning rate this landscape suggests for the optimizer registered as
        ``name`` of family ``family``: ``lrs[name]``, else ``lrs[family]``, else None."""
        for key in (name, family):
            if key and key in self.lrs:
                return float(self.lrs[key])
        return None

    def box(self, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor]:
        """The domain as (low, high) tensors of shape ``[dim]``."""
        lo = torch.tensor([d[0] for d in self.domain], dtype=dtype)
        hi = torch.tensor([d[1] for d in self.domain], dtype=dtype)
        return lo, hi

    def settings(self) -> str:
        """A short description of the landscape and its options, for figure captions."""
        shown = ", ".join(
            f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.options.items()
        )
        return f"{self.name}({shown})" if shown else self.name

    def __repr__(self) -> str:
        return f"Landscape({self.settings()}, dim={self.dim})"


class GradientNoise(Landscape):
    """A landscape plus unbiased linear noise, redrawn every step.

    The loss an optimizer sees at step t is ``f(x) + u_t . x`` with ``u_t ~ N(0, scale^2 I)``,
    so its gradient is ``grad f(x) + u_t``: the exact gradient plus Gaussian noise of standard
    deviation ``scale`` per coordinate. The drawn surface and the recorded losses are ``f``.
    In a race, every trajectory with seed ``s`` sees the same noise sequence (common random
    numbers), drawn from a ``torch.Generator`` seeded with ``(seed, s)``.
    """

    stochastic = True

    def __init__(self, base: Landscape, scale: float, seed: int = 0) -> None:
        if not isinstance(scale, int | float) or not scale >= 0 or scale == float("inf"):
            raise ValueError(f"noise scale must be a finite number >= 0, got {scale!r}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"noise seed must be an integer >= 0, got {seed!r}")
        options = {**base.options, "noise": float(scale)}
        if seed:
            options["noise_seed"] = seed
        super().__init__(
            name=base.name,
            fn=base.fn,
            dim=base.dim,
            domain=base.domain,
            minima=base.minima,
            saddles=base.saddles,
            default_start=base.default_start,
            description=f"{base.description} With gradient noise N(0, {scale:g}^2) per step.",
            options=options,
            log_scale=base.log_scale,
            value_and_grad=base.value_and_grad,
            lrs=base.lrs,
        )
        object.__setattr__(self, "base", base)
        object.__setattr__(self, "scale", float(scale))
        object.__setattr__(self, "seed", seed)

    def generator(self, seed: int) -> torch.Generator:
        """The noise generator of race seed ``seed``."""
        return torch.Generator().manual_seed(self.seed * 1_000_003 + int(seed))

    def draw(self, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """One step's noise u_t, shape ``[dim]``."""
        return self.scale * torch.randn(self.dim, generator=generator, dtype=dtype)

    def sample_loss(self, x: Tensor, sample: Tensor) -> Tensor:
        """The loss seen this step: ``f(x) + u . x`` with ``sample = u`` of shape [..., dim]."""
        return self.loss(x) + (sample * x).sum(-1)
