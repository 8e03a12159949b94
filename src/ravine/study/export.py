"""Export a study's results as flat tables: CSV (stdlib) or Parquet (pyarrow).

Two tables, written as ``<study>.trials.<ext>`` and ``<study>.metrics.<ext>`` (the study's
name first: exports of several studies share a folder; exporting a study again replaces its
own files and no other's): ``trials`` (one row per trial: id, problem, optimizer, seed,
stage, status, hyperparameters as ``hp.<name>`` columns, wall time, steps, error, versions
and device) and ``metrics`` (one row per evaluation, with the trial's problem, optimizer, seed and
hyperparameters repeated so that the table can be analysed on its own).
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


def _trial_row(t: StoredTrial, hp_names: list[str]) -> dict[str, Any]:
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
    }


def tables(store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(trials rows, metrics rows) as lists of flat dicts with the same keys in every row."""
    trials = store.trials()
    hp_names = sorted({k for t in trials for k in t.hyperparameters})
    by_id = {t.id: _trial_row(t, hp_names) for t in trials}
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
    paths = []
    for name, rows in zip(("trials", "metrics"), tables(store), strict=True):
        path = out / f"{study}.{name}.{fmt}"
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
