"""CSV and Parquet exports hold every trial and every metric row of the store."""

from __future__ import annotations

import csv
import json

import pytest
import torch

from ravine.study import Store
from ravine.study.export import export


def test_csv_and_parquet_exports_hold_every_row(tiny_store, tmp_path):
    pa = pytest.importorskip("pyarrow.parquet")
    with Store(tiny_store) as s:
        trials = s.trials()
        metrics = s.metrics()
        export(s, tmp_path / "csv", "csv")
        export(s, tmp_path / "pq", "parquet")
    n_rows = sum(len(v) for v in metrics.values())
    with open(tmp_path / "csv" / "tiny.trials.csv") as f:
        t_rows = list(csv.DictReader(f))
    with open(tmp_path / "csv" / "tiny.metrics.csv") as f:
        m_rows = list(csv.DictReader(f))
    assert len(t_rows) == len(trials) and len(m_rows) == n_rows
    first = trials[0]
    assert float(t_rows[0]["hp.lr"]) == first.hyperparameters["lr"]
    assert json.loads(t_rows[0]["versions"])["torch"] == torch.__version__
    m0 = [r for r in m_rows if int(r["trial_id"]) == first.id]
    assert [float(r["val_loss"]) for r in m0] == pytest.approx(
        [r.val_loss for r in metrics[first.id]]
    )
    table = pa.read_table(tmp_path / "pq" / "tiny.metrics.parquet").to_pydict()
    assert len(table["step"]) == n_rows
    assert table["val_metric"][: len(m0)] == pytest.approx(
        [r.val_metric for r in metrics[first.id]]
    )
    assert pa.read_table(tmp_path / "pq" / "tiny.trials.parquet").num_rows == len(trials)


def test_exports_of_two_studies_share_a_folder(tiny_store, tmp_path, user_module):
    """Files are named after the study: another study's export stays intact, and exporting
    a study again replaces its own files."""
    from ravine.study import run_study
    from support.study import tiny_spec

    other = run_study(
        tiny_spec(name="other", seeds=[0], optimizers=[{"name": "sgd", "lr": [0.1]}]),
        tmp_path / "other.db",
        progress=False,
    )
    with Store(other) as s:
        theirs = export(s, tmp_path / "out")
    before = {p: p.read_bytes() for p in theirs}
    with Store(tiny_store) as s:
        ours = export(s, tmp_path / "out")
        assert export(s, tmp_path / "out") == ours
    assert [p.name for p in ours] == ["tiny.trials.csv", "tiny.metrics.csv"]
    assert {p: p.read_bytes() for p in theirs} == before
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in theirs + ours
    )


def test_an_export_never_replaces_another_stores_study_of_the_same_name(
    tiny_store, tmp_path, user_module
):
    """Two stores whose studies share a name: the second export is refused before any file
    is written, and the first store's files stay as they were."""
    from ravine.study import run_study
    from support.study import tiny_spec

    twin = run_study(
        tiny_spec(name="tiny", seeds=[0], optimizers=[{"name": "sgd", "lr": [0.1]}]),
        tmp_path / "twin.db",
        progress=False,
    )
    with Store(twin) as s:
        theirs = export(s, tmp_path / "out")
    before = {p: p.read_bytes() for p in theirs}
    with Store(tiny_store) as s, pytest.raises(FileExistsError, match="not exported from this"):
        export(s, tmp_path / "out")
    assert {p: p.read_bytes() for p in theirs} == before
    (tmp_path / "out" / "tiny.trials.csv").write_text("not,an,export\n1,2,3\n")
    with Store(twin) as s, pytest.raises(FileExistsError):  # a foreign file is not replaced
        export(s, tmp_path / "out")
