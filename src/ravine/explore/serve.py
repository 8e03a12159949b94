"""Start the explorer: uvicorn serving :func:`~ravine.explore.app.create_app` on one host
and port, the page's address printed and (optionally) opened in the browser."""

from __future__ import annotations

import errno
import socket
import threading
import webbrowser
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["ServeError", "listen", "serve", "url"]


class ServeError(Exception):
    """The server cannot start (its port is taken): one line for the user, no traceback."""


def url(host: str, port: int) -> str:
    """The page's address; IPv6 hosts in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def free_port(host: str) -> int:
    """A port the system says is free on ``host`` (for ``--port 0``)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: a free port), handed to uvicorn; ServeError,
    naming the port and ``--port``, when it cannot be bound."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            why = f"port {port} on {host} is already in use"
        else:
            why = f"cannot listen on {host} port {port}: {err.strerror or err}"
        raise ServeError(f"{why}; choose another with --port (--port 0 picks a free one)") from None
    return sock


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    echo: Callable[[str], None] = print,
    stores: Sequence[str | Path] = (),
    study_page: bool = False,
) -> None:
    """Serve the explorer until interrupted; ``port`` 0 picks a free one. ``stores``: the
    study stores its study page offers; ``study_page``: open (and print) that page.
    Raises :class:`ServeError` when the port cannot be bound (before anything starts)."""
    sock = listen(host, port)
    port = int(sock.getsockname()[1])
    import uvicorn

    from .app import create_app

    address = url(host, port) + ("study" if study_page else "")
    echo(f"ravine explorer: {address}  (Ctrl-C stops it)")
    if stores and not study_page:
        echo(f"studies: {url(host, port)}study ({len(stores)} found)")
    app = create_app(stores, warm=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(address,)).start()
    with sock:
        server.run(sockets=[sock])
