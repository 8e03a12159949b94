"""The store's tables: the statements that create them, their version, the columns read
back, and how a store written by an earlier ravine is read and brought up to date.

A store keeps ``schema_version`` in its ``meta`` table. Columns added since version 1
(``metrics.estimated_lr``) are not a new version: reading selects a missing column as NULL
(:func:`metric_select`), and the first write of metrics adds it (:func:`add_metric_columns`),
so reading never changes a store. With :mod:`.store` (the queries) and :mod:`.storefile`
(is this file a store?) it makes the store layer, the only code that speaks SQL.
"""

from __future__ import annotations

import sqlite3

from .records import FINISHED, METRIC_COLUMNS

__all__ = [
    "SCHEMA", "SCHEMA_VERSION", "STATUSES", "TRIAL_COLUMNS", "add_metric_columns",
    "metric_select",
]  # fmt: skip

STATUSES = ("pending", "running", *FINISHED)
SCHEMA_VERSION = 1

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    config TEXT NOT NULL,
    problem TEXT NOT NULL,
    optimizer TEXT NOT NULL,
    seed INTEGER NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ({", ".join(repr(s) for s in STATUSES)})),
    claimed_by TEXT,
    heartbeat REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    started REAL,
    finished REAL,
    wall_time REAL,
    steps INTEGER,
    error TEXT,
    environment TEXT
);
CREATE INDEX IF NOT EXISTS trials_status ON trials(status);
CREATE TABLE IF NOT EXISTS metrics (
    trial_id INTEGER NOT NULL REFERENCES trials(id),
    step INTEGER NOT NULL,
    epoch REAL NOT NULL,
    train_loss REAL,
    train_metric REAL,
    val_loss REAL,
    val_metric REAL,
    lr REAL,
    wall_time REAL,
    estimated_lr REAL,
    PRIMARY KEY (trial_id, step)
);
CREATE TABLE IF NOT EXISTS models (
    trial_id INTEGER PRIMARY KEY REFERENCES trials(id),
    state BLOB NOT NULL
);
"""


def metric_select(conn: sqlite3.Connection, prefix: str = "") -> str:
    """The SELECT list of the metric columns; one a store written by an earlier ravine
    lacks (``estimated_lr``) reads as NULL, so old stores load unchanged."""
    present = {r[1] for r in conn.execute("PRAGMA table_info(metrics)")}
    return ", ".join(prefix + c if c in present else f"NULL AS {c}" for c in METRIC_COLUMNS)


def add_metric_columns(conn: sqlite3.Connection) -> None:
    """Add the metric columns an earlier ravine's store lacks, in the write transaction that
    first records metrics (reading never changes a store)."""
    present = {r[1] for r in conn.execute("PRAGMA table_info(metrics)")}
    for column in (c for c in METRIC_COLUMNS if c not in present):
        conn.execute(f"ALTER TABLE metrics ADD COLUMN {column} REAL")


TRIAL_COLUMNS = (
    "id", "hash", "config", "stage", "status", "claimed_by", "heartbeat", "attempts",
    "started", "finished", "wall_time", "steps", "error", "environment",
)  # fmt: skip
