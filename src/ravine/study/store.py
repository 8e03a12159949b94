"""The results store: one SQLite file (WAL mode) that many runners may share.

Tables (their statements and migrations: :mod:`.schema`)::

    meta(key, value)                  the spec (JSON), creation time, schema version
    trials(id, hash UNIQUE, config, problem, optimizer, seed, stage, status,
           claimed_by, heartbeat, attempts, started, finished, wall_time, steps,
           error, environment)
    metrics(trial_id, step, epoch, train_loss, train_metric, val_loss, val_metric,
            lr, wall_time, estimated_lr)   one row per evaluation
    models(trial_id, state)           the final state_dict (torch.save bytes), if kept

How it stays safe:

* A trial is identified by the SHA-256 of its canonical config JSON; adding the same trial
  twice (two runners, or a rerun) is a no-op.
* Claiming is one ``BEGIN IMMEDIATE`` transaction that flips ``pending`` rows to
  ``running`` with this runner's id; SQLite's write lock makes it atomic, so two runners
  never claim the same trial.
* A claim whose runner died is taken back: a runner on this host whose process no longer
  exists, or any runner whose heartbeat is older than ``stale_after`` seconds.
* A result is written in one transaction: its metric rows, its model, and the trial's final
  status, on condition that the trial is still claimed by this runner. A crash at any moment
  leaves either the whole result or none of it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .records import FINISHED, METRIC_COLUMNS, MetricRow, StoredTrial, TrialConfig, TrialResult
from .schema import (
    SCHEMA,
    SCHEMA_VERSION,
    STATUSES,
    TRIAL_COLUMNS,
    add_metric_columns,
    metric_select,
)
from .storefile import StoreError, check_store_file, check_tables

__all__ = [
    "FINISHED", "STATUSES", "Store", "StoreError", "StoredTrial", "config_hash", "runner_id",
]  # fmt: skip


def config_hash(config: TrialConfig | dict[str, Any]) -> str:
    """SHA-256 of the config's canonical JSON (sorted keys, no spaces)."""
    data = config.to_dict() if isinstance(config, TrialConfig) else config
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def runner_id() -> str:
    """``host:pid:random``, unique to this process."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _nan_to_none(x: Any) -> Any:
    return None if isinstance(x, float) and x != x else x


_OPEN: Counter[str] = Counter()
"""Stores open in this process, by resolved path. Reading a file's bytes means opening and
closing it, and closing any descriptor of a file drops every POSIX lock this process holds
on it, SQLite's included (its readers would then miss commits): a file this process already
holds as a store is therefore not read again as bytes."""


def _retry_locked(action: Callable[[], Any], timeout: float) -> Any:
    """``action()``, tried again for up to ``timeout`` seconds while SQLite says the database
    is locked. Switching a new file to WAL needs a lock that SQLite does not wait for (its
    busy timeout does not apply), so two drivers opening one new store at once can collide."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Store:
    """A study's results in the SQLite file at ``path`` (created if missing); a file that
    is not a ravine store is refused untouched (:class:`~.storefile.StoreError`)."""

    def __init__(self, path: str | Path, *, timeout: float = 60.0):
        self.path = Path(path)
        self._key = str(self.path.resolve())
        if not _OPEN[self._key]:  # see _OPEN: never reopen a file this process holds
            check_store_file(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._timeout = timeout
        self.conn = self._connect()
        _OPEN[self._key] += 1
        if self.get_meta("schema_version") is not None:  # opening a store takes no lock
            return
        with self._write() as c:  # one transaction: no reader sees half a store
            for statement in SCHEMA.split(";"):
                c.execute(statement)
            c.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            c.execute("INSERT OR IGNORE INTO meta VALUES ('created', ?)", (str(time.time()),))

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        try:
            check_tables(conn, self.path)  # before the first write
        except StoreError:
            conn.close()
            raise
        _retry_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"), self._timeout)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None  # type: ignore[assignment]
            _OPEN[self._key] -= 1

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction holding SQLite's write lock; rolled back on an error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- meta -----------------------------------------------------------------------

    def set_meta(self, key: str, value: Any) -> None:
        with self._write() as c:
            c.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    def get_meta(self, key: str, default: Any = None) -> Any:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:  # no meta table: a store not yet created
            return default
        if row is None:
            return default
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            return row[0]

    def problem_info(self) -> dict[str, dict[str, Any]]:
        """Per problem label: ``target``, ``higher_is_better``, ``metric``, ``n_train`` and
        ``n_val``, as the runner recorded them (empty before a run)."""
        return self.get_meta("problems", {}) or {}

    # -- trials ---------------------------------------------------------------------

    def add_trials(self, configs: Iterable[TrialConfig], stage: str = "grid") -> int:
        """Insert trials not already present (by config hash); returns how many were new."""
        rows = []
        for config in configs:
            data = config.to_dict()
            rows.append(
                (
                    config_hash(data),
                    json.dumps(data, sort_keys=True),
                    config.problem.label,
                    config.optimizer_label,
                    config.seed,
                    stage,
                )
            )
        with self._write() as c:
            before = c.total_changes
            c.executemany(
                "INSERT OR IGNORE INTO trials (hash, config, problem, optimizer, seed, stage) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            return c.total_changes - before

    def _stale_ids(self, c: sqlite3.Connection, stale_after: float) -> list[int]:
        now = time.time()
        host = socket.gethostname()
        stale = []
        for tid, owner, beat in c.execute(
            "SELECT id, claimed_by, heartbeat FROM trials WHERE status = 'running'"
        ):
            parts = (owner or "").split(":")
            dead_here = (
                len(parts) >= 2
                and parts[0] == host
                and parts[1].isdigit()
                and not _pid_alive(int(parts[1]))
            )
            if dead_here or beat is None or now - beat > stale_after:
                stale.append(tid)
        return stale

    def _claimable(
        self, c: sqlite3.Connection, n: int, stale_after: float, ids: list[int] | None
    ) -> list[int]:
        """Up to ``n`` pending trials then stale ones, or those of ``ids`` still free."""
        if ids is not None:
            marks = ", ".join("?" * len(ids))
            query = f"SELECT id FROM trials WHERE status = 'pending' AND id IN ({marks})"
            free = {r[0] for r in c.execute(query, ids)} | set(self._stale_ids(c, stale_after))
            return [i for i in ids if i in free]
        query = "SELECT id FROM trials WHERE status = 'pending' ORDER BY id LIMIT ?"
        found = [r[0] for r in c.execute(query, (n,))]
        if len(found) < n:
            found += self._stale_ids(c, stale_after)[: n - len(found)]
        return found

    def claim(
        self,
        runner: str,
        n: int = 1,
        stale_after: float = 120.0,
        ids: Iterable[int] | None = None,
    ) -> list[tuple[int, TrialConfig]]:
        """Atomically take up to ``n`` trials to run: pending ones first, then ones whose
        runner is dead or silent for ``stale_after`` seconds. With ``ids``, only those trials
        (each if still pending or stale; ``n`` is then ignored): how a runner claims a batch
        it chose. Returns (id, config) pairs."""
        wanted = None if ids is None else list(ids)
        if wanted is not None:
            n = len(wanted)
        if n < 1:
            return []
        with self._write() as c:
            now = time.time()
            claimed = []
            for tid in self._claimable(c, n, stale_after, wanted):
                cur = c.execute(
                    "UPDATE trials SET status = 'running', claimed_by = ?, heartbeat = ?, "
                    "started = ?, attempts = attempts + 1 WHERE id = ? AND status IN "
                    "('pending', 'running')",
                    (runner, now, now, tid),
                )
                if cur.rowcount == 1:
                    config = c.execute("SELECT config FROM trials WHERE id = ?", (tid,)).fetchone()
                    claimed.append((tid, TrialConfig.from_dict(json.loads(config[0]))))
            return claimed

    def heartbeat(self, runner: str, ids: Iterable[int] | None = None) -> None:
        """Mark this runner's running trials (or the given ones) as alive now."""
        with self._write() as c:
            if ids is None:
                c.execute(
                    "UPDATE trials SET heartbeat = ? WHERE claimed_by = ? AND status = 'running'",
                    (time.time(), runner),
                )
            else:
                c.executemany(
                    "UPDATE trials SET heartbeat = ? WHERE id = ? AND claimed_by = ? "
                    "AND status = 'running'",
                    [(time.time(), i, runner) for i in ids],
                )

    def release(self, runner: str, ids: Iterable[int]) -> None:
        """Give claimed trials back (pending again), e.g. when a runner is interrupted."""
        with self._write() as c:
            c.executemany(
                "UPDATE trials SET status = 'pending', claimed_by = NULL, heartbeat = NULL "
                "WHERE id = ? AND claimed_by = ? AND status = 'running'",
                [(i, runner) for i in ids],
            )

    def retry_failed(self) -> int:
        """Make every failed trial pending again (its error cleared); returns how many."""
        with self._write() as c:
            return c.execute(
                "UPDATE trials SET status = 'pending', claimed_by = NULL, heartbeat = NULL, "
                "error = NULL WHERE status = 'failed'"
            ).rowcount

    def complete(self, trial_id: int, runner: str, result: TrialResult) -> bool:
        """Record a trial's result in one transaction: its metric rows, its model, and its
        final status. Returns False (and writes nothing) if the trial is no longer claimed by
        ``runner`` (another runner took it back as stale)."""
        if result.status not in FINISHED:
            raise ValueError(f"status must be one of {FINISHED}, got {result.status!r}")
        with self._write() as c:
            owner = c.execute(
                "SELECT claimed_by, status FROM trials WHERE id = ?", (trial_id,)
            ).fetchone()
            if owner is None or owner[0] != runner or owner[1] != "running":
                return False
            c.execute("DELETE FROM metrics WHERE trial_id = ?", (trial_id,))
            add_metric_columns(c)
            c.executemany(
                f"INSERT INTO metrics (trial_id, {', '.join(METRIC_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(METRIC_COLUMNS))})",
                [(trial_id, *(_nan_to_none(v) for v in row)) for row in result.rows],
            )
            if result.model is not None:
                c.execute("INSERT OR REPLACE INTO models VALUES (?, ?)", (trial_id, result.model))
            c.execute(
                "UPDATE trials SET status = ?, finished = ?, wall_time = ?, steps = ?, error = ?, "
                "environment = ?, heartbeat = NULL WHERE id = ?",
                (
                    result.status,
                    time.time(),
                    result.wall_time,
                    result.steps,
                    result.error,
                    json.dumps(result.environment),
                    trial_id,
                ),
            )
            return True

    # -- reading --------------------------------------------------------------------

    def counts(self, stage: str | None = None) -> dict[str, int]:
        """Number of trials in each status (of ``stage`` only, if given)."""
        out = dict.fromkeys(STATUSES, 0)
        where, args = ("WHERE stage = ?", (stage,)) if stage is not None else ("", ())
        query = f"SELECT status, COUNT(*) FROM trials {where} GROUP BY status"
        for status, n in self.conn.execute(query, args):
            out[status] = n
        return out

    def standing(self) -> tuple[list[tuple], int]:
        """Where the trials stand, to compare between two looks: per status its count, last
        id, last start and last finish; and how many meta entries there are. Heartbeats
        are left out, so this changes only when a trial moves or the meta does."""
        rows = self.conn.execute(
            "SELECT status, COUNT(*), MAX(id), MAX(started), MAX(finished) FROM trials "
            "GROUP BY status ORDER BY status"
        ).fetchall()
        meta = self.conn.execute("SELECT COUNT(*) FROM meta").fetchone()
        return rows, meta[0]

    def trials(
        self, status: str | Iterable[str] | None = None, *, stage: str | None = None
    ) -> list[StoredTrial]:
        """Every trial in id order, optionally only those with ``status`` (one or several)
        and of ``stage``."""
        clauses, args = [], []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            clauses.append(f"status IN ({', '.join('?' * len(statuses))})")
            args += statuses
        if stage is not None:
            clauses.append("stage = ?")
            args.append(stage)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        query = f"SELECT {', '.join(TRIAL_COLUMNS)} FROM trials{where} ORDER BY id"
        out = []
        for row in self.conn.execute(query, args):
            d = dict(zip(TRIAL_COLUMNS, row, strict=True))
            d["config"] = TrialConfig.from_dict(json.loads(d["config"]))
            d["environment"] = json.loads(d["environment"]) if d["environment"] else None
            out.append(StoredTrial(**d))
        return out

    def metrics(self, trial_ids: Iterable[int] | None = None) -> dict[int, list[MetricRow]]:
        """Metric rows by trial id, each list ordered by step."""
        query = f"SELECT trial_id, {metric_select(self.conn)} FROM metrics"
        args: tuple = ()
        if trial_ids is not None:
            ids = list(trial_ids)
            query += f" WHERE trial_id IN ({', '.join('?' * len(ids))})"
            args = tuple(ids)
        out: dict[int, list[MetricRow]] = {}
        for row in self.conn.execute(query + " ORDER BY trial_id, step", args):
            out.setdefault(row[0], []).append(MetricRow.stored(row[1:]))
        return out

    def final_rows(self, trial_ids: Iterable[int]) -> dict[int, MetricRow]:
        """The last metric row (highest step) of each of ``trial_ids`` that has one."""
        ids = list(trial_ids)
        query = (
            f"SELECT m.trial_id, {metric_select(self.conn, 'm.')} FROM metrics m "
            "JOIN (SELECT trial_id, MAX(step) AS last FROM metrics "
            f"WHERE trial_id IN ({', '.join('?' * len(ids))}) GROUP BY trial_id) f "
            "ON m.trial_id = f.trial_id AND m.step = f.last"
        )
        return {row[0]: MetricRow.stored(row[1:]) for row in self.conn.execute(query, ids)}

    def model(self, trial_id: int) -> bytes | None:
        row = self.conn.execute(
            "SELECT state FROM models WHERE trial_id = ?", (trial_id,)
        ).fetchone()
        return None if row is None else row[0]
