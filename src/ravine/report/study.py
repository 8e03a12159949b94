"""The study report: summary tables, figures, sensitivity, ensembles, performance profile.

One function per section gathers that section's numbers and figures and renders its Jinja2
template (``templates/<section>.html.j2``, shipped with the package; the tables and figures
are the macros of ``macros.html.j2``); :func:`study_html` puts the sections in order into
``study.html.j2``. Every value is HTML-escaped by the templates.
"""

from __future__ import annotations

import json
import math
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

if TYPE_CHECKING:
    from ..progress import Progress

__all__ = ["study_html", "write_report"]


def _fmt(v: Any) -> str:
    """A table cell: numbers to 4 significant digits, an infinite step count as "never"."""
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
    if isinstance(v, list | tuple | dict):
        return json.dumps(v)
    return str(v)


@cache
def _templates():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(
        loader=PackageLoader("ravine.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fmt"] = _fmt
    return env


def _render(template: str, **context: Any) -> Markup:
    return Markup(_templates().get_template(template).render(**context))


def _figure(fig, caption: str, name: str) -> dict[str, str]:
    """A figure for the ``figure`` macro: its name, caption and ``data:`` URI (the figure is
    encoded, and closed, by :func:`ravine.plot.style.data_uri`)."""
    from ..plot.style import data_uri

    return {"name": name, "caption": caption, "src": data_uri(fig)}


# -- sections ----------------------------------------------------------------------------------


def _header(store, results) -> Markup:
    """Title, when and how the study ran, and the versions of its first trial."""
    spec = store.get_meta("spec") or {}
    envs = [t.environment for t in results.trials if t.environment]
    return _render(
        "header.html.j2",
        name=spec.get("name", "study"),
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        counts=", ".join(f"{v} {k}" for k, v in store.counts().items() if v),
        spec={k: spec.get(k) for k in ("protocol", "budget", "batch_size", "seeds")},
        environment=envs[0] if envs else None,
    )


def _edge_warnings(rows: list[dict[str, Any]]) -> list[str]:
    """One sentence per best setting that lies at the edge of a tuned hyperparameter's values."""
    return [
        f"{r['optimizer']} on {r['problem']}: the best {hp} ({_fmt(r['hyperparameters'][hp])}) "
        f"is the {end} value tried; widen its range before trusting the comparison"
        for r in rows
        for hp, end in (r.get("grid_edge") or {}).items()
    ]


def _summary(rows: list[dict[str, Any]], spec: dict[str, Any]) -> Markup:
    """The summary table, grid-edge warnings, and the search space with its schedules."""
    from .space import protocol_kind, search_space

    shown = [
        {
            **r,
            "better": "higher" if r.get("higher_is_better", True) else "lower",
            "schedules": r.get("schedules") or "constant",
            "edge": ", ".join(r.get("grid_edge") or {}) or "-",
        }
        for r in rows
    ]
    directions = {r["problem"]: r["better"] for r in shown}
    return _render(
        "summary.html.j2",
        rows=shown,
        directions=directions,
        warnings=_edge_warnings(rows),
        space=search_space(spec),
        has_test=any("test_metric_mean" in r for r in rows),
        protocol=protocol_kind(spec),
    )


def _problem(results, problem: str, metric: str, sampled: bool = False) -> Markup:
    """Training curves (every trial faint, each optimizer's best setting bold, and against
    wall-clock seconds); where learning rates vary, sensitivity, heat map and their table.
    ``sampled``: the learning rates were drawn by random search, so the sensitivity is a
    scatter of the samples and there is no optimizer-by-lr grid to draw as a heat map."""
    from ..plot import study as plots
    from ..study.summary import sensitivity

    better = "higher" if results.hib(problem) else "lower"
    figures = [
        _figure(
            plots.curves_figure(results, problem, metric),
            f"{problem}: training loss, training and validation {metric} per epoch and "
            f"validation {metric} against wall-clock seconds; every trial faint, each "
            "optimizer's best setting bold (mean over seeds, band min-max)",
            f"curves-{problem}",
        )
    ]
    sens = sensitivity(results, problem, "lr")
    if not any(isinstance(r.get("lr"), int | float) for r in sens):
        sens = []
    else:
        figures.append(
            _figure(
                plots.sensitivity_figure(results, problem, metric, sampled=sampled),
                f"{problem}: final validation {metric} against "
                + ("the sampled learning rates" if sampled else "learning rate"),
                f"sensitivity-{problem}",
            )
        )
        if not sampled:
            figures.append(
                _figure(
                    plots.heatmap_figure(results, problem, metric),
                    f"{problem}: optimizer by learning rate heat map ({better} is better)",
                    f"heatmap-{problem}",
                )
            )
    return _render(
        "problem.html.j2",
        problem=problem,
        metric=metric,
        better=better,
        figures=figures,
        interactive=_interactive(results, problem, metric, sens, sampled),
        sensitivity=sens,
        lr_title="lr (sampled)" if sampled else "lr",
    )


def _interactive(results, problem: str, metric: str, sens, sampled: bool) -> list[str]:
    """The problem's interactive figures (the study page's), as JSON for the template."""
    from .interactive import curves_figure, sensitivity_figure

    figures = [curves_figure(results, problem, metric)]
    if sens:
        figures.append(sensitivity_figure(results, problem, metric, sens, sampled))
    return [json.dumps(f, separators=(",", ":")) for f in figures]


def _ensembles(store) -> Markup:
    from ..study.ensemble import ensemble_table

    return _render("ensembles.html.j2", rows=ensemble_table(store))


def _profile(rows: list[dict[str, Any]]) -> Markup:
    """The performance profile over the problems (only when there are two or more)."""
    from ..plot import study as plots
    from ..study.summary import performance_profile, profile_steps

    steps = profile_steps(rows)
    if len(steps) < 2:
        return Markup("")
    prof = performance_profile(steps)
    optimizers = list(prof["profiles"])
    table = [
        {
            "problem": p,
            **{f"{o} steps": steps[p].get(o, math.inf) for o in optimizers},
            **{f"{o} ratio": prof["ratios"][p][o] for o in optimizers},
        }
        for p in steps
    ]
    fig = _figure(
        plots.profile_figure(prof),
        "fraction of problems on which each optimizer is within a factor tau of the fewest "
        "steps to target",
        "profile",
    )
    return _render("profile.html.j2", fig=fig, rows=table, columns=[(k, k) for k in table[0]])


def _trials(store) -> Markup:
    rows = [
        {
            "id": t.id,
            "problem": t.problem,
            "optimizer": t.optimizer,
            "setting": ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(t.hyperparameters.items())),
            "seed": t.seed,
            "stage": t.stage,
            "status": t.status,
            "steps": t.steps,
            "wall_time": t.wall_time,
            "reason": t.reason,
        }
        for t in store.trials()
    ]
    return _render("trials.html.j2", rows=rows)


def study_html(store, progress: Progress | None = None) -> str:
    """The report of the study in ``store`` as one HTML document; ``progress`` (optional)
    counts its sections as they are drawn."""
    from ..study.heldout import test_metrics
    from ..study.summary import Results, summarize
    from .space import protocol_kind

    results = Results.from_store(store)
    tests = test_metrics(store, results)
    rows = [{**r, **tests.get((r["problem"], r["optimizer"]), {})} for r in summarize(results)]
    info = store.problem_info()
    spec = store.get_meta("spec") or {}
    sampled = protocol_kind(spec) == "random"
    metric = {p: (info.get(p) or {}).get("metric", "accuracy") for p in results.problems()}
    parts = [
        ("header", lambda: _header(store, results)),
        ("summary", lambda: _summary(rows, spec)),
        *((p, lambda p=p: _problem(results, p, metric[p], sampled)) for p in metric),
        ("ensembles", lambda: _ensembles(store)),
        ("profiles", lambda: _profile(rows)),
        ("trials", lambda: _trials(store)),
    ]
    sections = []
    for name, draw in parts:
        if progress is not None:
            progress.update(0, total=len(parts), description=f"report: {name}")
        sections.append(draw())
        if progress is not None:
            progress.update(1)
    name = spec.get("name", "study")
    from .interactive import CONFIG, plotly_data_uri

    return str(  # plain text, not Markup
        _render(
            "study.html.j2",
            name=name,
            sections=sections,
            plotly=plotly_data_uri(),
            config=json.dumps(CONFIG),
        )
    )


def write_report(store, path: str | Path, *, progress: bool = False) -> Path:
    """Write the study report of ``store`` (a Store or a path to one) to ``path``; with
    ``progress``, a bar on a terminal counts its sections as they are drawn."""
    from ..progress import Progress
    from ..study.store import Store

    own = not isinstance(store, Store)
    db = Store(store) if own else store
    try:
        with Progress(description="report", unit="sections") as bar:
            text = study_html(db, bar if progress else None)
    finally:
        if own:
            db.close()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p
