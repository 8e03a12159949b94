"""``ravine list``: what ravine knows, one table per kind, each read from its registry.

Optimizers come from :mod:`ravine.optim.registry` (defaults from each
:class:`~ravine.optim.registry.OptimizerInfo`, family and paper from the class), landscapes
from the landscape objects, problems from :data:`ravine.problems.PROBLEMS`, study examples
from :mod:`ravine.study.examples`, schedules from :mod:`ravine.schedules`. A new kind is one
function decorated with :func:`lister`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from .output import print_table

__all__ = ["LISTERS", "list_command", "lister"]

Rows = list[tuple[str, ...]]

LISTERS: dict[str, Callable[[], Rows]] = {}


def lister(what: str) -> Callable[[Callable[[], Rows]], Callable[[], Rows]]:
    """Register a function returning the rows (header first) that ``ravine list WHAT``
    prints."""

    def wrap(fn: Callable[[], Rows]) -> Callable[[], Rows]:
        LISTERS[what] = fn
        return fn

    return wrap


@click.command("list")
@click.argument("what", required=False, default="optimizers")
def list_command(what: str) -> None:
    """List what ravine knows: optimizers (default) and, where installed, other things."""
    key = what.strip().lower()
    if key not in LISTERS:
        raise click.BadParameter(
            f"{what!r} is not listable; choose one of: {', '.join(LISTERS)}", param_hint="WHAT"
        )
    print_table(LISTERS[key]())


@lister("optimizers")
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


@lister("schedules")
def schedule_rows() -> Rows:
    """Every schedule name, its aliases and its string form."""
    from ..schedules import ALIASES, NAMES, usage

    rows = [("name", "aliases", "string form")]
    for name in NAMES:
        aliases = ", ".join(a for a, n in ALIASES.items() if n == name)
        rows.append((name, aliases, usage(name)))
    return rows


@lister("problems")
def problem_rows() -> Rows:
    """Every registered training problem and the first sentence of its factory's doc."""
    from ..problems import PROBLEMS, describe

    return [("name", "description")] + [(k, describe(k)) for k in PROBLEMS]


@lister("examples")
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


@lister("landscapes")
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
