"""The study page's data: a study read from its store (read-only) as JSON, live.

The stores are the ones given when the server started (``ravine explore STORE ...``, or
those found in the working folder), named by their position: a request never names a file.
Each look opens the store anew with :class:`~ravine.study.readonly.ReadOnlyStore` (it never
writes, nor creates a file beside it) and closes it. The numbers are those of
:mod:`ravine.study.summary` (the summary table, the learning-rate sensitivity) and the
figures those of :mod:`ravine.report.interactive`, so the page only draws.

A study's ``version`` changes when a trial is added, claimed or finished: the page polls
with ``?since=VERSION`` and gets ``{"unchanged": true}`` until then.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["find_stores", "study_json", "study_list", "trial_json", "version"]

#: The most store files found in a folder (``ravine explore`` with no STORE).
MAX_FOUND = 50

_SQLITE_MAGIC = b"SQLite format 3\x00"


def find_stores(folder: str | Path = ".") -> list[Path]:
    """The ravine stores among the ``*.db``/``*.sqlite`` files directly in ``folder``."""
    from ..study.readonly import ReadOnlyStore
    from ..study.storefile import StoreError

    found = []
    for path in sorted(Path(folder).glob("*")):
        if path.suffix not in (".db", ".sqlite", ".sqlite3") or not path.is_file():
            continue
        try:
            with ReadOnlyStore(path):
                found.append(path)
        except (StoreError, OSError):
            continue
        if len(found) >= MAX_FOUND:
            break
    return found


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Any]:
    """The store at ``path``, read-only, for one look (a non-store: StoreError)."""
    from ..study.readonly import ReadOnlyStore

    store = ReadOnlyStore(path)
    try:
        yield store
    finally:
        store.close()


def version(store) -> str:
    """A fingerprint of where the study's trials stand (not of heartbeats)."""
    return hashlib.sha1(repr(store.standing()).encode()).hexdigest()[:16]


def study_list(paths: list[Path]) -> list[dict[str, Any]]:
    """The stores offered: id, file name, study name (or the reason one cannot be read)."""
    from ..study.storefile import StoreError

    out = []
    for i, path in enumerate(paths):
        entry: dict[str, Any] = {"id": i, "file": path.name}
        try:
            with opened(path) as store:
                entry["name"] = (store.get_meta("spec") or {}).get("name", path.stem)
                entry["counts"] = store.counts()
        except StoreError as err:
            entry["error"] = str(err)
        out.append(entry)
    return out


def _trial_row(t, now: float) -> dict[str, Any]:
    from ..study.records import setting_label

    row = {
        "id": t.id, "problem": t.problem, "optimizer": t.optimizer, "seed": t.seed,
        "setting": setting_label(t.hyperparameters), "stage": t.stage, "status": t.status,
        "steps": t.steps, "wall_time": t.wall_time, "reason": t.reason, "attempts": t.attempts,
    }  # fmt: skip
    if t.status == "running" and t.started is not None:
        row["running_for"] = max(0.0, now - t.started)
    return row


def _problems(store, results) -> list[dict[str, Any]]:
    """Per problem: metric, direction, sensitivity rows and the two interactive figures."""
    from ..report.interactive import curves_figure, sensitivity_figure
    from ..report.space import protocol_kind
    from ..study.summary import sensitivity

    info = store.problem_info()
    sampled = protocol_kind(store.get_meta("spec") or {}) == "random"
    out = []
    for problem in results.problems():
        metric = (info.get(problem) or {}).get("metric", "accuracy")
        sens = sensitivity(results, problem, "lr")
        has_lr = any(isinstance(r.get("lr"), int | float) for r in sens)
        figures = {"curves": curves_figure(results, problem, metric)}
        if has_lr:
            figures["sensitivity"] = sensitivity_figure(results, problem, metric, sens, sampled)
        out.append({
            "name": problem, "metric": metric,
            "better": "higher" if results.hib(problem) else "lower",
            "sensitivity": sens if has_lr else [], "figures": figures,
        })  # fmt: skip
    return out


def study_json(store, since: str | None = None) -> dict[str, Any]:
    """Everything the study page shows of ``store``, JSON-ready; ``{"unchanged": true}``
    when its :func:`version` is still ``since``."""
    import time

    from ..report.interactive import jsonable
    from ..study.summary import Results, summarize

    now_version = version(store)
    if since is not None and since == now_version:
        return {"unchanged": True, "version": now_version}
    results = Results.from_store(store)
    spec = store.get_meta("spec") or {}
    now = time.time()
    return jsonable({
        "version": now_version, "name": spec.get("name", store.path.stem),
        "file": store.path.name, "counts": store.counts(),
        "trials": [_trial_row(t, now) for t in store.trials()],
        "summary": summarize(results), "problems": _problems(store, results),
    })  # fmt: skip


def trial_json(store, trial_id: int) -> dict[str, Any] | None:
    """One trial, its metric rows and its curves figure (None: no such trial)."""
    import dataclasses
    import time

    from ..report.interactive import jsonable, trial_figure

    found = [t for t in store.trials() if t.id == trial_id]
    if not found:
        return None
    t = found[0]
    rows = store.metrics([t.id]).get(t.id, [])
    metric = (store.problem_info().get(t.problem) or {}).get("metric", "accuracy")
    return jsonable({
        "trial": _trial_row(t, time.time()), "hyperparameters": t.hyperparameters,
        "rows": [dataclasses.asdict(r) if dataclasses.is_dataclass(r) else r._asdict()
                 for r in rows],
        "figure": trial_figure(t, rows, metric),
    })  # fmt: skip
