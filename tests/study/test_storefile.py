"""A file that is not a ravine store is refused in one paragraph and never written to."""

from __future__ import annotations

import os
import sqlite3

import pytest
from click.testing import CliRunner

from ravine.cli import main
from ravine.study import Store, run_study
from ravine.study.storefile import StoreError, check_store_file
from support.study import tiny_spec


def _not_stores(tmp_path, tiny_store):
    """name -> path of a file that is not a ravine store."""
    files = {}
    files["random"] = tmp_path / "random.db"
    files["random"].write_bytes(os.urandom(4096))
    files["empty"] = tmp_path / "empty.db"
    files["empty"].write_bytes(b"")
    files["toml"] = tmp_path / "spec.toml"
    files["toml"].write_text('name = "x"\n[[optimizers]]\nname = "adam"\n')
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE songs (title TEXT)")
    conn.execute("INSERT INTO songs VALUES ('a')")
    conn.commit()
    conn.close()
    files["foreign"] = foreign
    data = tiny_store.read_bytes()
    files["truncated"] = tmp_path / "truncated.db"
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["header only"] = tmp_path / "cut.db"
    files["header only"].write_bytes(data[:60])
    return files


@pytest.fixture
def not_stores(tmp_path, tiny_store):
    return _not_stores(tmp_path, tiny_store)


def test_a_missing_path_and_a_real_store_pass(tmp_path, tiny_store):
    check_store_file(tmp_path / "new.db")
    check_store_file(tiny_store)


def test_every_kind_of_non_store_is_refused_untouched(not_stores):
    for kind, path in not_stores.items():
        before = path.read_bytes()
        with pytest.raises(StoreError, match="is not a ravine study store") as err:
            Store(path)
        assert "\n" not in str(err.value), kind
        assert path.read_bytes() == before, kind
    with pytest.raises(StoreError, match="empty"):
        Store(not_stores["empty"])
    with pytest.raises(StoreError, match="TOML spec"):
        Store(not_stores["toml"])
    with pytest.raises(StoreError, match="another program's SQLite"):
        Store(not_stores["foreign"])
    with pytest.raises(StoreError, match="cut short"):
        Store(not_stores["truncated"])


def test_every_command_refuses_a_non_store_in_one_paragraph(not_stores, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(
        'name = "s"\n[[problems]]\nname = "moons"\noptions = { n = 100 }\n'
        '[[optimizers]]\nname = "sgd"\n'
    )
    runner = CliRunner()
    for kind, path in not_stores.items():
        before = path.read_bytes()
        for args in (
            ["run", "s.toml", "--store", str(path)],
            ["status", str(path)],
            ["report", str(path)],
            ["export", str(path), "--out", str(tmp_path / "exp")],
        ):
            r = runner.invoke(main, ["study", *args])
            assert r.exit_code == 1, (kind, args, r.output)
            assert "Traceback" not in r.output and "is not a ravine study store" in r.output
            assert path.read_bytes() == before, (kind, args)
        assert not (tmp_path / "s.study.db").exists()


def test_run_study_refuses_before_any_trial(not_stores, user_module):
    with pytest.raises(StoreError):
        run_study(tiny_spec(), not_stores["foreign"], progress=False)
