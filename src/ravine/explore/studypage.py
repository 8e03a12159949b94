"""The study page's routes: a study watched live from its store (read-only).

Routes::

    GET /study                               the study page
    GET /api/studies                         the stores offered (given, or found at start)
    GET /api/studies/{id}?since=VERSION      one study (see ravine.explore.studies)
    GET /api/studies/{id}/trials/{trial}     one trial's rows and curves

A store is named by its position in the list the server started with, never by a path. A
file that is not (or is no longer) a ravine store is answered 422 with the same paragraph
the command line prints; an unknown study or trial is 404.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from .requests import RequestError
from .studies import opened, study_json, study_list, trial_json

__all__ = ["study_routes"]


def study_routes() -> list[Route]:
    return [
        Route("/study", page),
        Route("/api/studies", studies),
        Route("/api/studies/{sid}", study),
        Route("/api/studies/{sid}/trials/{tid}", trial),
    ]


def _stores(request: Request) -> list[Path]:
    return request.app.state.shared.stores


def _number(text: str, what: str) -> int:
    if not text.isdigit() or len(text) > 9:
        raise HTTPException(404, f"no {what} {text[:40]!r}")
    return int(text)


def _path(request: Request) -> Path:
    stores, sid = _stores(request), _number(request.path_params["sid"], "study")
    if sid >= len(stores):
        raise HTTPException(404, f"no study {sid} (the server has {len(stores)})")
    return stores[sid]


def _read(path: Path, look: Any) -> Any:
    """``look(store)`` on the store at ``path`` opened read-only; a non-store: JSON 422."""
    from ..study.storefile import StoreError

    try:
        with opened(path) as store:
            return look(store)
    except StoreError as err:
        raise RequestError(str(err), "study", status=422) from None


async def page(request: Request) -> Response:
    from .app import POLICY

    path, media = request.app.state.shared.files["study.html"]
    return FileResponse(path, media_type=media, headers={"Content-Security-Policy": POLICY})


async def studies(request: Request) -> Response:
    listed = await anyio.to_thread.run_sync(study_list, _stores(request))
    return JSONResponse({"studies": listed})


async def study(request: Request) -> Response:
    path, since = _path(request), request.query_params.get("since")
    body = await anyio.to_thread.run_sync(_read, path, lambda s: study_json(s, since))
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


async def trial(request: Request) -> Response:
    path, tid = _path(request), _number(request.path_params["tid"], "trial")
    body = await anyio.to_thread.run_sync(_read, path, lambda s: trial_json(s, tid))
    if body is None:
        raise HTTPException(404, f"no trial {tid} in this study")
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
