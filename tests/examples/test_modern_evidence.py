"""examples/modern_evidence.py and its page generator examples/_evidence.py: the tables hold
the summary's numbers (checked against the store's rows read here), and each claim's verdict
follows the measured ranking."""

from __future__ import annotations

import math
import re
import statistics
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ravine.study import Results, Store, run_study, summarize
from ravine.study.records import MetricRow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
sys.path.insert(0, str(EXAMPLES))

import _evidence as ev  # noqa: E402
import modern_evidence as me  # noqa: E402

PROBLEMS = [
    {"name": "logreg", "target": 0.9},
    {"name": "logreg", "options": {"dataset": "wine"}, "label": "logreg_wine", "target": 0.8},
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A finished two-stage study of the example's spec: SGD momentum and Adam, 20 steps on
    two logistic regressions, evaluated every 2; its store and page."""
    path = tmp_path_factory.mktemp("evidence")
    spec = me.spec(["momentum", "adam"], budget=20, every=2, problems=PROBLEMS)
    store = run_study(spec, path / "tiny.db", batch=False, progress=False)
    results = Results.from_store(Store(store))
    page = ev.write_page(results, me.CLAIMS, me.NAMES, path / "page.md", path / "figures")
    return Store(store), results, page.read_text()


def _cells(page: str, problem: str) -> dict[str, list[str]]:
    """The table of ``problem`` as {shown optimizer name: its cells}."""
    part = page.split(f"### {problem} ")[1].split("\n\n")[1]
    rows = [line.strip("|").split("|") for line in part.splitlines()[2:]]
    return {r[0].strip(): [c.strip() for c in r[1:]] for r in rows}


def _numbers(cell: str) -> list[float]:
    """``median [min, max]`` as three numbers (``missed``: inf)."""
    words = re.findall(r"missed|[-\d.]+", cell)
    return [math.inf if w == "missed" else float(w) for w in words]


def _reached(rows, target: float) -> MetricRow | None:
    """The first row whose validation metric reaches ``target`` (in float32, as measured)."""
    return next((r for r in rows if np.float32(r.val_metric) >= np.float32(target)), None)


def test_tables_hold_the_summary_numbers(tiny):
    store, results, page = tiny
    rows = summarize(results)
    assert len(rows) == 4
    checked = 0
    for row in rows:
        cells = _cells(page, row["problem"])[me.NAMES[row["optimizer"]]]
        assert cells[0].startswith(row["best"])
        assert ("(edge: lr " in cells[0]) == row["lr_at_grid_edge"]
        steps, seconds, final = (_numbers(c) for c in cells[1:4])
        per_seed = row["steps_to_target_per_seed"]
        assert len(per_seed) == 3
        assert steps == [statistics.median(per_seed), min(per_seed), max(per_seed)]
        assert final[1:] == pytest.approx([row["val_metric_min"], row["val_metric_max"]], abs=5e-4)
        # the seeds' rows read from the store here, apart from the page generator
        trials = [
            t
            for t in store.trials()
            if (t.problem, t.optimizer) == (row["problem"], row["optimizer"])
            and t.hyperparameters == row["hyperparameters"]
        ]
        assert sorted(t.seed for t in trials) == [0, 1, 2]
        metrics = store.metrics([t.id for t in trials])
        hits = [_reached(metrics[t.id], row["target"]) for t in trials]
        secs = [h.wall_time if h else math.inf for h in hits]
        assert sorted(h.step if h else math.inf for h in hits) == sorted(per_seed)
        expected = [statistics.median(secs), min(secs), max(secs)]
        assert seconds == pytest.approx(expected, abs=5e-3)
        lasts = [metrics[t.id][-1].val_metric for t in trials]
        assert final[0] == pytest.approx(statistics.median(lasts), abs=5e-4)
        checked += math.isfinite(steps[0])
    assert checked >= 2, "no optimizer reached a target: the tiny study checks nothing"


def test_page_has_profile_and_a_sentence_per_claim(tiny):
    _, _, page = tiny
    assert "![Performance profile on steps to target](figures/" in page
    differ = []
    for claim in me.CLAIMS:
        (line,) = [x for x in page.splitlines() if x.startswith(f"- **{claim.title}**")]
        assert claim.text in line
        differ += [me.NAMES[claim.optimizer]] if line.endswith("**differs**.") else []
    assert f"differs for {', '.join(differ) or 'none'}." in page
    assert "Not measured: `muon`" in page or "muon" in me.available()


def _results(steps: dict[str, int]) -> Results:
    """Synthetic results on two problems: each optimizer's validation metric jumps from 0.1
    to 0.99 at its step in ``steps`` (all three seeds alike), one row per 10 steps to 100."""
    trials, metrics = [], {}
    for problem in ("a", "b"):
        for name, hit in steps.items():
            for seed in (0, 1, 2):
                t = SimpleNamespace(
                    id=len(trials),
                    problem=problem,
                    optimizer=name,
                    seed=seed,
                    status="done",
                    hyperparameters={"lr": 0.1},
                )
                trials.append(t)
                metrics[t.id] = [
                    MetricRow(s, s / 10, 1.0, 0.5, 1.0, 0.99 if s >= hit else 0.1, 0.1, s / 100)
                    for s in range(0, 101, 10)
                ]
    return Results(trials, metrics, {"a": 0.9, "b": 0.9}, {"a": True, "b": True})


def _verdict(claim: ev.Claim, steps: dict[str, int]) -> str:
    cells = ev.measure(_results(steps))
    return ev.verdict(claim, cells, ev.ranking(cells), me.NAMES)


@pytest.mark.parametrize("claim", me.CLAIMS, ids=lambda c: c.optimizer)
def test_verdict_flips_with_the_ranking(claim):
    ahead = {claim.optimizer: 20, **{b: 60 for b in claim.baselines}}
    behind = {claim.optimizer: 80, **{b: 30 for b in claim.baselines}}
    assert ev.ranking(ev.measure(_results(ahead)))[0][0] == claim.optimizer
    assert ev.ranking(ev.measure(_results(behind)))[-1][0] == claim.optimizer
    assert _verdict(claim, ahead).endswith("**agrees**.")
    assert _verdict(claim, behind).endswith("**differs**.")


def test_matches_allows_a_few_more_steps_and_beats_does_not():
    lion = next(c for c in me.CLAIMS if c.optimizer == "lion")
    assert lion.relation == "matches"
    close = {"lion": 50, "adamw": 40}  # 1.25x AdamW's steps, ranked behind it
    assert ev.ranking(ev.measure(_results(close)))[0][0] == "adamw"
    assert _verdict(lion, close).endswith("**agrees**.")
    assert _verdict(ev.Claim("lion", "Lion", "beats", "beats", ("adamw",)), close).endswith(
        "**differs**."
    )


def test_missing_optimizers_are_skipped_with_a_note(capsys, monkeypatch):
    monkeypatch.setattr(me.ro, "names", lambda: ["adam", "momentum", "lion"])
    assert me.available() == ["momentum", "adam", "lion"]
    out = capsys.readouterr().out
    assert "skipped Muon: `muon` is not registered" in out
    assert [o["name"] for o in me.spec(["adam"])["optimizers"]] == ["adam"]
    assert _verdict(next(c for c in me.CLAIMS if c.optimizer == "muon"), {"adam": 10}).endswith(
        "`muon` is not in this run.*"
    )


def test_rerun_with_a_new_optimizer_runs_only_its_trials(tmp_path):
    """Once a skipped optimizer is registered, the same command runs it into the same store:
    its tuning grid and its two extra seeds, nothing else again."""
    problems = PROBLEMS[:1]
    store = tmp_path / "grow.db"
    run_study(me.spec(["momentum"], 10, 5, problems), store, batch=False, progress=False)
    before = {t.id for t in Store(store).trials()}
    run_study(me.spec(["momentum", "adam"], 10, 5, problems), store, batch=False, progress=False)
    added = [t for t in Store(store).trials() if t.id not in before]
    assert {t.optimizer for t in added} == {"adam"}
    assert len(added) == 6 + 2  # six learning rates on seed 0, the best on seeds 1 and 2
