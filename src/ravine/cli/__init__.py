"""The ``ravine`` command: ``ravine list``, ``race``, ``study``, ``bench``, ``explore``.

:mod:`~ravine.cli.main` is the click group; each subcommand lives in its own module and
imports only :mod:`~ravine.cli.output` (how tables are written) and library code.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
