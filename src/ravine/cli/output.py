"""How the ``ravine`` command writes a table: a header row, a rule under it, each column
padded to its widest cell. Plain text, never wrapped or truncated, so that a table reads
the same in a terminal, in a pipe (``grep``, ``cut``) and in tests."""

from __future__ import annotations

from collections.abc import Sequence

import click

__all__ = ["print_table", "table_lines"]


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """``rows`` (the first is the header) as aligned lines, a rule under the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Echo :func:`table_lines` of ``rows``."""
    for line in table_lines(rows):
        click.echo(line)
