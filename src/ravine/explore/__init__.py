"""The explorer: race optimizers interactively in the browser (``ravine explore``).

A local web application: the page asks, the server answers with :func:`ravine.race`, and no
optimizer is written again in JavaScript. Every script and style the page uses ships with
the package (plotly.js from the ``plotly`` package), so it works offline.

* :mod:`~ravine.explore.app`: the Starlette application, its routes and error answers;
* :mod:`~ravine.explore.requests`: a race request checked and turned into a race plan;
* :mod:`~ravine.explore.racing`: the plan streamed in chunks of steps, as JSON, cancellable;
* :mod:`~ravine.explore.catalog`: landscapes and optimizers offered to the page;
* :mod:`~ravine.explore.controls`: hyperparameter controls generated from the registry;
* :mod:`~ravine.explore.downloads`: the race as PNG, GIF or MP4 (``ravine race``'s code);
* :mod:`~ravine.explore.studypage`: the study page's routes (a study watched live);
* :mod:`~ravine.explore.studies`: a study read from its store (read-only) as JSON;
* :mod:`~ravine.explore.serve`: the server started by the command.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def __getattr__(name: str):  # the web framework loads on first use, not with ravine
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "serve":
        from .serve import serve

        return serve
    raise AttributeError(name)
