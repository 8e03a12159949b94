"""A gallery page from a study's stored results: per problem a table (steps and seconds to the
target, final metric: median and range over the best setting's seeds), the performance
profile, the measured ranking, and one sentence per optimizer that sets a paper's claim
beside that ranking.

The numbers come from :mod:`ravine.study.summary` (best setting, steps to target, the
profile's ratios); seconds to target are the ``wall_time`` of the row at which the target is
first reached. The ranking orders optimizers by (problems on which the median seed misses
the target, geometric mean over the others of the steps ratio to the best optimizer there,
minus the mean final metric): fewer misses first, then fewer steps, then the better metric.

A :class:`Claim` is fixed text and a relation to its baselines: ``"beats"`` agrees when the
optimizer ranks ahead of every baseline; ``"matches"`` also agrees when it misses no more
problems than a baseline and needs at most ``MATCH`` times its steps (geometric mean over
the problems both reach).
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ravine.study.summary import (
    Results,
    best_settings,
    performance_profile,
    steps_to_target,
    summarize,
)

MATCH = 1.25


@dataclass(frozen=True)
class Claim:
    """What a paper claims of ``optimizer`` against ``baselines`` (registry names)."""

    optimizer: str
    title: str  # "Lion (Chen et al. 2023)"
    text: str  # "matches or beats AdamW ..."
    relation: str = "beats"  # or "matches"
    baselines: tuple[str, ...] = ()


@dataclass
class Cell:
    """One optimizer on one problem: its best setting's numbers per seed."""

    best: str  # the setting, with the tuned hyperparameters at the end of their grid
    steps: list[float]  # steps to target per seed (inf: missed)
    seconds: list[float]  # seconds to target per seed (inf: missed)
    final: list[float]  # final validation metric per seed (finished seeds)
    median_steps: float  # summary's steps_to_target
    diverged: int


def _seconds(rows, step: float) -> float:
    """The wall time of the row taken at ``step`` (inf when the target was missed)."""
    if not math.isfinite(step):
        return math.inf
    return next(float(r.wall_time) for r in rows if r.step == step)


def measure(results: Results) -> dict[str, dict[str, Cell]]:
    """``cells[problem][optimizer]`` for every optimizer with a best setting."""
    out: dict[str, dict[str, Cell]] = {}
    for row in summarize(results):
        if row.get("best") is None:
            continue
        p, o = row["problem"], row["optimizer"]
        trials = best_settings(results, p, o)["trials"]
        target, higher = results.targets.get(p), results.hib(p)
        steps = [steps_to_target(results.rows(t), target, higher) for t in trials]
        edges = ", ".join(f"{hp} {end}" for hp, end in sorted(row["grid_edge"].items()))
        out.setdefault(p, {})[o] = Cell(
            best=row["best"] + (f" (edge: {edges})" if edges else ""),
            steps=steps,
            seconds=[_seconds(results.rows(t), s) for t, s in zip(trials, steps, strict=True)],
            final=[s for s in map(results.score, trials) if s is not None],
            median_steps=row["steps_to_target"],
            diverged=row["diverged"],
        )
    return out


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else math.nan


def medians(cells: dict[str, dict[str, Cell]], column: str) -> dict[str, dict[str, float]]:
    """``[problem][optimizer]``: the median over seeds of ``steps`` or ``seconds`` to target."""
    return {p: {o: _median(getattr(c, column)) for o, c in row.items()} for p, row in cells.items()}


def ranking(
    cells: dict[str, dict[str, Cell]], column: str = "steps"
) -> list[tuple[str, int, float, float]]:
    """Optimizers best first as ``(name, problems missed, geometric-mean ratio, mean final
    metric)``, on the median ``steps`` or ``seconds`` to target (module docstring)."""
    ratios = performance_profile(medians(cells, column), taus=[1.0])["ratios"]
    names = list(dict.fromkeys(o for row in cells.values() for o in row))
    out = []
    for o in names:
        rs = [ratios[p][o] for p in cells]
        reached = [r for r in rs if math.isfinite(r)]
        missed = len(rs) - len(reached)
        geo = math.exp(sum(map(math.log, reached)) / len(reached)) if reached else math.inf
        finals = [_median(cells[p][o].final) for p in cells if o in cells[p]]
        finals = [f for f in finals if math.isfinite(f)]
        out.append((o, missed, geo, sum(finals) / len(finals) if finals else math.nan))
    return sorted(out, key=lambda r: (r[1], r[2], -r[3] if math.isfinite(r[3]) else math.inf))


def _steps_factor(cells, optimizer: str, baseline: str) -> float:
    """Geometric mean over the problems both reach of median steps, optimizer / baseline."""
    logs = []
    for row in cells.values():
        if optimizer in row and baseline in row:
            a, b = row[optimizer].median_steps, row[baseline].median_steps
            if math.isfinite(a) and math.isfinite(b) and a > 0 and b > 0:
                logs.append(math.log(a / b))
    return math.exp(sum(logs) / len(logs)) if logs else math.nan


def verdict(claim: Claim, cells, ranked, names: dict[str, str]) -> str:
    """The claim's sentence: its text, the measured places, and agrees / differs."""
    head = f"**{claim.title}** claims {claim.text}"
    place = {r[0]: (i + 1, r) for i, r in enumerate(ranked)}
    if claim.optimizer not in place:
        return f"{head} *Not measured: `{claim.optimizer}` is not in this run.*"
    baselines = [b for b in claim.baselines if b in place]
    if not baselines:
        return f"{head} *Not judged: none of its baselines ran.*"
    mine, (_, missed, _, _) = place[claim.optimizer]
    checks, parts = [], []
    for b in baselines:
        theirs, (_, b_missed, _, _) = place[b]
        factor = _steps_factor(cells, claim.optimizer, b)
        ok = mine < theirs
        if claim.relation == "matches" and not ok:
            ok = missed <= b_missed and math.isfinite(factor) and factor <= MATCH
        checks.append(ok)
        shown = f"{factor:.2f}x its steps" if math.isfinite(factor) else "no common target"
        parts.append(f"{names.get(b, b)} {_ordinal(theirs)} ({shown})")
    word = "agrees" if all(checks) else "differs"
    return (
        f"{head} Measured: {_ordinal(mine)} of {len(ranked)}, against "
        + ", ".join(parts)
        + f": **{word}**."
    )


def _listed(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _spread(xs: Sequence[float], fmt: str) -> str:
    """``median [min, max]`` (inf shown as ``missed``; one value: just it)."""

    def f(x: float) -> str:
        return "missed" if math.isinf(x) else format(x, fmt)

    if not xs:
        return "-"
    if len(xs) == 1:
        return f(xs[0])
    return f"{f(_median(xs))} [{f(min(xs))}, {f(max(xs))}]"


def table(problem: str, row: dict[str, Cell], target, names: dict[str, str]) -> list[str]:
    """The markdown table of one problem, one line per optimizer."""
    lines = [
        f"### {problem} (target: validation metric {target})",
        "",
        "| optimizer | best setting | steps to target | seconds to target "
        "| final validation metric | diverged |",
        "|---|---|---|---|---|---|",
    ]
    for o, c in row.items():
        lines.append(
            f"| {names.get(o, o)} | {c.best} | {_spread(c.steps, '.0f')} "
            f"| {_spread(c.seconds, '.2f')} | {_spread(c.final, '.3f')} | {c.diverged} |"
        )
    return lines


def _ranking_line(ranked, cells, names: dict[str, str], unit: str) -> str:
    def one(i, r):
        o, missed, geo, _ = r
        how = [f"{geo:.2f}x"] if math.isfinite(geo) else []
        how += [f"missed on {missed} of {len(cells)}"] if missed else []
        return f"{i + 1}. {names.get(o, o)} ({', '.join(how)})"

    return f"By {unit}: " + "; ".join(one(i, r) for i, r in enumerate(ranked)) + "."


def profile_png(profile: dict, column: str, path: Path) -> Path:
    """The performance profile on ``column`` (steps or seconds) to target, as a PNG; the
    optimizers keep their registry names, so their colours are those of every figure."""
    from ravine.plot.study import profile_figure
    from ravine.plot.style import save

    fig = profile_figure(profile)
    ax = fig.axes[0]
    ax.set_xlabel(f"tau ({column} to target / fewest {column} to target)")
    ax.set_title(f"performance profile on {column} to target, {len(profile['ratios'])} problems")
    return save(fig, path, palette=True)


def write_page(
    results: Results,
    claims: Sequence[Claim],
    names: dict[str, str],
    page: Path,
    figures: Path,
    intro: str = "",
) -> Path:
    """Write the gallery page ``page`` (and its profile figures into ``figures``)."""
    cells = measure(results)
    ranked, by_seconds = ranking(cells, "steps"), ranking(cells, "seconds")
    lines = [intro.rstrip(), ""] if intro else []
    for p, row in cells.items():
        lines += [*table(p, row, results.targets.get(p), names), ""]
    for column in ("steps", "seconds"):
        path = figures / f"modern_optimizers_profile_{column}.png"
        profile_png(performance_profile(medians(cells, column)), column, path)
        link = os.path.relpath(path, page.parent).replace(os.sep, "/")
        lines += [f"![Performance profile on {column} to target]({link})", ""]
    lines += [
        "## Verdict as measured",
        "",
        _ranking_line(ranked, cells, names, "steps to target (geometric-mean ratio to the best)"),
        "",
        _ranking_line(by_seconds, cells, names, "seconds to target"),
        "",
    ]
    sentences = {c.optimizer: verdict(c, cells, ranked, names) for c in claims}
    differ = [names.get(o, o) for o, v in sentences.items() if v.endswith("**differs**.")]
    agree = [names.get(o, o) for o, v in sentences.items() if v.endswith("**agrees**.")]
    lines += [
        f"The measured ranking agrees with the papers' claims for {_listed(agree)} and "
        f"differs for {_listed(differ)}.",
        "",
        *(f"- {v}" for v in sentences.values()),
    ]
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text("\n".join(lines).rstrip() + "\n")
    return page
