"""Shared by the example scripts: where figures go."""

from __future__ import annotations

import argparse
from pathlib import Path

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"


def out_dir(description: str) -> Path:
    """Parse ``--out DIR`` (default: docs/figures next to this folder) and create it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", type=Path, default=FIGURES, help="directory for the figures")
    path = parser.parse_args().out
    path.mkdir(parents=True, exist_ok=True)
    return path
