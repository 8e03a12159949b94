"""The scripts in examples/: each takes ``--out DIR``, and the cheap ones run as written
into a temporary folder (in one interpreter, so that torch is imported once)."""

from __future__ import annotations

import json
from pathlib import Path

from support.fresh import run_fresh

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
# Seconds each on a 2-core CPU; the rest (second-order studies of digits, timings of Newton
# steps) take a minute or more and are run by hand (docs/second_order.md).
CHEAP = {
    "coordinates_lr": ["coordinates_lr.png"],
    "schedules_gallery": ["schedules.png"],
    "second_order_race": ["second_order_race.png", "second_order_race_loss.png"],
}


def run_scripts(calls: list[tuple[str, list[str]]], cwd: Path):
    """Run each (script, arguments) as ``__main__``; print a JSON line per script: its exit
    code and what it printed."""
    return run_fresh(
        "import contextlib, io, json, runpy",
        f"sys.path.insert(0, {str(EXAMPLES)!r})",
        f"for script, args in {calls!r}:",
        "    sys.argv, out, code = [script, *args], io.StringIO(), 0",
        "    with contextlib.redirect_stdout(out):",
        "        try:",
        "            runpy.run_path(script, run_name='__main__')",
        "        except SystemExit as stop:",
        "            code = stop.code or 0",
        "    print(json.dumps([script, code, out.getvalue()]))",
        cwd=cwd,
    )


def test_every_example_takes_out(tmp_path):
    assert len(SCRIPTS) >= 10
    done = run_scripts([(str(p), ["--help"]) for p in SCRIPTS], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert [Path(a[0]).name for a in answers] == [p.name for p in SCRIPTS]
    for script, code, text in answers:
        assert code == 0 and "--out" in text, (script, text)
    assert not list(tmp_path.iterdir()), "--help wrote files"


def test_cheap_examples_write_their_figures_into_out(tmp_path):
    out = tmp_path / "figures"
    calls = [(str(EXAMPLES / f"{name}.py"), ["--out", str(out)]) for name in CHEAP]
    done = run_scripts(calls, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    for name, files in CHEAP.items():
        for file in files:
            assert (out / file).stat().st_size > 1000, (name, file)
    assert not [p for p in tmp_path.iterdir() if p != out], "wrote outside --out"
