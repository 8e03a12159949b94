"""The Python blocks in the docs run as written (each page's blocks share one namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ["gradient_descent.md"]


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page: str) -> None:
    text = (DOCS / page).read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"{page} has no python block"
    namespace: dict = {"__name__": f"docs.{page}"}
    for block in blocks:
        exec(compile(block, str(DOCS / page), "exec"), namespace)
