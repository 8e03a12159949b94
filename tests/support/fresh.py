"""Run lines of Python in a fresh interpreter, with this checkout's ``ravine`` importable:
for what only a new process can show (which modules a command imports, what a script
prints)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def run_fresh(*lines: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -c`` of ``lines`` (after ``import sys``), its output captured as text."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    code = "\n".join(["import sys", *lines])
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd
    )
