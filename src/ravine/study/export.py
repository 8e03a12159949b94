"""Export a study's results as flat tables: CSV (stdlib) or Parquet (pyarrow).

Two tables, written as ``<study>.trials.<ext>`` and ``<study>.metrics.<ext>`` (the study's
name first: exports of several studies share a folder; exporting a study again replaces its
own files and no other's): ``trials`` (one row per trial: id, problem, optimizer, seed,
stage, status, hyperparameters as ``hp.<name>`` columns, wall time, steps, error, versions,
device and the store it came from) and ``metrics`` (one row per evaluation, with the trial's
problem, optimizer, seed and hyperparameters repeated so that the table can be analysed on
its own). An export never replaces files another store wrote.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .store import StoredTrial

__all__ = ["export", "tables"]

FORMATS = ("csv", "parquet")


def _hp_value(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, list | tuple | dict) else v


def _trial_row(t: StoredTrial, hp_names: list[str], store_id: str) -> dict[str, Any]:
    c, env = t.config, t.environment or {}
    return {
        "trial_id": t.id,
        "problem": t.problem,
        "optimizer": t.optimizer,
        "optimizer_name": c.optimizer,
        "seed": t.seed,
        "stage": t.stage,
        **{f"hp.{k}": _hp_value(c.hyperparameters.get(k)) for k in hp_names},
        "schedules": json.dumps(c.schedules),
        "batch_size": str(c.batch_size),
        "status": t.status,
        "attempts": t.attempts,
        "steps": t.steps,
        "wall_time": t.wall_time,
        "error": t.error,
        "versions": json.dumps(env.get("versions")) if env else None,
        "device": env.get("device") if env else None,
        "config_hash": t.hash,
        "store": store_id,
    }


def tables(store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(trials rows, metrics rows) as lists of flat dicts with the same keys in every row."""
    trials = store.trials()
    hp_names = sorted({k for t in trials for k in t.hyperparameters})
    store_id = str(store.get_meta("created", ""))
    by_id = {t.id: _trial_row(t, hp_names, store_id) for t in trials}
    keep = ["problem", "optimizer", "seed", *[f"hp.{k}" for k in hp_names]]
    metric_rows = []
    for tid, rows in store.metrics().items():
        head = {"trial_id": tid, **{k: by_id[tid][k] for k in keep}}
        metric_rows += [{**head, **r._asdict()} for r in rows]
    return list(by_id.values()), metric_rows


def export(store, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write ``<study>.trials.<ext>`` and ``<study>.metrics.<ext>`` into ``out_dir``, named
    after the study, so that studies exported into one folder keep their own files; a second
    export of the same study replaces its own. Returns their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    study = (store.get_meta("spec") or {}).get("name", "study")
    targets = [out / f"{study}.{name}.{fmt}" for name in ("trials", "metrics")]
    _check_ours(targets[0], str(store.get_meta("created", "")), fmt)
    paths = []
    for path, rows in zip(targets, tables(store), strict=True):
        if fmt == "csv":
            with open(path, "w", newline="") as f:
                fields = list(rows[0]) if rows else ["trial_id"]
                w = csv.DictWriter(f, fieldnames=fields)
                w.writeheader()
                w.writerows(rows)
        else:
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:  # pragma: no cover
                raise ImportError(
                    "Parquet export needs pyarrow: pip install 'ravine[export]'"
                ) from None
            fields = list(rows[0]) if rows else ["trial_id"]
            table = pa.table({k: [r[k] for r in rows] for k in fields})
            pq.write_table(table, path)
        paths.append(path)
    return paths


def _check_ours(trials: Path, store_id: str, fmt: str) -> None:
    """Refuse, before anything is written, to replace an export that another store wrote
    (another study of the same name): its trials table names the store it came from."""
    if not trials.exists():
        return
    try:
        if fmt == "csv":
            with open(trials, newline="", encoding="utf-8") as f:
                first = next(csv.DictReader(f), None) or {}
            theirs = first.get("store")
        else:
            import pyarrow.parquet as pq

            column = pq.read_table(trials, columns=["store"]).column("store")
            theirs = str(column[0]) if len(column) else None
    except Exception:  # unreadable, or not an export of ours: not ours to replace
        theirs = None
    if theirs != store_id:
        raise FileExistsError(
            f"{trials} exists and was not exported from this store (another study of the "
            "same name, or another file): export into another folder (--out), or move it"
        )
