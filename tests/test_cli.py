"""The `ravine` command: `ravine list` shows every registered optimizer."""

from __future__ import annotations

from click.testing import CliRunner

import ravine.optim as ro
from ravine.cli import main


def test_list_shows_every_optimizer_with_family_defaults_and_paper() -> None:
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name, cls in ro.REGISTRY.items():
        row = next(line for line in lines if line.split()[0] == name)
        assert cls.family in row and cls.paper in row
    adam = next(line for line in lines if line.startswith("adam "))
    assert "lr=0.001" in adam and "betas=(0.9, 0.999)" in adam and "eps=1e-08" in adam


def test_list_unknown_kind_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["list", "teapots"])
    assert result.exit_code == 2
    assert "'teapots' is not listable; choose one of: optimizers" in result.output
