"""The study report: summary tables, figures, sensitivity, ensembles, performance profile."""

from __future__ import annotations

import html
import json
import math
import time
from pathlib import Path
from typing import Any

__all__ = ["study_html", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td.l,th.l{text-align:left}
figure{margin:.8em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#555}.muted{color:#666;font-size:.9em}
details{margin:.6em 0}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if math.isinf(v):
            return "never" if v > 0 else "-inf"
        return f"{v:.4g}"
    if isinstance(v, list | dict):
        return json.dumps(v)
    return str(v)


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]], cls: str) -> str:
    if not rows:
        return '<p class="muted">(nothing to show)</p>'
    head = "".join(
        f'<th class="{"l" if i == 0 else ""}">{html.escape(title)}</th>'
        for i, (_, title) in enumerate(columns)
    )
    body = []
    for r in rows:
        cells = "".join(
            f'<td class="{"l" if i == 0 or isinstance(r.get(k), str) else ""}">'
            f"{html.escape(_fmt(r.get(k)))}</td>"
            for i, (k, _) in enumerate(columns)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _figure(fig, caption: str, name: str) -> str:
    from ..plot.style import data_uri

    return (
        f'<figure class="ravine-figure" data-name="{html.escape(name)}">'
        f'<img alt="{html.escape(caption)}" src="{data_uri(fig)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def study_html(store) -> str:
    """The report of the study in ``store`` as one HTML document."""
    from ..plot import study as plots
    from ..study.ensemble import ensemble_table
    from ..study.summary import (
        Results,
        performance_profile,
        profile_steps,
        sensitivity,
        summarize,
    )

    spec = store.get_meta("spec") or {}
    info = store.problem_info()
    results = Results.from_store(store)
    rows = summarize(results)
    counts = store.counts()
    name = spec.get("name", "study")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>ravine study: {html.escape(name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Study <code>{html.escape(name)}</code></h1>",
        f'<p class="muted">Generated {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} '
        f"by ravine. Trials: {', '.join(f'{v} {k}' for k, v in counts.items() if v)}. "
        f"Protocol: {html.escape(json.dumps(spec.get('protocol')))}; budget "
        f"{html.escape(json.dumps(spec.get('budget')))}; batch size "
        f"{html.escape(str(spec.get('batch_size')))}; "
        f"seeds {html.escape(json.dumps(spec.get('seeds')))}.</p>",
    ]
    envs = [t.environment for t in results.trials if t.environment]
    if envs:
        e = envs[0]
        parts.append(
            '<p class="muted">Versions: '
            + html.escape(", ".join(f"{k} {v}" for k, v in e["versions"].items()))
            + f"; device: {html.escape(e['device'])}.</p>"
        )
    parts.append("<h2>Summary</h2>")
    parts.append(
        '<p class="muted">Best setting: highest mean final validation metric over the seeds every '
        "setting ran on. Metrics: mean, sample std, min and max over the best setting's seeds. "
        "Steps to target: median over seeds of the first evaluated step reaching the target.</p>"
    )
    parts.append(
        _table(
            rows,
            [
                ("problem", "problem"),
                ("optimizer", "optimizer"),
                ("best", "best setting"),
                ("seeds", "seeds"),
                ("val_metric_mean", "val metric"),
                ("val_metric_std", "± std"),
                ("val_metric_min", "min"),
                ("val_metric_max", "max"),
                ("train_loss_mean", "train loss"),
                ("val_loss_mean", "val loss"),
                ("target", "target"),
                ("steps_to_target", "steps to target"),
                ("divergence_rate", "divergence rate"),
                ("trials", "trials"),
            ],
            "ravine-table summary",
        )
    )
    for problem in results.problems():
        metric = (info.get(problem) or {}).get("metric", "accuracy")
        parts.append(f"<h2>{html.escape(problem)}</h2>")
        parts.append(
            _figure(
                plots.curves_figure(results, problem, metric),
                f"{problem}: training loss, training and validation {metric} per epoch at each "
                "optimizer's best setting (mean over seeds, band min-max)",
                f"curves-{problem}",
            )
        )
        sens = sensitivity(results, problem, "lr")
        if any(isinstance(r.get("lr"), int | float) for r in sens):
            parts.append(
                _figure(
                    plots.sensitivity_figure(results, problem, metric),
                    f"{problem}: final validation {metric} against learning rate",
                    f"sensitivity-{problem}",
                )
            )
            parts.append(
                _figure(
                    plots.heatmap_figure(results, problem, metric),
                    f"{problem}: optimizer by learning rate heat map",
                    f"heatmap-{problem}",
                )
            )
            parts.append("<h3>Learning-rate sensitivity</h3>")
            parts.append(
                _table(
                    sens,
                    [
                        ("optimizer", "optimizer"),
                        ("lr", "lr"),
                        ("val_metric_mean", f"final val {metric}"),
                        ("val_metric_std", "± std"),
                        ("trials", "trials"),
                        ("diverged", "diverged"),
                    ],
                    "ravine-table sensitivity",
                )
            )
    ens = ensemble_table(store)
    parts.append("<h2>Ensembles</h2>")
    parts.append(
        '<p class="muted">Average predicted class probabilities of the final models (each '
        "optimizer's best setting across its seeds, and all optimizers' best models together) "
        "against the members alone, on the validation set.</p>"
    )
    parts.append(
        _table(
            ens,
            [
                ("problem", "problem"),
                ("members_of", "members"),
                ("setting", "setting"),
                ("members", "count"),
                ("member_val_metric_mean", "member val metric (mean)"),
                ("member_val_metric_best", "best member"),
                ("ensemble_val_metric", "ensemble val metric"),
                ("member_val_loss_mean", "member val loss (mean)"),
                ("ensemble_val_loss", "ensemble val loss"),
            ],
            "ravine-table ensembles",
        )
    )
    steps = profile_steps(rows)
    if len(steps) >= 2:
        prof = performance_profile(steps)
        parts.append("<h2>Performance profile</h2>")
        parts.append(
            _figure(
                plots.profile_figure(prof),
                "fraction of problems on which each optimizer is within a factor tau of the "
                "fewest steps to target",
                "profile",
            )
        )
        raw = [
            {
                "problem": p,
                **{f"{o} steps": steps[p].get(o, math.inf) for o in prof["profiles"]},
                **{f"{o} ratio": prof["ratios"][p][o] for o in prof["profiles"]},
            }
            for p in steps
        ]
        cols = [("problem", "problem")] + [(k, k) for k in raw[0] if k != "problem"]
        parts.append(_table(raw, cols, "ravine-table profile"))
    trials = store.trials()
    parts.append(f"<details><summary>All {len(trials)} trials</summary>")
    parts.append(
        _table(
            [
                {
                    "id": t["id"],
                    "problem": t["problem"],
                    "optimizer": t["optimizer"],
                    "setting": ", ".join(
                        f"{k}={_fmt(v)}" for k, v in sorted(t.hyperparameters.items())
                    ),
                    "seed": t["seed"],
                    "stage": t["stage"],
                    "status": t["status"],
                    "steps": t["steps"],
                    "wall_time": t["wall_time"],
                }
                for t in trials
            ],
            [
                ("id", "id"),
                ("problem", "problem"),
                ("optimizer", "optimizer"),
                ("setting", "setting"),
                ("seed", "seed"),
                ("stage", "stage"),
                ("status", "status"),
                ("steps", "steps"),
                ("wall_time", "seconds"),
            ],
            "ravine-table trials",
        )
    )
    parts.append("</details></body></html>")
    return "\n".join(parts)


def write_report(store, path: str | Path) -> Path:
    """Write the study report of ``store`` (a Store or a path to one) to ``path``."""
    from ..study.store import Store

    own = not isinstance(store, Store)
    db = Store(store) if own else store
    try:
        text = study_html(db)
    finally:
        if own:
            db.close()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p
