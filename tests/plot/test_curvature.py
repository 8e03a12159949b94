"""The curvature figures are PNG files a person can open, drawn from plain data."""

from __future__ import annotations

import pytest

from ravine.plot import curvature as P

plt = pytest.importorskip("matplotlib.pyplot")


def test_figures_are_written(tmp_path):
    paths = [
        P.eigenvalue_spectrum({"a": ([0.0, 1.0, 2.0], [0.1, 0.5, 0.2])}, tmp_path / "s.png"),
        P.sharpness_by_optimizer({"sgd": [1.0, 2.0], "adam": [3.0, 4.0]}, tmp_path / "b.png"),
        P.iterations_vs_condition([1, 10], {"gd": [1, 30], "newton": [1, 1]}, tmp_path / "i.png"),
        P.cost_vs_parameters(
            [10, 20], {"solve": [1e-3, 8e-3]}, tmp_path / "c.png", reference_slopes={"solve": 3}
        ),
        P.training_curves({"adam": ([1, 2, 3], [1.0, 0.5, 0.2])}, tmp_path / "t.png"),
    ]
    for path in paths:
        image = plt.imread(path)
        assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100
