"""The ``ravine`` command."""

from __future__ import annotations

from collections.abc import Callable

import click

LISTERS: dict[str, Callable[[], list[tuple[str, ...]]]] = {}


def lister(what: str):
    """Register a function returning the rows that ``ravine list WHAT`` prints."""

    def wrap(fn: Callable[[], list[tuple[str, ...]]]):
        LISTERS[what] = fn
        return fn

    return wrap


def _format_default(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "(" + ", ".join(_format_default(v) for v in value) + ")"
    return str(value)


@lister("optimizers")
def _optimizers() -> list[tuple[str, ...]]:
    from .optim import REGISTRY

    rows = [("name", "family", "defaults", "paper")]
    for name, cls in REGISTRY.items():
        defaults = cls.hyperparameter_defaults()
        shown = ", ".join(
            f"{k}={_format_default(v)}"
            for k, v in defaults.items()
            if k not in {"maximize", "weight_decay"} or v
        )
        rows.append((name, cls.family, shown, cls.paper))
    return rows


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, row in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if k == 0:
            click.echo("  ".join("-" * w for w in widths))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ravine")
def main() -> None:
    """ravine: optimizers for neural networks, raced, measured and explained."""


@main.command("list")
@click.argument("what", required=False, default="optimizers")
def list_(what: str) -> None:
    """List what ravine knows: optimizers (default) and, where installed, other things."""
    key = what.strip().lower()
    if key not in LISTERS:
        raise click.BadParameter(
            f"{what!r} is not listable; choose one of: {', '.join(LISTERS)}", param_hint="WHAT"
        )
    _print_table(LISTERS[key]())


@lister("schedules")
def _schedules() -> list[tuple[str, ...]]:
    from .schedules import ALIASES, NAMES, usage

    rows = [("name", "aliases", "string form")]
    for name in NAMES:
        aliases = ", ".join(a for a, n in ALIASES.items() if n == name)
        rows.append((name, aliases, usage(name)))
    return rows


# -- subcommands defined in their own modules ---------------------------------------------
from .bench_cli import bench_command as _bench_command  # noqa: E402
from .race_cli import landscape_rows as _landscape_rows  # noqa: E402
from .race_cli import race_command as _race_command  # noqa: E402
from .study_cli import study  # noqa: E402

lister("landscapes")(_landscape_rows)
main.add_command(_race_command)
main.add_command(study)
main.add_command(_bench_command)

if __name__ == "__main__":  # pragma: no cover
    main()
