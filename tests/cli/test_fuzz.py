"""Bad command lines: each is refused with a message and a nonzero exit, never a traceback,
and nothing is written (the fuzzing of issue 12, kept as a test)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ravine.cli import main

OUT = ["--out", "x.png"]
RACE = [
    ["nowhere", *OUT],
    ["beale", "--out", "x.txt"],
    ["beale", "--out", "no/such/dir/x.png"],
    ["beale", "-o", "adamm", *OUT],
    ["beale", "-o", "", *OUT],
    ["beale", "-o", ",,", *OUT],
    *(["beale", "--lr", v, *OUT] for v in ("-1", "nan", "inf", "abc", "adam=", "=0.1", "zzz=0.1")),
    *(["beale", "--lr-grid", v, *OUT] for v in ("1:2", "a:b:c", "1e-3:1e-1:0", "-1:1:3")),
    *(["beale", "--start", v, *OUT] for v in ("1", "a,b", "1,2,3", "nan,1", "1e9,1e9")),
    ["quadratic", "-O", "condition=-5", *OUT],
    ["quadratic", "-O", "nope=1", *OUT],
    ["quadratic", "-O", "condition", *OUT],
    ["beale", "--schedule", "lr=nonsense", *OUT],
    ["beale", "--schedule", "nonsense", *OUT],
    ["beale", "--lr-schedule", "cosine:-5", *OUT],
    ["beale", "--momentum-schedule", "linear:0.5:2:10", *OUT],
    ["beale", "--hp", "adam.betas=2,3", *OUT],
    ["beale", "--hp", "adam.zzz=1", *OUT],
    ["beale", "--hp", "nope", *OUT],
    ["beale", "--hp", "sgd.lr=abc", *OUT],
    ["beale", "--loss-panel", *OUT],
    ["beale", "-o", "kfac", *OUT],
    ["beale", "--noise", "-1", *OUT],
    ["beale", "--seeds", "0", *OUT],
    ["beale", "--steps", "0", *OUT],
]
STUDY = [
    ["run"],
    ["run", "missing.toml"],
    ["run", "bad.toml"],
    ["run", "binary.toml"],
    ["run", "--example", "nope"],
    ["status", "missing.db"],
    ["status", "empty.db"],
    ["status", "bad.toml"],
    ["report", "binary.toml"],
    ["export", "missing.db"],
    ["export", "binary.toml"],
]
OTHER = [
    ["list", "nothing"],
    ["bench", "nope"],
    ["bench", "steps", "--sets", "nope"],
    ["bench", "trials", "--trials", "a,b"],
    ["bench", "steps", "--rounds", "0"],
    ["--nope"],
]
CASES = [["race", *a] for a in RACE] + [["study", *a] for a in STUDY] + OTHER


@pytest.mark.parametrize("args", CASES, ids=" ".join)
def test_a_bad_command_line_is_refused_cleanly(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.toml").write_text("name = 3\n[[optimizers]]\nname = 'adam'\n")
    (tmp_path / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "empty.db").write_bytes(b"")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.output.strip(), "refused without a word"
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert after == before  # nothing written, nothing changed
