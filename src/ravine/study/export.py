"""Export a study's results as flat tables: CSV (stdlib) or Parquet (pyarrow).

Two tables: ``trials`` (one row per trial: id, problem, optimizer, seed, stage, status,
hyperparameters as ``hp.<name>`` columns, wall time, steps, error, versions and device) and
``metrics`` (one row per evaluation, with the trial's problem, optimizer, seed and
hyperparameters repeated so that the table can be analysed on its own).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from .trial import METRIC_COLUMNS

__all__ = ["export", "tables"]

FORMATS = ("csv", "parquet")


def _hp_value(v: Any) -> Any:
    return json.dumps(v) if isinstance(v, list | dict) else v


def tables(store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(trials rows, metrics rows) as lists of flat dicts with the same keys in every row."""
    trials = store.trials()
    hp_names = sorted({k for t in trials for k in t["config"]["hyperparameters"]})
    trial_rows = []
    by_id = {}
    for t in trials:
        c = t["config"]
        env = t["environment"] or {}
        row = {
            "trial_id": t["id"],
            "problem": t["problem"],
            "optimizer": t["optimizer"],
            "optimizer_name": c["optimizer"]["name"],
            "seed": t["seed"],
            "stage": t["stage"],
            **{f"hp.{k}": _hp_value(c["hyperparameters"].get(k)) for k in hp_names},
            "schedules": json.dumps(c.get("schedules") or {}),
            "batch_size": str(c["batch_size"]),
            "status": t["status"],
            "attempts": t["attempts"],
            "steps": t["steps"],
            "wall_time": t["wall_time"],
            "error": t["error"],
            "versions": json.dumps(env.get("versions")) if env else None,
            "device": env.get("device") if env else None,
            "config_hash": t["hash"],
        }
        trial_rows.append(row)
        by_id[t["id"]] = row
    metric_rows = []
    keep = ["problem", "optimizer", "seed", *[f"hp.{k}" for k in hp_names]]
    for tid, rows in store.metrics().items():
        head = {"trial_id": tid, **{k: by_id[tid][k] for k in keep}}
        for r in rows:
            metric_rows.append({**head, **{k: r[k] for k in METRIC_COLUMNS}})
    return trial_rows, metric_rows


def export(store, out_dir: str | Path, fmt: str = "csv") -> list[Path]:
    """Write ``trials.<ext>`` and ``metrics.<ext>`` into ``out_dir``; returns their paths."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, rows in zip(("trials", "metrics"), tables(store), strict=True):
        path = out / f"{name}.{fmt}"
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
