"""The built-in problems. Every dataset is generated or bundled locally: scikit-learn's
moons, digits, breast-cancer and wine sets, the mnist1d generator, and files the user gives."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from .base import Problem

__all__ = ["cifar10", "digits", "fashion_mnist", "logreg", "mlp", "mnist", "mnist1d", "moons"]


def _require(name: str, value: object, ok: bool, allowed: str) -> None:
    if not ok:
        raise ValueError(f"{name}: got {value!r}; allowed: {allowed}")


def mlp(sizes: list[int], activation: str = "relu") -> nn.Sequential:
    """A multilayer perceptron with the given layer widths (input first, output last)."""
    acts: dict[str, Callable[[], nn.Module]] = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU}
    _require("activation", activation, activation in acts, ", ".join(acts))
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(acts[activation]())
    return nn.Sequential(*layers)


def _split(x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int):
    from sklearn.model_selection import train_test_split

    _require("val_fraction", val_fraction, 0.0 < val_fraction < 1.0, "0 < val_fraction < 1")
    return train_test_split(x, y, test_size=val_fraction, random_state=seed, stratify=y)


def _held_out(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int):
    """``(x, y, test)``: the rest and a stratified held-out test split of ``test_fraction``
    (0: none, and the data as they were, so the train and validation splits do not change);
    ``test`` is the ``x_test``/``y_test`` keywords of :class:`Problem`."""
    _require("test_fraction", test_fraction, 0.0 <= test_fraction < 1.0, "0 <= test_fraction < 1")
    if test_fraction == 0:
        return x, y, {}
    x, xt, y, yt = _split(x, y, test_fraction, seed + 1)
    return (
        x,
        y,
        {
            "x_test": torch.as_tensor(np.ascontiguousarray(xt), dtype=torch.float32),
            "y_test": torch.as_tensor(np.asarray(yt), dtype=torch.long),
        },
    )


def _tensors(xs, ys, xv, yv) -> dict:
    return {
        "x_train": torch.as_tensor(np.ascontiguousarray(xs), dtype=torch.float32),
        "y_train": torch.as_tensor(np.asarray(ys), dtype=torch.long),
        "x_val": torch.as_tensor(np.ascontiguousarray(xv), dtype=torch.float32),
        "y_val": torch.as_tensor(np.asarray(yv), dtype=torch.long),
    }


def _standardize(xs: np.ndarray, xv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale features by the training set's mean and standard deviation (never the val set's)."""
    mu, sd = xs.mean(0), xs.std(0)
    sd = np.where(sd > 0, sd, 1.0)
    return (xs - mu) / sd, (xv - mu) / sd


def moons(
    n: int = 1000,
    noise: float = 0.3,
    hidden: int = 32,
    depth: int = 2,
    val_fraction: float = 0.2,
    data_seed: int = 0,
    test_fraction: float = 0.0,
) -> Problem:
    """Noisy two moons (scikit-learn ``make_moons``), a 2-class MLP with ``depth`` tanh layers;
    ``test_fraction`` of the examples held out as a test split (before the validation split)."""
    from sklearn.datasets import make_moons

    _require("n", n, isinstance(n, int) and n >= 10, "an integer >= 10")
    _require("noise", noise, noise >= 0, ">= 0")
    x, y = make_moons(n_samples=n, noise=noise, random_state=data_seed)
    x, y, test = _held_out(x, y, test_fraction, data_seed)
    xs, xv, ys, yv = _split(x, y, val_fraction, data_seed)
    sizes = [2] + [hidden] * depth + [2]
    return Problem(
        name="moons",
        model=lambda: mlp(sizes, "tanh"),
        target=0.85,
        info={"classes": 2, "features": 2},
        **_tensors(xs, ys, xv, yv),
        **test,
    )


class _DigitsCNN(nn.Module):
    """Two 3x3 convolutions with 2x2 max pooling (8x8 -> 4x4 -> 2x2), then a linear layer."""

    def __init__(self, channels: int = 8, classes: int = 10, side: int = 8, colours: int = 1):
        super().__init__()
        self.colours, self.side = colours, side
        self.features = nn.Sequential(
            nn.Conv2d(colours, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * channels * (side // 4) ** 2, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, self.colours, self.side, self.side)
        return self.head(self.features(x).flatten(1))


def digits(
    model: str = "mlp",
    hidden: int = 64,
    channels: int = 8,
    val_fraction: float = 0.2,
    data_seed: int = 0,
    test_fraction: float = 0.0,
) -> Problem:
    """scikit-learn's 8x8 handwritten digits (1797 images, 10 classes), pixels scaled to [0, 1],
    a stratified train/validation split (and a held-out test split of ``test_fraction``, made
    first); an MLP (64-hidden-10, ReLU) or a small CNN."""
    from sklearn.datasets import load_digits

    _require("model", model, model in {"mlp", "cnn"}, "'mlp' or 'cnn'")
    d = load_digits()
    x, y, test = _held_out(d.data / 16.0, d.target, test_fraction, data_seed)
    xs, xv, ys, yv = _split(x, y, val_fraction, data_seed)
    if model == "mlp":
        factory: Callable[[], nn.Module] = lambda: mlp([64, hidden, 10])  # noqa: E731
    else:
        factory = lambda: _DigitsCNN(channels)  # noqa: E731
    return Problem(
        name=f"digits_{model}",
        model=factory,
        target=0.9,
        info={"classes": 10, "features": 64},
        **_tensors(xs, ys, xv, yv),
        **test,
    )


def logreg(
    dataset: str = "breast_cancer",
    val_fraction: float = 0.25,
    data_seed: int = 0,
    test_fraction: float = 0.0,
) -> Problem:
    """Multinomial logistic regression (one linear layer, softmax cross-entropy) on a tabular
    set bundled with scikit-learn (``breast_cancer`` or ``wine``), standardised features
    (and a held-out test split of ``test_fraction``, made first, scaled the same way).
    The objective is convex, so every optimizer should reach the same optimum."""
    from sklearn import datasets

    loaders = {"breast_cancer": datasets.load_breast_cancer, "wine": datasets.load_wine}
    _require("dataset", dataset, dataset in loaders, ", ".join(loaders))
    d = loaders[dataset]()
    x, y, test = _held_out(d.data, d.target, test_fraction, data_seed)
    xs, xv, ys, yv = _split(x, y, val_fraction, data_seed)
    if test:
        _, test["x_test"] = _standardize(xs, test["x_test"].numpy())
        test["x_test"] = torch.as_tensor(test["x_test"], dtype=torch.float32)
    xs, xv = _standardize(xs, xv)
    features, classes = d.data.shape[1], int(d.target.max()) + 1
    return Problem(
        name=f"logreg_{dataset}",
        model=lambda: nn.Linear(features, classes),
        target=0.9,
        info={"classes": classes, "features": features},
        **_tensors(xs, ys, xv, yv),
        **test,
    )


def mnist1d(
    n: int = 4000, hidden: int = 100, train_split: float = 0.8, data_seed: int = 42
) -> Problem:
    """MNIST-1D (Greydanus and Steinbach 2020): 40-sample 1-D signals of 10 digit templates,
    made by the ``mnist1d`` package's generator here (never its download path); an MLP
    40-hidden-hidden-10 as in the paper's baseline. The generator seeds numpy's and Python's
    global generators: their states are restored afterwards."""
    from mnist1d.data import get_dataset_args, make_dataset

    _require("n", n, isinstance(n, int) and n >= 20, "an integer >= 20")
    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = n, train_split, data_seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return Problem(
        name="mnist1d",
        model=lambda: mlp([40, hidden, hidden, 10]),
        target=0.6,
        info={"classes": 10, "features": 40},
        **_tensors(d["x"], d["y"], d["x_test"], d["y_test"]),
    )


def _image_problem(name, xs, ys, xv, yv, model, hidden, channels, limit, side, colours):
    _require("model", model, model in {"mlp", "cnn"}, "'mlp' or 'cnn'")
    if limit is not None:
        _require("limit", limit, isinstance(limit, int) and limit > 0, "a positive integer")
        xs, ys = xs[:limit], ys[:limit]
    xs = xs.reshape(len(xs), -1).astype(np.float32) / 255.0
    xv = xv.reshape(len(xv), -1).astype(np.float32) / 255.0
    features = xs.shape[1]
    classes = int(max(ys.max(), yv.max())) + 1 if len(yv) else int(ys.max()) + 1
    classes = max(classes, 10)
    if model == "mlp":
        factory: Callable[[], nn.Module] = lambda: mlp([features, hidden, classes])  # noqa: E731
    else:
        factory = lambda: _DigitsCNN(channels, classes, side, colours)  # noqa: E731
    return Problem(
        name=name,
        model=factory,
        target=None,
        info={"classes": classes, "features": features},
        **_tensors(xs, ys, xv, yv),
    )


def mnist(
    path: str, model: str = "mlp", hidden: int = 128, channels: int = 16, limit: int | None = None
) -> Problem:
    """MNIST from the four IDX files in directory ``path`` (the t10k set is the validation set);
    ``limit`` keeps the first examples of the training set only."""
    from .files import load_idx_split

    xs, ys, xv, yv = load_idx_split(path)
    return _image_problem("mnist", xs, ys, xv, yv, model, hidden, channels, limit, 28, 1)


def fashion_mnist(
    path: str, model: str = "mlp", hidden: int = 128, channels: int = 16, limit: int | None = None
) -> Problem:
    """Fashion-MNIST from its four IDX files in directory ``path`` (same layout as MNIST)."""
    from .files import load_idx_split

    xs, ys, xv, yv = load_idx_split(path)
    return _image_problem("fashion_mnist", xs, ys, xv, yv, model, hidden, channels, limit, 28, 1)


def cifar10(
    path: str, model: str = "cnn", hidden: int = 256, channels: int = 16, limit: int | None = None
) -> Problem:
    """CIFAR-10 from the python-version batches in directory ``path`` (``test_batch`` is the
    validation set); a small CNN (default) or an MLP on the flattened 3x32x32 pixels."""
    from .files import load_cifar10

    xs, ys, xv, yv = load_cifar10(path)
    return _image_problem("cifar10", xs, ys, xv, yv, model, hidden, channels, limit, 32, 3)
