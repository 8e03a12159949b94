"""Study figures read back from their matplotlib objects: every trial's curve behind the best
setting's, a wall-clock panel, and colour scales that follow the metric's direction."""

from __future__ import annotations

import pytest

from ravine.plot import study as plots
from ravine.study.records import Interval, MetricRow, ProblemSpec, StoredTrial, TrialConfig
from ravine.study.summary import Results

# optimizer, lr, seed, final validation metric
TABLE = [
    ("A", 0.01, 0, 0.3), ("A", 0.01, 1, 0.35), ("A", 0.1, 0, 0.1), ("A", 0.1, 1, 0.15),
    ("A", 1.0, 0, 0.2), ("A", 1.0, 1, 0.25), ("B", 0.01, 0, 0.4), ("B", 0.01, 1, 0.45),
]  # fmt: skip


def results(higher: bool) -> Results:
    trials, metrics = [], {}
    for i, (opt, lr, seed, final) in enumerate(TABLE):
        config = TrialConfig(
            ProblemSpec("p", {}, "P"), "sgd", opt, {"lr": lr}, seed,
            Interval("steps", 20), 8, Interval("steps", 10),
        )  # fmt: skip
        trials.append(StoredTrial(i, f"h{i}", config, "grid", "done"))
        metrics[i] = [
            MetricRow(10 * k, float(k), 1.0 - 0.2 * k, v, 1.0, v, lr, 0.5 * k + seed)
            for k, v in enumerate([0.5, (0.5 + final) / 2, final])
        ]
    return Results(trials, metrics, targets={"P": None}, higher_is_better={"P": higher})


def test_curves_show_every_trial_and_a_wall_clock_panel():
    fig = plots.curves_figure(results(False), "P", "mse")
    axes = fig.axes
    assert len(axes) == 4
    for ax in axes:  # one faint line per trial in every panel, behind the best settings'
        faint = [ln for ln in ax.get_lines() if ln.get_gid() == "trial"]
        assert len(faint) == len(TABLE)
        assert all(ln.get_alpha() < 0.5 for ln in faint)
    wall = axes[3]
    assert wall.get_xlabel() == "wall-clock seconds"
    bold = [ln for ln in wall.get_lines() if ln.get_gid() != "trial"]
    # the best settings' seeds (A at lr 0.1 since lower is better, B at 0.01) against seconds
    assert (
        sorted(tuple(ln.get_xdata()) for ln in bold)
        == [(0.0, 0.5, 1.0)] * 2 + [(1.0, 1.5, 2.0)] * 2
    )
    assert sorted(ln.get_ydata()[-1] for ln in bold) == pytest.approx([0.1, 0.15, 0.4, 0.45])


@pytest.mark.parametrize(("higher", "cmap", "word"), [(True, "viridis", "higher"),
                                                      (False, "viridis_r", "lower")])  # fmt: skip
def test_heatmap_colours_follow_the_metrics_direction(higher, cmap, word):
    fig = plots.heatmap_figure(results(higher), "P", "mse")
    (image,) = fig.axes[0].get_images()
    assert image.get_cmap().name == cmap
    assert f"({word} is better)" in fig.axes[1].get_ylabel()  # the colour bar


def test_sampled_learning_rates_are_points_not_a_grid():
    fig = plots.sensitivity_figure(results(True), "P", "mse", sampled=True)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "learning rate (sampled)"
    assert all(ln.get_linestyle() == "None" for ln in ax.get_lines() if len(ln.get_xdata()) > 1)
