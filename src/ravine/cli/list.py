"""``ravine list``: what ravine knows, one table per kind, each read from its registry.

Optimizers come from :mod:`ravine.optim.registry` (defaults from each
:class:`~ravine.optim.registry.OptimizerInfo`, family and paper from the class), landscapes
from the landscape objects, problems from :data:`ravine.problems.PROBLEMS`, study examples
from :mod:`ravine.study.examples`, schedules from :mod:`ravine.schedules`. A new kind is one
function decorated with :func:`lister`.

Reading the registries imports torch (seconds), so ``ravine list`` prints the tables kept in
:mod:`ravine.cli.listed` instead, each stored with a digest of the sources it was read from
(the ``sources`` of :func:`lister`). A table whose sources changed since is read live again,
as is every table once torch is imported anyway (in a program or a test, where a registry
may have been changed at run time). :func:`write_tables` rewrites the stored tables
(``python -c "from ravine.cli.list import write_tables; write_tables()"``); a test checks
that they are current.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .output import print_table

__all__ = ["LISTERS", "SOURCES", "digest", "list_command", "lister", "table", "write_tables"]

Rows = list[tuple[str, ...]]

LISTERS: dict[str, Callable[[], Rows]] = {}
SOURCES: dict[str, tuple[str, ...]] = {}
PACKAGE = Path(__file__).resolve().parents[1]
STORED = Path(__file__).with_name("listed.py")


def lister(
    what: str, sources: tuple[str, ...] = ()
) -> Callable[[Callable[[], Rows]], Callable[[], Rows]]:
    """Register a function returning the rows (header first) that ``ravine list WHAT``
    prints; ``sources`` are the files and folders (relative to the ``ravine`` package) whose
    code decides those rows, so that a stored copy of the table can tell that it is current.
    Without sources the table is always read live."""

    def wrap(fn: Callable[[], Rows]) -> Callable[[], Rows]:
        LISTERS[what] = fn
        SOURCES[what] = sources
        return fn

    return wrap


def digest(sources: tuple[str, ...]) -> str:
    """A digest of the Python files of ``sources`` (their paths and contents)."""
    h = hashlib.sha256()
    for source in sources:
        path = PACKAGE / source
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(file.relative_to(PACKAGE).as_posix().encode() + b"\0")
            h.update(file.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def table(what: str) -> Rows:
    """The table of ``what``: the stored copy where it is current and torch is not imported
    yet (reading it live would import torch), else read from the registry."""
    if SOURCES[what] and "torch" not in sys.modules:
        from .listed import TABLES

        stored = TABLES.get(what)
        if stored is not None and stored["digest"] == digest(SOURCES[what]):
            return [tuple(row) for row in stored["rows"]]
    return LISTERS[what]()


def write_tables(path: Path = STORED) -> None:
    """Rewrite the stored tables (:mod:`ravine.cli.listed`) from the registries."""
    tables = {
        what: {"digest": digest(SOURCES[what]), "rows": LISTERS[what]()}
        for what in LISTERS
        if SOURCES[what]
    }
    lines = [
        '"""The tables of ``ravine list``, stored so that it answers without importing torch.',
        "",
        "Written by :func:`ravine.cli.list.write_tables`; do not edit.",
        '"""',
        "",
        "# ruff: noqa: E501",
        "# fmt: off",
        "TABLES = {",
    ]
    for what, stored in tables.items():
        lines += [
            f"    {what!r}: {{",
            f"        'digest': {stored['digest']!r},",
            "        'rows': [",
        ]
        lines += [f"            {tuple(row)!r}," for row in stored["rows"]]
        lines += ["        ],", "    },"]
    lines += ["}", ""]
    path.write_text("\n".join(lines))


@click.command("list")
@click.argument("what", required=False, default="optimizers")
def list_command(what: str) -> None:
    """List what ravine knows: optimizers (default) and, where installed, other things."""
    key = what.strip().lower()
    if key not in LISTERS:
        raise click.BadParameter(
            f"{what!r} is not listable; choose one of: {', '.join(LISTERS)}", param_hint="WHAT"
        )
    print_table(table(key))


@lister("optimizers", sources=("optim", "race/result.py"))
def optimizer_rows() -> Rows:
    """Every registered optimizer: its family, the defaults it departs from, its paper."""
    from ..optim.registry import names, resolve
    from ..race.result import format_value

    rows = [("name", "family", "defaults", "paper")]
    for name in names():
        info = resolve(name)
        shown = ", ".join(
            f"{k}={format_value(v)}"
            for k, v in info.defaults.items()
            if k not in {"maximize", "weight_decay"} or v
        )
        rows.append((name, info.cls.family, shown, info.cls.paper))
    return rows


@lister("schedules", sources=("schedules",))
def schedule_rows() -> Rows:
    """Every schedule name, its aliases and its string form."""
    from ..schedules import ALIASES, NAMES, usage

    rows = [("name", "aliases", "string form")]
    for name in NAMES:
        aliases = ", ".join(a for a, n in ALIASES.items() if n == name)
        rows.append((name, aliases, usage(name)))
    return rows


@lister("problems", sources=("problems",))
def problem_rows() -> Rows:
    """Every registered training problem and the first sentence of its factory's doc."""
    from ..problems import PROBLEMS, describe

    return [("name", "description")] + [(k, describe(k)) for k in PROBLEMS]


@lister("examples", sources=("study/examples.py",))
def example_rows() -> Rows:
    """The built-in studies: their problems, optimizers, protocol and number of seeds."""
    from ..study.examples import EXAMPLES

    rows = [("name", "problems", "optimizers", "protocol", "seeds")]
    for k, e in EXAMPLES.items():
        proto = e.get("protocol", "grid")
        rows.append(
            (
                k,
                ", ".join(p.get("label", p["name"]) for p in e["problems"]),
                ", ".join(o["name"] for o in e["optimizers"]),
                proto if isinstance(proto, str) else proto["kind"],
                str(len(e["seeds"])),
            )
        )
    return rows


@lister("landscapes", sources=("landscapes",))
def landscape_rows() -> Rows:
    """Every landscape: its dimension, global minimum, model, options and description."""
    from .. import landscapes

    rows = [("name", "dim", "global minimum", "model", "options", "description")]
    for name in landscapes.names():
        opts = landscapes.options(name)
        land = landscapes.get(name)
        best = land.global_minimum
        where = (
            "none (saddle)"
            if best is None
            else f"{best.value:.6g} at ({', '.join(f'{c:.4g}' for c in best.location)})"
        )
        shown = ", ".join(f"{k}={v}" for k, v in opts.items() if not isinstance(v, tuple))
        rows.append((name, str(land.dim), where, _model_kind(land), shown or "-", land.description))
    return rows


def _model_kind(land: Any) -> str:
    """What the landscape offers the optimizers that need a model (see `ravine.race`)."""
    model = land.model
    if model is None:
        return "-"
    kind = {"gaussian": "least squares", "bernoulli": "logistic"}.get(
        model.likelihood, model.likelihood
    )
    return kind + (", linear layer" if model.inputs is not None else "")
