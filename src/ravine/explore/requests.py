"""A race request from the page, checked and turned into a race plan.

The body is JSON::

    {"landscape": "rosenbrock", "options": {"batch_size": 16}, "noise": 0, "seed": 0,
     "starts": [[-1.5, 2.0]], "steps": 300,
     "optimizers": [{"name": "adam", "label": "adam", "hyperparameters": {"lr": 0.05},
                     "schedules": {"lr": "cosine:300"},
                     "lr_grid": {"low": 1e-4, "high": 1, "n": 8}}]}

Only ``landscape`` and ``optimizers`` (each with ``name``) are required. ``lr_grid`` makes
a learning-rate fan: that optimizer over ``n`` log-spaced learning rates. Everything is
checked before any work: the shapes and bounds here (steps, starts, grid sizes, the work of
the whole race), names and hyperparameter values by :meth:`ravine.race.RacePlan.build`
through the registry's constraints. A refusal is a :class:`RequestError`, which the server
answers with a 4xx status and a JSON body, never a traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .. import landscapes
from ..optim.constraints import Integer, Scalar
from ..optim.registry import resolve
from ..race import PlanError, RacePlan
from ..race.plan import log_grid
from .controls import INTEGER_CAP

__all__ = ["LIMITS", "RequestError", "build_landscape", "build_plan", "lr_grid"]

#: The bounds of one request: the server never takes on more work than these allow.
LIMITS = {
    "steps": 2000,
    "starts": 8,
    "optimizers": 12,
    "lr_grid": 32,
    "text": 200,  # characters of a name, schedule or option
    # trajectory-steps of the whole race (batched optimizers advance all at once)
    "work": 400_000,
    # steps of the optimizers that run one trajectory at a time (Newton, BFGS, ...)
    "serial_work": 20_000,
    "noise": 100.0,
    "option": 10_000,  # magnitude of a landscape option (moons' n_samples, batch_size)
}


class RequestError(ValueError):
    """A request refused: ``status`` the HTTP status, ``field`` the part at fault."""

    def __init__(self, message: str, field: str | None = None, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.status = status

    def json(self) -> dict[str, Any]:
        return {"error": str(self), "field": self.field}


@dataclass(frozen=True)
class Checked:
    """Small typed getters over a JSON object, each refusal naming its field."""

    body: dict[str, Any]

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
        value = self.body.get(key, default)
        if value is default:
            return value
        if isinstance(value, bool) and bool not in _tuple(kind):
            raise RequestError(f"{key} must not be true or false", key)
        if not isinstance(value, kind):
            raise RequestError(f"{key} has the wrong type ({type(value).__name__})", key)
        return value


def build_plan(body: Any) -> RacePlan:
    """The race plan of request ``body`` (a decoded JSON value); RequestError if refused."""
    if not isinstance(body, dict):
        raise RequestError("the request body must be a JSON object")
    req = Checked(body)
    land = _landscape(req)
    steps = req.get("steps", int, 200)
    if not 1 <= steps <= LIMITS["steps"]:
        raise RequestError(f"steps must be from 1 to {LIMITS['steps']}, got {steps}", "steps")
    seed = req.get("seed", int, 0)
    if not 0 <= seed < 2**31:
        raise RequestError("seed must be from 0 to 2^31 - 1", "seed")
    starts = _starts(req.get("starts", list, None))
    specs, schedules = _optimizers(req.get("optimizers", list, None))
    try:
        plan = RacePlan.build(
            land, specs, starts=starts, steps=steps, seeds=[seed], schedules=schedules
        )
    except PlanError as err:
        field = err.argument if err.key is None else f"{err.argument}.{err.key}"
        raise RequestError(str(err), field) from None
    except (TypeError, ValueError) as err:
        raise RequestError(str(err), "optimizers") from None
    _check_work(plan)
    return plan


def build_landscape(body: dict[str, Any]) -> Any:
    """The landscape of ``{"landscape", "options", "noise"}``; RequestError if refused."""
    return _landscape(Checked(body))


def lr_grid(spec: Any) -> list[float]:
    """``{"low", "high", "n"}`` -> ``n`` log-spaced learning rates from low to high."""
    if not isinstance(spec, dict):
        raise RequestError("lr_grid must be an object {low, high, n}", "lr_grid")
    grid = Checked(spec)
    low, high = grid.get("low", (int, float)), grid.get("high", (int, float))
    n = grid.get("n", int)
    if low is None or high is None or n is None:
        raise RequestError("lr_grid needs low, high and n", "lr_grid")
    if not (0 < low < high < math.inf) or not 2 <= n <= LIMITS["lr_grid"]:
        raise RequestError(
            f"lr_grid: need 0 < low < high and n from 2 to {LIMITS['lr_grid']}", "lr_grid"
        )
    return log_grid(low, high, n)


def _landscape(req: Checked) -> Any:
    name = req.get("landscape", str)
    if name is None:
        raise RequestError("give a landscape", "landscape")
    _text(name, "landscape")
    options = req.get("options", dict, {})
    for key, value in options.items():
        _text(key, "options")
        if key == "dim":
            raise RequestError("the explorer draws 2-D landscapes; dim cannot be set", "options")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RequestError(f"option {key} must be a number", "options")
        if not (math.isfinite(value) and abs(value) <= LIMITS["option"]):
            raise RequestError(f"option {key} must be at most {LIMITS['option']}", "options")
    noise = req.get("noise", (int, float), 0)
    if not 0 <= noise <= LIMITS["noise"]:
        raise RequestError(f"noise must be from 0 to {LIMITS['noise']:g}", "noise")
    try:
        land = landscapes.get(name, noise=noise or None, **options)
    except (TypeError, ValueError) as err:
        field = "landscape" if name not in landscapes.names() else "options"
        raise RequestError(str(err), field) from None
    if land.dim != 2:
        raise RequestError(f"{land.name} has dim={land.dim}; the explorer draws 2-D", "landscape")
    return land


def _starts(starts: list[Any] | None) -> list[list[float]] | None:
    if starts is None:
        return None
    if not 1 <= len(starts) <= LIMITS["starts"]:
        raise RequestError(f"give from 1 to {LIMITS['starts']} starts", "starts")
    for point in starts:
        if not (
            isinstance(point, list)
            and len(point) == 2
            and all(_number(c) and math.isfinite(c) for c in point)
        ):
            raise RequestError("each start must be [x, y], two finite numbers", "starts")
    return starts


def _optimizers(items: list[Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``label -> spec`` for the race plan, and ``label -> {hyperparameter: schedule}``."""
    if not items:
        raise RequestError("tick at least one optimizer", "optimizers")
    if len(items) > LIMITS["optimizers"]:
        raise RequestError(f"race at most {LIMITS['optimizers']} optimizers", "optimizers")
    specs: dict[str, Any] = {}
    schedules: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, dict):
            raise RequestError("each optimizer must be an object {name, ...}", "optimizers")
        entry = Checked(item)
        name = entry.get("name", str)
        if name is None:
            raise RequestError("each optimizer needs a name", "optimizers")
        label = entry.get("label", str, name)
        _text(name, "optimizers")
        _text(label, "optimizers")
        if label in specs:
            raise RequestError(f"optimizer label {label!r} is given twice", "optimizers")
        spec = {"optimizer": name, **_hyperparameters(name, entry.get("hyperparameters", dict, {}))}
        if "lr_grid" in item:
            spec["lr"] = lr_grid(item["lr_grid"])
        specs[label] = spec
        wanted = entry.get("schedules", dict, {})
        for key, text in wanted.items():
            _text(key, "schedules")
            if not isinstance(text, str):
                raise RequestError(f"schedule of {key} must be a string", "schedules")
            _text(text, "schedules")
        if wanted:
            schedules[label] = wanted
    return specs, schedules


def _hyperparameters(name: str, given: dict[str, Any]) -> dict[str, Any]:
    """JSON values as the registry's checks take them: lists of numbers as tuples (betas),
    whole numbers within :data:`INTEGER_CAP` where the constraint asks for an integer."""
    try:
        info = resolve(name)
    except ValueError as err:
        raise RequestError(str(err), "optimizers") from None
    out = {}
    for key, value in given.items():
        _text(key, "hyperparameters")
        if isinstance(value, list):
            if not 1 <= len(value) <= 4 or not all(_number(v) for v in value):
                raise RequestError(f"{name}.{key}: a list must hold 1 to 4 numbers", key)
            value = tuple(value)
        elif isinstance(value, str):
            _text(value, key)
        elif value is not None and not isinstance(value, bool | int | float):
            raise RequestError(f"{name}.{key} must be a number, switch or name", key)
        constraint = info.constraint(key)
        if isinstance(constraint, Scalar):
            constraint = constraint.inner
        if isinstance(constraint, Integer) and _number(value) and value > INTEGER_CAP:
            raise RequestError(f"{name}.{key} must be at most {INTEGER_CAP} here", key)
        out[key] = value
    return out


def _check_work(plan: RacePlan) -> None:
    """Refuse (413) a race whose work exceeds :data:`LIMITS`."""
    work = serial = 0
    for entry in plan.entries:
        trajectories = math.prod(plan.grid(entry))
        work += plan.steps * trajectories
        if not entry.info.elementwise:
            serial += plan.steps * trajectories
    if work > LIMITS["work"] or serial > LIMITS["serial_work"]:
        raise RequestError(
            f"the race is too large ({work} trajectory-steps, {serial} of them one trajectory "
            f"at a time; at most {LIMITS['work']} and {LIMITS['serial_work']}): fewer steps, "
            "starts or learning rates",
            "steps",
            status=413,
        )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: str, field: str) -> None:
    if not isinstance(value, str) or len(value) > LIMITS["text"]:
        raise RequestError(f"{field}: names and texts are at most {LIMITS['text']} chars", field)


def _tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
