"""A data-defined landscape: logistic regression with two weights on the noisy two moons."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from .base import Landscape, OutputModel, Point
from .common import learning_rates, refine

__all__ = ["Moons", "moons"]


class Moons(Landscape):
    r"""The empirical loss of a 2-parameter logistic regression on scikit-learn's two moons.

    Data: ``sklearn.datasets.make_moons(n_samples, noise=noise, random_state=data_seed)``,
    generated locally, features standardized to zero mean and unit variance, labels
    y_i in {-1, +1}. The model has two weights and no bias (the features are centred)::

        f(w) = 1/n sum_i log(1 + exp(-y_i w . x_i))

    ``loss`` is the full-data loss (the drawn surface, convex with one minimum, found by
    Newton's method). In a race each step sees a mini-batch of ``batch_size`` examples drawn
    without replacement; every trajectory with seed ``s`` sees the same batches.
    """

    stochastic = True

    def __init__(
        self, n_samples: int = 200, noise: float = 0.2, batch_size: int = 16, data_seed: int = 0
    ) -> None:
        name = "moons"
        _check_options(n_samples, noise, batch_size, data_seed)
        X, y = _data(n_samples, noise, data_seed)
        yx = y[:, None] * X  # margins are w . (y_i x_i)
        model = _margin_model(yx)

        def fn(w: Tensor) -> Tensor:
            return model.value(w)

        best = refine(lambda w: fn(w), (0.0, 0.0))
        value = float(fn(torch.tensor(best, dtype=torch.float64)))
        span = max(3.0, 1.6 * max(abs(c) for c in best))
        span = math.ceil(span)
        super().__init__(
            name=name,
            fn=fn,
            dim=2,
            domain=((-span, span), (-span, span)),
            minima=(Point(best, value, "full-data minimum"),),
            default_start=(-0.8 * span, 0.8 * span),
            lrs=learning_rates(0.3, 0.05, 0.1, 0.1, adagrad=1.0, adadelta=30.0),
            description=(
                f"Logistic regression (2 weights, no bias) on {n_samples} noisy two moons "
                f"(noise {noise:g}), mini-batches of {batch_size}."
            ),
            model=model,
            options={
                "n_samples": n_samples,
                "noise": float(noise),
                "batch_size": batch_size,
                "data_seed": data_seed,
            },
            log_scale=True,
        )
        object.__setattr__(self, "features", X)
        object.__setattr__(self, "labels", y)
        object.__setattr__(self, "_yx", yx)
        object.__setattr__(self, "batch_size", batch_size)
        object.__setattr__(self, "n_examples", n_samples)

    def generator(self, seed: int) -> torch.Generator:
        """The mini-batch generator of race seed ``seed``."""
        return torch.Generator().manual_seed(int(seed))

    def draw(self, generator: torch.Generator, dtype: torch.dtype) -> Tensor:
        """One step's mini-batch: indices of shape ``[batch_size]``, without replacement."""
        return torch.randperm(self.n_examples, generator=generator)[: self.batch_size]

    def sample_loss(self, w: Tensor, sample: Tensor) -> Tensor:
        """Mini-batch loss of each row of ``w`` ([..., 2]) on its batch ``sample`` ([..., B])."""
        return self.model.value(w, sample)


def moons(
    n_samples: int = 200, noise: float = 0.2, batch_size: int = 16, data_seed: int = 0
) -> Moons:
    """The two-moons logistic-regression landscape; see :class:`Moons`."""
    return Moons(n_samples=n_samples, noise=noise, batch_size=batch_size, data_seed=data_seed)


def _check_options(n_samples: int, noise: float, batch_size: int, data_seed: int) -> None:
    name = "moons"
    for key, value, low in (("n_samples", n_samples, 2), ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name}: {key} must be an integer >= {low}, got {value!r}")
    if batch_size > n_samples:
        raise ValueError(f"{name}: batch_size={batch_size} exceeds n_samples={n_samples}")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise < 10:
        raise ValueError(f"{name}: noise must be a number in [0, 10), got {noise!r}")
    if isinstance(data_seed, bool) or not isinstance(data_seed, int) or data_seed < 0:
        raise ValueError(f"{name}: data_seed must be an integer >= 0, got {data_seed!r}")


def _data(n_samples: int, noise: float, data_seed: int) -> tuple[Tensor, Tensor]:
    """Standardized features [n, 2] and labels in {-1, +1} [n] of the two moons."""
    from sklearn.datasets import make_moons

    features, labels = make_moons(n_samples=n_samples, noise=noise, random_state=data_seed)
    X = torch.tensor(features, dtype=torch.float64)
    X = (X - X.mean(0)) / X.std(0)
    return X, torch.tensor(labels, dtype=torch.float64) * 2 - 1


def _margin_model(yx: Tensor) -> OutputModel:
    """Logistic regression as outputs (the margins y_i w . x_i) and per-example losses."""

    def margins(w: Tensor, sample: Tensor | None = None) -> Tensor:
        """Outputs: the margins y_i w . x_i of all examples [..., n] or of a mini-batch."""
        if sample is None:
            return w @ yx.to(w.dtype).T
        return (yx.to(w.dtype)[sample] * w[..., None, :]).sum(-1)

    def inputs(sample: Tensor | None = None) -> Tensor:
        """The linear layer's inputs y_i x_i: margins = inputs @ w."""
        return yx if sample is None else yx[sample]

    return OutputModel(
        outputs=margins,
        loss=lambda z, sample=None: F.softplus(-z),
        likelihood="bernoulli",
        reduction="mean",
        inputs=inputs,
    )
