"""``ravine explore``: race optimizers interactively in the browser."""

from __future__ import annotations

import click

__all__ = ["explore_command"]


@click.command("explore")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option("--no-browser", is_flag=True, help="Print the address; do not open a browser.")
def explore_command(host: str, port: int, no_browser: bool) -> None:
    """Start the explorer: a local page where optimizers race as you click and drag.

    \b
    ravine explore                 # opens http://127.0.0.1:8765/
    ravine explore --no-browser --port 9000
    """
    try:
        from ..explore.serve import serve
    except ImportError as err:  # the web extra is missing
        raise click.ClickException(
            f"the explorer needs {err.name}: pip install 'ravine[explore]'"
        ) from None
    serve(host=host, port=port, open_browser=not no_browser, echo=click.echo)
