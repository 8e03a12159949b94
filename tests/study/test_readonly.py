"""A store opened read-only: it reads what the runner wrote, never writes, and creates no
file beside the store."""

from __future__ import annotations

import sqlite3

import pytest

from ravine.study import Store
from ravine.study.readonly import ReadOnlyStore
from ravine.study.storefile import StoreError


def test_reads_the_same_as_the_store(tiny_store):
    with Store(tiny_store) as s, ReadOnlyStore(tiny_store) as r:
        assert r.counts() == s.counts()
        assert [t.id for t in r.trials()] == [t.id for t in s.trials()]
        assert r.metrics() == s.metrics()
        assert r.get_meta("spec") == s.get_meta("spec")


def test_never_writes_nor_creates_a_file(tiny_store, tmp_path):
    path = tmp_path / "copy.db"
    path.write_bytes(tiny_store.read_bytes())
    before = sorted(p.name for p in tmp_path.iterdir())
    stat = path.stat()
    with ReadOnlyStore(path) as r:
        assert r.counts()["done"] > 0
        with pytest.raises(sqlite3.OperationalError):
            r.set_meta("x", 1)
        with pytest.raises(sqlite3.OperationalError):
            r.retry_failed()
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no -wal, no -shm
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert path.read_bytes() == tiny_store.read_bytes()


def test_sees_a_runners_commits_while_it_writes(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as w, ReadOnlyStore(path) as r:
        assert r.get_meta("spec") is None
        w.set_meta("spec", {"name": "x"})
        assert r.get_meta("spec") == {"name": "x"}


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "empty"), (b'name = "x"\n[[optimizers]]\n', "TOML"), (b"\x00" * 200, "not an SQLite")],
)
def test_refuses_what_is_not_a_store_untouched(tmp_path, content, says):
    path = tmp_path / "x.db"
    path.write_bytes(content)
    with pytest.raises(StoreError, match=says):
        ReadOnlyStore(path)
    assert path.read_bytes() == content and sorted(tmp_path.iterdir()) == [path]


def test_refuses_a_missing_file_and_an_empty_database(tmp_path):
    with pytest.raises(StoreError, match="no such file"):
        ReadOnlyStore(tmp_path / "nothing.db")
    assert not (tmp_path / "nothing.db").exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE other (x)").connection.close()
    with pytest.raises(StoreError, match="another program"):
        ReadOnlyStore(empty)
