"""Shared by the example scripts: where figures go (``--out DIR``, every script)."""

from __future__ import annotations

import argparse
from pathlib import Path

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"


def parser(description: str | None, default: Path = FIGURES) -> argparse.ArgumentParser:
    """An argument parser with ``--out DIR`` (default: ``default``, docs/figures next to
    this folder); a script adds its own options."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument(
        "--out", type=Path, default=default, help=f"directory for the figures ({default})"
    )
    return ap


def made(path: Path) -> Path:
    """``path``, created if missing."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def out_dir(description: str | None) -> Path:
    """Parse ``--out DIR`` (the only option) and create the directory."""
    return made(parser(description).parse_args().out)
