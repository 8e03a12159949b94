"""Whether a file is a ravine store, decided before anything is written to it.

A store is an SQLite file holding ravine's ``meta`` table with a ``schema_version``. A path
that does not exist yet becomes a new store; anything else that is not a store is refused
with one paragraph saying what it looks like (empty, a TOML spec, not SQLite, cut short,
another program's database), and the file is left as it was: the checks read it (the
header bytes, then its tables through the store's connection before anything is written). An SQLite
database with no table at all holds nothing to harm (it is where a store being created
stands) and passes.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

__all__ = ["StoreError", "check_store_file", "check_tables"]

_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(ValueError):
    """A path given as a store that is not one (the message is one paragraph)."""


def _refuse(path: Path, what: str) -> StoreError:
    return StoreError(
        f"{path} is not a ravine study store: {what}. ravine leaves it untouched; give the "
        "path of a store written by `ravine study run` (or a path that does not exist yet, "
        "for a new one)."
    )


def _header_problem(path: Path, head: bytes, size: int) -> str | None:
    """What is wrong with the file judged from its first 100 bytes and its size, or None."""
    if size == 0:
        return "the file is empty"
    if not head.startswith(_SQLITE_MAGIC):
        text = head.decode("utf-8", errors="replace")
        if path.suffix == ".toml" or "[[optimizers]]" in text or "name =" in text:
            return "it is a text file that looks like a TOML spec (give a spec as SPEC)"
        return "it is not an SQLite database"
    if len(head) < 100:
        return "the file is cut short (its SQLite header is incomplete)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    valid = head[24:28] == head[92:96]  # the page count is valid for this change counter
    if valid and pages and size < page_size * pages:
        return f"the file is cut short ({size} bytes of the {page_size * pages} it announces)"
    return None


def _settled_size(path: Path, young: float = 2.0) -> int:
    """The file's size; an empty file made less than ``young`` seconds ago may be a store
    another runner is creating this instant (SQLite makes the file, then writes its header),
    so it is given until then to grow."""
    while True:
        stat = path.stat()
        age = time.time() - stat.st_mtime
        if stat.st_size or age > young:
            return stat.st_size
        time.sleep(min(0.02, young - age + 0.001))


def check_store_file(path: str | Path) -> None:
    """Raise :class:`StoreError` when ``path`` exists and its bytes show it is not an SQLite
    database or one cut short; a missing path passes (it will be created). Reads only;
    :func:`check_tables` then looks inside."""
    path = Path(path)
    if not path.exists():
        return
    if not path.is_file():
        raise _refuse(path, "it is not a regular file")
    size = _settled_size(path)
    with open(path, "rb") as f:
        head = f.read(100)
    problem = _header_problem(path, head, size)
    if problem is not None:
        raise _refuse(path, problem)


def check_tables(conn: sqlite3.Connection, path: str | Path) -> None:
    """Raise :class:`StoreError` unless the database open on ``conn`` (nothing written yet)
    holds ravine's tables or no table at all (a new store, maybe being created by another
    runner this instant). The store's own connection reads this: a second connection to the
    file in the same process would release the first one's locks when it closed."""
    path = Path(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if not tables:
            return
        version = None
        if {"meta", "trials", "metrics"} <= tables:
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = row and row[0]
        if version is None:
            raise _refuse(path, "it is another program's SQLite database (no ravine tables)")
        conn.execute("SELECT COUNT(*) FROM trials").fetchone()
    except sqlite3.DatabaseError as err:
        raise _refuse(path, f"SQLite cannot read it ({err}); it may be damaged") from None
