"""The explorer's web application (Starlette): the page, its assets, and the JSON API.

Routes::

    GET  /                             the race page
    GET  /assets/{name}                the page's own scripts and styles (a fixed list)
    GET  /api/landscapes               the landscapes the page can draw
    GET  /api/landscapes/{name}        one landscape: box, minima, saddles, contour grid
                                       (query: its options, e.g. ?batch_size=8)
    GET  /api/optimizers/{landscape}   the optimizers that race there, with their controls
    POST /api/race                     a race (JSON body, see ravine.explore.requests),
                                       streamed as JSON lines: a header, chunks of every
                                       optimizer's new steps as they come, each one's
                                       outcomes, ``done``; ?stream=0: one JSON object
    POST /api/download/{png|gif|mp4}   the same race drawn by ``ravine race``'s code
    GET  /study, /api/studies/...      the study page (ravine.explore.studypage)

Every refusal is a JSON object ``{"error": ..., "field": ...}`` with a 4xx status; an
unexpected failure is a JSON 500 naming the exception, never a traceback. A page sends an
``X-Ravine-Client`` header with its races: a newer race from the same page cancels the
older one at its next step, and a race whose page went away stops too, so that dragging a
start never queues stale races. Races advance one chunk at a time in a worker thread (the
races of two pages interleave by chunks). With ``warm=True`` the application races once in
the background as it starts, so that the first race a page asks for does not pay the
imports and first calls (seconds).
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from .downloads import FORMATS, render
from .racing import Tickets, header, messages, run_json
from .requests import LIMITS, RequestError, build_plan

__all__ = ["MAX_BODY", "assets", "create_app"]

#: The largest request body accepted, in bytes.
MAX_BODY = 64 * 1024

#: Served with the page: nothing may be fetched from anywhere but this server.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'"
)


#: The package's own static files the server serves, by name (nothing else is read).
_OWN = (
    "index.html", "page.js", "explore-race.js", "explore-draw.js", "explore.js", "explore.css",
    "study.html", "study.js",
)  # fmt: skip
_MEDIA = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def assets() -> dict[str, tuple[Path, str]]:
    """Every file the server serves: name -> (path, media type). Nothing else is read."""
    import plotly

    here = Path(str(resources.files(__package__))) / "static"
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    files = {name: (here / name, _MEDIA[Path(name).suffix]) for name in _OWN}
    return {**files, "plotly.min.js": (plotly_js, _MEDIA[".js"])}


@dataclass
class Shared:
    """What every request of one application shares: the assets, the study stores offered,
    the pages' race tickets, and the limiter that runs races one at a time."""

    files: dict[str, tuple[Path, str]]
    stores: list[Path] = field(default_factory=list)
    tickets: Tickets = field(default_factory=Tickets)
    limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(1))


def create_app(stores: Sequence[str | Path] = (), warm: bool = False) -> Starlette:
    """The explorer application (serve it with uvicorn: :func:`ravine.explore.serve`);
    ``stores``: the study stores its study page offers (read-only); ``warm``: race once in
    a background thread when the server starts (``app.state.warmed`` is set when done)."""
    from .studypage import study_routes

    routes = [
        Route("/", page),
        Route("/assets/{name}", asset),
        Route("/api/landscapes", landscape_list),
        Route("/api/landscapes/{name}", landscape),
        Route("/api/optimizers/{name}", optimizers),
        Route("/api/race", race, methods=["POST"]),
        Route("/api/download/{fmt}", download, methods=["POST"]),
        *study_routes(),
    ]
    handlers = {RequestError: _refused, HTTPException: _http_error, Exception: _crashed}
    app = Starlette(
        routes=routes,
        exception_handlers=handlers,  # type: ignore[arg-type]
        lifespan=_warming if warm else None,
    )
    app.state.shared = Shared(assets(), [Path(s) for s in stores])
    app.state.warmed = threading.Event()
    return app


@contextlib.asynccontextmanager
async def _warming(app: Starlette) -> AsyncIterator[None]:
    """At start, one small race in a daemon thread: the race engine's imports and first
    calls are paid before a page asks (the server answers meanwhile)."""
    threading.Thread(target=warm_up, args=(app.state.warmed,), daemon=True).start()
    yield


def warm_up(done: threading.Event) -> None:
    """What a page asks for first, once: the default landscape and its optimizers (the
    registry's first walk), then a race (four optimizers, three starts, a few chunks)
    streamed and written as JSON like a request's; ``done`` is set after it."""
    from .catalog import landscape_detail, optimizer_list
    from .requests import build_landscape

    try:
        land = build_landscape({"landscape": "rosenbrock"})
        landscape_detail(land)
        optimizer_list(land)
        body = {
            "landscape": "rosenbrock",
            "steps": 60,
            "starts": [[-1.5, 2.0], [0.5, -0.5], [1.5, 1.5]],
            "optimizers": [{"name": n} for n in ("sgd", "momentum", "adam", "rmsprop")],
        }
        for item in messages(build_plan(body), every=20):
            _line(item)
    finally:
        done.set()


def _shared(request: Request) -> Shared:
    return request.app.state.shared


async def page(request: Request) -> Response:
    path, media = _shared(request).files["index.html"]
    return FileResponse(path, media_type=media, headers={"Content-Security-Policy": POLICY})


async def asset(request: Request) -> Response:
    name, files = request.path_params["name"], _shared(request).files
    if name not in files or name.endswith(".html"):
        raise HTTPException(404, f"no asset {name!r}")
    path, media = files[name]
    return FileResponse(path, media_type=media, headers={"Cache-Control": "max-age=3600"})


async def landscape_list(request: Request) -> Response:
    from .catalog import landscape_list as listed

    return JSONResponse({"landscapes": listed(), "limits": LIMITS})


async def landscape(request: Request) -> Response:
    from .catalog import landscape_detail

    land = _landscape(request)
    return JSONResponse(await anyio.to_thread.run_sync(landscape_detail, land))


async def optimizers(request: Request) -> Response:
    from .catalog import optimizer_list

    land = _landscape(request)
    return JSONResponse({"optimizers": await anyio.to_thread.run_sync(optimizer_list, land)})


async def race(request: Request) -> Response:
    shared = _shared(request)
    plan = build_plan(await _body(request))
    client = request.headers.get("x-ravine-client", "")[:64] or str(id(request))
    ticket = shared.tickets.take(client)
    if request.query_params.get("stream") == "0":
        try:
            result = await anyio.to_thread.run_sync(run_json, plan, limiter=shared.limiter)
        finally:
            ticket.cancel()
        return JSONResponse(result)

    async def lines() -> AsyncIterator[bytes]:
        stream = messages(plan, ticket)
        try:
            yield _line(header(plan))
            while not ticket.cancelled:
                item = await anyio.to_thread.run_sync(next, stream, None, limiter=shared.limiter)
                if item is None:
                    break
                yield _line(item)
            yield _line({"type": "done" if not ticket.cancelled else "cancelled"})
        except Exception as err:  # after the header is sent, a failure is one more line
            yield _line({"type": "error", "error": _failure(err)})
        finally:  # also when the page went away: the race stops here, at a chunk's end
            ticket.cancel()
            stream.close()

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def download(request: Request) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in FORMATS:
        raise RequestError(f"format must be one of {', '.join(FORMATS)}", "format")
    frames = _integer(request.query_params.get("frames", "60"), "frames")
    plan = build_plan(await _body(request))
    limiter = _shared(request).limiter
    data = await anyio.to_thread.run_sync(render, plan, fmt, frames, limiter=limiter)
    name = f"ravine-{plan.landscape.name}.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type=FORMATS[fmt], headers=disposition)


def _landscape(request: Request) -> Any:
    """The landscape of a GET: its name in the path, its options in the query."""
    from .requests import build_landscape

    options = {k: _option(v, k) for k, v in request.query_params.items() if k != "noise"}
    noise = _option(request.query_params.get("noise", "0"), "noise")
    return build_landscape(
        {"landscape": request.path_params["name"], "options": options, "noise": noise}
    )


async def _body(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise RequestError(f"the request body is over {MAX_BODY} bytes", status=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        raise RequestError(f"the request body is over {MAX_BODY} bytes", status=413)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("the request body is not JSON") from None


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def _option(text: str, key: str) -> int | float:
    try:
        value = float(text)
    except ValueError:
        raise RequestError(f"{key} must be a number, got {text[:40]!r}", key) from None
    if not math.isfinite(value):
        raise RequestError(f"{key} must be finite", key)
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def _integer(text: str, key: str) -> int:
    if not text.isdigit() or len(text) > 6:
        raise RequestError(f"{key} must be a whole number", key)
    return int(text)


def _failure(err: BaseException) -> str:
    return f"the race failed: {type(err).__name__}: {err}"[:500]


async def _refused(request: Request, err: Exception) -> Response:
    assert isinstance(err, RequestError)
    return JSONResponse(err.json(), status_code=err.status)


async def _http_error(request: Request, err: Exception) -> Response:
    assert isinstance(err, HTTPException)
    return JSONResponse({"error": err.detail, "field": None}, status_code=err.status_code)


async def _crashed(request: Request, err: Exception) -> Response:
    return JSONResponse({"error": _failure(err), "field": None}, status_code=500)
