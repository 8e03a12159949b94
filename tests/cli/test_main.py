"""The ``ravine`` group: its subcommands, its entry point, and modules without a cycle."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path

from click.testing import CliRunner

import ravine
from ravine.cli import list as listing
from ravine.cli import main
from support.fresh import run_fresh

SRC = Path(ravine.__file__).parent
SUBCOMMANDS = ("list", "race", "study", "bench")


def test_help_names_every_subcommand_and_version_is_the_package_s():
    res = CliRunner().invoke(main, ["--help"])
    assert res.exit_code == 0
    for name in SUBCOMMANDS:
        assert f"\n  {name} " in res.output
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0 and ravine.__version__ in res.output


def test_entry_point_is_the_group():
    pyproject = SRC.parent.parent / "pyproject.toml"
    target = tomllib.loads(pyproject.read_text())["project"]["scripts"]["ravine"]
    module, _, name = target.partition(":")
    assert getattr(import_module(module), name) is main


def test_python_dash_m_lists_every_kind():
    # Run as a script, every lister is registered too (not only when imported).
    out = subprocess.run(
        [sys.executable, "-m", "ravine.cli", "list", "problems"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC.parent)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[:2] == ["name", "description"] and "digits_mlp" in out.stdout


def test_subcommand_modules_import_only_the_output_module():
    for name in SUBCOMMANDS:
        tree = ast.parse((SRC / "cli" / f"{name}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                # ravine list also reads its stored tables (data, no code)
                allowed = ("output", "listed") if name == "list" else ("output",)
                assert node.module in allowed, f"cli/{name}.py imports .{node.module}"
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ravine.cli"):
                raise AssertionError(f"cli/{name}.py imports {node.module}")


def test_help_version_and_every_list_answer_without_importing_torch():
    # Importing torch takes seconds: the commands that need none must not pay for it.
    for args in (["--help"], ["--version"], ["list", "--help"], ["race", "--help"],
                 ["study", "--help"], ["study", "run", "--help"], ["bench", "--help"],
                 ["explore", "--help"],
                 *(["list", what] for what in listing.LISTERS)):  # fmt: skip
        out = run_fresh(
            "from ravine.cli import main",
            f"code = main({args!r}, standalone_mode=False)",
            "heavy = sorted({'torch', 'matplotlib', 'numpy', 'ravine.optim'} & set(sys.modules))",
            "print('imported:', heavy)",
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[-1] == "imported: []", (args, out.stdout[-300:])


def test_import_ravine_is_light_and_gives_every_subpackage():
    out = run_fresh(
        "import ravine",
        "assert not {'torch', 'ravine.optim'} & set(sys.modules), 'import ravine imported torch'",
        "for name in ('optim', 'problems', 'schedules', 'study', 'landscapes', 'race', 'plot'):",
        "    assert getattr(ravine, name).__name__ == 'ravine.' + name, name",
        "    assert name in dir(ravine)",
        "print(callable(ravine.race), callable(ravine.study.run_study))",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
