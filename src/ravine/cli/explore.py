"""``ravine explore``: race optimizers interactively in the browser."""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["explore_command"]


@click.command("explore")
@click.argument("stores", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
def explore_command(stores: tuple[str, ...], host: str, port: int, no_browser: bool) -> None:
    """Start the explorer: a local page where optimizers race as you click and drag, and
    where studies are watched live.

    With STORE (one or more study stores), opens the study page: trials done, running and
    failed, curves, learning-rate sensitivity and the summary, updated as trials finish.
    Stores are only read. Without STORE, the stores in the current folder are offered.

    \b
    ravine explore                 # opens http://127.0.0.1:8765/
    ravine explore --no-browser --port 9000
    ravine explore results.db      # opens http://127.0.0.1:8765/study
    """
    try:
        from ..explore.serve import ServeError, serve
        from ..explore.studies import find_stores
    except ImportError as err:  # the web extra is missing
        raise click.ClickException(
            f"the explorer needs {err.name}: pip install 'ravine[explore]'"
        ) from None
    paths = [_checked(s) for s in stores] if stores else find_stores(".")
    try:
        serve(
            host=host,
            port=port,
            open_browser=not no_browser,
            echo=click.echo,
            stores=paths,
            study_page=bool(stores),
        )
    except ServeError as err:
        raise click.ClickException(str(err)) from None


def _checked(path: str) -> Path:
    """``path`` if it is a ravine store (opened read-only), else the store's own error."""
    from ..study.readonly import ReadOnlyStore
    from ..study.storefile import StoreError

    try:
        with ReadOnlyStore(path):
            return Path(path)
    except StoreError as err:
        raise click.ClickException(str(err)) from None
