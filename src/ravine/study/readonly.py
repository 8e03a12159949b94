"""A store opened for reading only: what a viewer (``ravine explore STORE``) uses, so that
watching a study can never change it, nor create any file beside it.

SQLite's ``mode=ro`` still creates the ``-wal`` and ``-shm`` files of a WAL database when
they are missing (and leaves them behind), so the connection depends on what is there:

* both exist (a runner has the store open, or left them): ``mode=ro``, which reads the
  runner's commits as they land, through the shared-memory index it keeps;
* otherwise (nobody is writing): ``immutable=1``, which reads the file as it stands with no
  lock and no side file. A viewer opens a new connection for each look, so a runner that
  starts later is seen at the next one.

The file is checked first as :class:`~.store.Store` checks it (its header, then its
tables), and a file that holds no ravine study yet is refused too: there is nothing to show.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from . import store as _store
from .storefile import StoreError, check_store_file, check_tables

__all__ = ["ReadOnlyStore"]


class ReadOnlyStore(_store.Store):
    """A :class:`~.store.Store`'s reading methods on a read-only connection; every writing
    method raises :class:`sqlite3.OperationalError` (the connection cannot write)."""

    def __init__(self, path: str | Path, *, timeout: float = 10.0):
        self.path = Path(path)
        if not self.path.is_file():
            raise StoreError(f"{self.path} is not a ravine study store: there is no such file.")
        self._key = str(self.path.resolve())
        if not _store._OPEN[self._key]:  # see store._OPEN: never reopen a file held here
            check_store_file(self.path)
        self._timeout = timeout
        self.conn = self._connect()
        _store._OPEN[self._key] += 1
        if self.get_meta("schema_version") is None:
            self.close()
            raise StoreError(f"{self.path} is not a ravine study store: it holds no study yet.")

    def _connect(self) -> sqlite3.Connection:
        live = all(Path(f"{self.path}{end}").exists() for end in ("-wal", "-shm"))
        mode = "mode=ro" if live else "mode=ro&immutable=1"
        uri = f"file:{quote(str(self.path.resolve()))}?{mode}"
        conn = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None)
        try:
            check_tables(conn, self.path)
        except StoreError:
            conn.close()
            raise
        conn.execute("PRAGMA query_only=ON")
        return conn
