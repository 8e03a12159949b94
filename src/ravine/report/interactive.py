"""Interactive figures of a study, as plotly figure specifications (plain JSON-ready dicts):
the same charts in the static report (drawn offline by plotly.js embedded once per report)
and on the explorer's study page (drawn by the plotly.js it serves).

Every number comes from :mod:`ravine.study.summary`; the browser only draws. Each optimizer
is one legend group in the colour it has in every other ravine figure, so a click on its
legend entry hides it in every panel of the figure, and hovering shows the values.
"""

from __future__ import annotations

import base64
import math
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "curves_figure", "jsonable", "plotly_data_uri", "sensitivity_figure", "trial_figure",
]  # fmt: skip

#: plotly.js options of every figure: no plotly logo, no link anywhere.
CONFIG = {"displaylogo": False, "responsive": True, "showLink": False}

_PANELS = (("train_loss", "training loss"), ("val_metric", "validation {metric}"))


def jsonable(value: Any) -> Any:
    """``value`` with NaN as None and infinities as ``"inf"``/``"-inf"`` (JSON has neither),
    tuples as lists and keys as strings, recursively."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def optimizer_colors(results) -> dict[str, str]:
    """Each optimizer label's colour, as in ravine's other figures."""
    from ..plot.study import _colors

    return _colors(results, list(dict.fromkeys(t.optimizer for t in results.trials)))


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
        "hovermode": "closest",
        "legend": {"title": {"text": "optimizer (click to hide)"}},
        "uirevision": "study",  # a legend click (hidden optimizer) survives updates
        **extra,
    }


def _best_mean(c: dict[str, Any]) -> tuple[list[float], list[float]]:
    """The best setting's curve (:func:`ravine.study.summary.curves`) as its mean over the
    seeds that have a finite value at each epoch."""
    xs, ys = [], []
    for i, epoch in enumerate(c["epochs"]):
        vals = [
            float(v[i])
            for v in c["per_seed"].values()
            if i < len(v) and v[i] is not None and math.isfinite(float(v[i]))
        ]
        if vals:
            xs.append(epoch)
            ys.append(sum(vals) / len(vals))
    return xs, ys


def curves_figure(results, problem: str, metric: str) -> dict[str, Any]:
    """Training loss and validation metric per epoch: every trial faint, each optimizer's
    best setting bold (mean over its seeds); one legend entry per optimizer."""
    from ..study.summary import curves, trial_curves

    colors = optimizer_colors(results)
    data = []
    for col, (column, title) in enumerate(_PANELS):
        axes = {"xaxis": f"x{col + 1}", "yaxis": f"y{col + 1}"}
        for opt in results.optimizers(problem):
            group = {"legendgroup": opt, "name": opt, **axes}
            for i, (xs, ys) in enumerate(trial_curves(results, problem, opt, column)):
                line = {"color": colors[opt], "width": 0.7}
                data.append({"x": xs, "y": ys, "mode": "lines", "line": line, "opacity": 0.3,
                             "showlegend": False, "hoverinfo": "skip", "uid": f"{opt}.{column}.{i}",
                             **group})  # fmt: skip
            best = curves(results, problem, opt, column)
            if best is not None:
                xs, ys = _best_mean(best)
                data.append({
                    "x": xs, "y": ys, "mode": "lines+markers", "showlegend": col == 0,
                    "line": {"color": colors[opt], "width": 2.5}, "marker": {"size": 4},
                    "uid": f"{opt}.{column}.best",
                    "hovertemplate": f"{opt} ({best['label']})<br>epoch %{{x}}<br>"
                    f"{title.format(metric=metric)} %{{y:.4g}}<extra></extra>", **group,
                })  # fmt: skip
    layout = _layout(
        f"{problem}: best setting per optimizer (bold, mean over seeds), every trial faint",
        grid={"rows": 1, "columns": 2, "pattern": "independent"},
        xaxis={"title": {"text": "epoch"}},
        xaxis2={"title": {"text": "epoch"}},
        yaxis={"title": {"text": "training loss"}, "type": "log"},
        yaxis2={"title": {"text": f"validation {metric}"}},
    )
    return jsonable({"data": data, "layout": layout})


def sensitivity_figure(
    results, problem: str, metric: str, rows: list[dict[str, Any]], sampled: bool = False
) -> dict[str, Any]:
    """Final validation metric against the learning rate, per optimizer, from the rows of
    :func:`ravine.study.summary.sensitivity` (mean over seeds, bars one std)."""
    colors = optimizer_colors(results)
    data = []
    for opt in dict.fromkeys(r["optimizer"] for r in rows):
        mine = [r for r in rows if r["optimizer"] == opt and isinstance(r.get("lr"), int | float)]
        data.append({
            "x": [r["lr"] for r in mine], "y": [r["val_metric_mean"] for r in mine],
            "error_y": {"type": "data", "array": [r["val_metric_std"] for r in mine]},
            "customdata": [[r["trials"], r["diverged"]] for r in mine],
            "mode": "markers" if sampled else "lines+markers", "name": opt, "legendgroup": opt,
            "uid": opt,
            "line": {"color": colors.get(opt, "#444")}, "marker": {"size": 7},
            "hovertemplate": f"{opt}<br>lr %{{x:.3g}}<br>{metric} %{{y:.4g}}"
            "<br>trials %{customdata[0]}, diverged %{customdata[1]}<extra></extra>",
        })  # fmt: skip
    layout = _layout(
        f"{problem}: final validation {metric} against "
        + ("the sampled learning rates" if sampled else "learning rate"),
        xaxis={"title": {"text": "learning rate"}, "type": "log"},
        yaxis={"title": {"text": f"final validation {metric}"}},
    )
    return jsonable({"data": data, "layout": layout})


def trial_figure(trial, rows, metric: str) -> dict[str, Any]:
    """One trial's training and validation loss and metric against epochs."""
    data = []
    panels = (("x1", "y1", "train_loss", "val_loss"), ("x2", "y2", "train_metric", "val_metric"))
    for xa, ya, train, val in panels:
        for column, dash in ((train, "solid"), (val, "dash")):
            data.append({
                "x": [r.epoch for r in rows], "y": [getattr(r, column) for r in rows],
                "mode": "lines+markers", "name": column.replace("_", " "),
                "line": {"dash": dash}, "xaxis": xa, "yaxis": ya,
            })  # fmt: skip
    layout = _layout(
        f"trial {trial.id}: {trial.optimizer} on {trial.problem}, seed {trial.seed} "
        f"({trial.status})",
        grid={"rows": 1, "columns": 2, "pattern": "independent"},
        xaxis={"title": {"text": "epoch"}},
        xaxis2={"title": {"text": "epoch"}},
        yaxis={"title": {"text": "loss"}},
        yaxis2={"title": {"text": metric}},
    )
    layout["legend"] = {"title": {"text": "curve"}}
    return jsonable({"data": data, "layout": layout})


def plotly_path() -> Path:
    """plotly.js as the installed ``plotly`` package ships it."""
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def plotly_data_uri() -> str:
    """plotly.js as a ``data:`` URI, for a report that must open with no network."""
    return "data:text/javascript;base64," + base64.b64encode(plotly_path().read_bytes()).decode()
