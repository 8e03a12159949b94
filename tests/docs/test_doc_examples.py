"""The README and docs/*.md run as written: every fenced ``python`` block (each page's blocks
in order, sharing one namespace, in a temporary folder), every ``toml`` spec (a valid study
spec, saved as ``study.toml`` for the page's commands) and every ``ravine ...`` command of a
fenced shell block (in order, in one temporary folder per page, in one interpreter so that
torch is imported once). A shell line that is not run is in :data:`SKIPPED` with the reason.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from support.fresh import run_fresh

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))]
SHELLS = ("bash", "sh", "shell", "console")

# Shell lines of the docs that the tests do not run, by their start, and why.
SKIPPED = {
    "python3 -m venv": "creates an environment and installs packages from the network",
    "python -m pytest": "the test suite itself",
    "python benchmarks/": "measurement runs of minutes; benchmarks/ is not the ravine command",
    "ravine study run study.toml --executor ray": "needs a running Ray cluster",
}


def fenced(page: str, languages: tuple[str, ...]) -> list[str]:
    """The fenced blocks of ``page`` in any of ``languages``, in order."""
    text = (ROOT / page).read_text()
    return [
        body
        for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M)
        if lang in languages
    ]


def shell_lines(page: str) -> list[str]:
    """Every command of the page's shell blocks, continuation lines joined, comments cut."""
    lines = []
    for block in fenced(page, SHELLS):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words:
                lines.append(shlex.join(words))
    return lines


def skipped(line: str) -> str | None:
    return next((why for start, why in SKIPPED.items() if line.startswith(start)), None)


def test_every_shell_line_is_a_ravine_command_or_skipped_with_a_reason():
    for page in PAGES:
        for line in shell_lines(page):
            assert line.startswith("ravine ") or skipped(line), f"{page}: {line!r} is not run"
    # Every skip still names a line of the docs.
    every = [line for page in PAGES for line in shell_lines(page)]
    for start in SKIPPED:
        assert any(line.startswith(start) for line in every), f"stale skip {start!r}"


@pytest.mark.parametrize("page", [p for p in PAGES if fenced(p, ("python",))])
def test_python_blocks_run(page: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs.{page}"}
    for block in fenced(page, ("python",)):
        exec(compile(block, str(ROOT / page), "exec"), namespace)


@pytest.mark.parametrize("page", [p for p in PAGES if fenced(p, ("toml",))])
def test_toml_blocks_are_valid_specs(page: str) -> None:
    from ravine.study import load_spec

    for block in fenced(page, ("toml",)):
        assert load_spec(tomllib.loads(block)).name


@pytest.mark.parametrize("page", [p for p in PAGES if any(
    line.startswith("ravine ") and not skipped(line) for line in shell_lines(p))])  # fmt: skip
def test_ravine_commands_run(page: str, tmp_path) -> None:
    commands = [
        line for line in shell_lines(page) if line.startswith("ravine ") and not skipped(line)
    ]
    for spec in fenced(page, ("toml",)):
        (tmp_path / "study.toml").write_text(spec)
    results = tmp_path / "results.json"
    done = run_fresh(
        "import json, shlex, time, traceback",
        "from ravine.cli import main",
        "results = []",
        f"for line in {commands!r}:",
        "    start = time.perf_counter()",
        "    try:",
        "        code = main(shlex.split(line)[1:], standalone_mode=False) or 0",
        "    except SystemExit as stop:",
        "        code = stop.code",
        "    except BaseException:",
        "        code = traceback.format_exc()",
        "    results.append([line, code, time.perf_counter() - start])",
        f"    open({str(results)!r}, 'w').write(json.dumps(results))",
        cwd=tmp_path,
    )
    ran = json.loads(results.read_text()) if results.exists() else []
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r[0] for r in ran] == commands
    for line, code, seconds in ran:
        print(f"{seconds:7.1f} s  {line}")
        assert code == 0, f"{page}: {line}\n{code}"
