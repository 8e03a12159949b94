"""``python -m ravine.cli``: the ``ravine`` command."""

from .main import main

main()
