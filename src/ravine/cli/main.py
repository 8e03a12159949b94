"""The ``ravine`` click group, with every subcommand added."""

from __future__ import annotations

import click

from .bench import bench_command
from .explore import explore_command
from .list import list_command
from .race import race_command
from .study import study

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ravine")
def main() -> None:
    """ravine: optimizers for neural networks, raced, measured and explained."""


for _command in (list_command, race_command, study, bench_command, explore_command):
    main.add_command(_command)
