"""``ravine race``: race optimizers on a landscape and write a figure, animation or page."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..progress import Progress
from .output import print_table

__all__ = ["DEFAULT_OPTIMIZERS", "parse_lr_grid", "parse_point", "race_command"]

#: The optimizers raced when none is named: one of each first-order idea. Each landscape
#: suggests a learning rate for their families (``Landscape.lrs``).
DEFAULT_OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adam")
#: The steps of a race when none is given.
DEFAULT_STEPS = 200

SUFFIXES = (".png", ".svg", ".pdf", ".gif", ".mp4", ".html")
FIGURES = ("auto", "contour", "surface", "coordinates", "loss", "sensitivity")


def parse_lr_grid(text: str) -> list[float]:
    """``LOW:HIGH:N`` -> N log-spaced learning rates from LOW to HIGH (both included)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise click.BadParameter(
            f"{text!r} is not LOW:HIGH:N (e.g. 1e-4:1:32)", param_hint="'--lr-grid'"
        )
    try:
        low, high, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: LOW and HIGH must be numbers and N an integer (e.g. 1e-4:1:32)",
            param_hint="'--lr-grid'",
        ) from None
    if not (0 < low < high < math.inf) or n < 2:
        raise click.BadParameter(
            f"{text!r}: need 0 < LOW < HIGH and N >= 2", param_hint="'--lr-grid'"
        )
    from ..race.plan import log_grid  # torch: only once the option is given

    return log_grid(low, high, n)


def parse_point(text: str, dim: int, hint: str = "'--start'") -> list[float]:
    """``x,y[,...]`` -> a list of ``dim`` finite numbers."""
    try:
        point = [float(v) for v in text.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not comma-separated numbers", param_hint=hint
        ) from None
    if len(point) != dim or not all(math.isfinite(v) for v in point):
        raise click.BadParameter(
            f"{text!r}: the landscape has dim={dim}; give {dim} finite numbers", param_hint=hint
        )
    return point


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in {"true", "false"}:
        return low == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _check_output(out: str, figure: str, loss_panel: bool = False) -> Path:
    """The ``--out`` path, checked writable and fit for ``--figure`` and ``--loss-panel``."""
    path = Path(out)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise click.BadParameter(
            f"{out!r}: the output must end in one of {', '.join(SUFFIXES)}", param_hint="'--out'"
        )
    if suffix in {".gif", ".mp4"} and figure not in {"auto", "contour"}:
        raise click.BadParameter(
            f"--figure {figure} is a still figure; write it to .png, .svg or .pdf",
            param_hint="'--figure'",
        )
    if loss_panel and suffix not in {".gif", ".mp4"}:
        raise click.BadParameter(
            "--loss-panel is for animations; write a .gif or .mp4", param_hint="'--loss-panel'"
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise click.BadParameter(
            f"{out!r}: directory {str(parent)!r} does not exist", param_hint="'--out'"
        )
    if path.is_dir():
        raise click.BadParameter(f"{out!r} is a directory", param_hint="'--out'")
    existed = path.exists()
    try:
        with open(path, "ab"):
            pass
    except OSError as err:
        raise click.BadParameter(
            f"{out!r} is not writable: {err.strerror}", param_hint="'--out'"
        ) from None
    if not existed:
        path.unlink()
    return path


def _check_drawable(path: Path, figure: str, land: Any) -> None:
    """Refuse an animation of a landscape that is not 2-D, an MP4 without ffmpeg, and a
    contour or surface of a 1-D landscape."""
    suffix = path.suffix.lower()
    if suffix in {".gif", ".mp4"} and land.dim != 2:
        raise click.BadParameter(
            f"an animation needs a 2-D landscape; {land.name} has dim={land.dim}",
            param_hint="'--out'",
        )
    if suffix == ".mp4":
        from ..plot import bundled_ffmpeg

        try:
            bundled_ffmpeg()
        except RuntimeError as err:
            raise click.ClickException(str(err)) from None
    if figure in {"contour", "surface"} and land.dim < 2:
        raise click.BadParameter(f"{figure} needs dim >= 2", param_hint="'--figure'")


@click.command("race")
@click.argument("landscape")
@click.option(
    "--optimizers",
    "-o",
    default=",".join(DEFAULT_OPTIMIZERS),
    show_default=True,
    help="Comma-separated optimizer names (see `ravine list`).",
)
@click.option(
    "--lr",
    default=None,
    metavar="LR|NAME=LR,...",
    help="Learning rate: one for every optimizer (--lr 0.01) or per optimizer "
    "(--lr adam=0.01,sgd=0.001; a bare number sets the others) [default: the landscape's "
    "suggestion for each optimizer's family, see `ravine list landscapes`].",
)
@click.option(
    "--lr-grid",
    default=None,
    metavar="LOW:HIGH:N",
    help="N log-spaced learning rates from LOW to HIGH, e.g. 1e-4:1:32.",
)
@click.option(
    "--start",
    "starts",
    multiple=True,
    metavar="X,Y",
    help="Start point (repeatable) [default: the landscape's].",
)
@click.option(
    "--steps", type=click.IntRange(1, 10_000_000), default=DEFAULT_STEPS, show_default=True
)
@click.option(
    "--noise",
    type=click.FloatRange(0, min_open=False),
    default=None,
    help="Gradient noise scale (moons: the data noise).",
)
@click.option(
    "--seeds",
    type=click.IntRange(1, 100_000),
    default=1,
    show_default=True,
    help="Number of noise seeds (stochastic landscapes).",
)
@click.option(
    "--option",
    "-O",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="Landscape option, e.g. -O condition=50 (see `ravine list landscapes`).",
)
@click.option(
    "--figure",
    type=click.Choice(FIGURES),
    default="auto",
    show_default=True,
    help="Still figure to draw (auto: contour for one lr, sensitivity for a grid).",
)
@click.option(
    "--frames",
    type=click.IntRange(2, 2000),
    default=60,
    show_default=True,
    help="Frames of an animation.",
)
@click.option(
    "--lr-schedule",
    default=None,
    metavar="SPEC",
    help="Learning-rate schedule, e.g. cosine:1000 (see `ravine list schedules`).",
)
@click.option(
    "--momentum-schedule",
    default=None,
    metavar="SPEC",
    help="Momentum schedule for the optimizers that have one, e.g. linear:0.5:0.99:200.",
)
@click.option(
    "--schedule",
    "schedule_items",
    multiple=True,
    metavar="HP=SPEC",
    help="Schedule for any hyperparameter, e.g. --schedule betas[0]=linear:0.5:0.9:100.",
)
@click.option(
    "--hp",
    "hp_items",
    multiple=True,
    metavar="NAME.HP=VALUE",
    help="A hyperparameter of one optimizer (repeatable): --hp momentum.momentum=0.95, "
    "--hp adam.betas=0.8,0.99, --hp nesterov.nesterov=true (see `ravine list optimizers`).",
)
@click.option(
    "--loss-panel", is_flag=True, help="Animations: a loss-against-step panel under the contours."
)
@click.option("--float32", is_flag=True, help="Race in float32 (faster, less exact).")
@click.option(
    "--out",
    required=True,
    metavar="PATH",
    help="Output: .png .svg .pdf (figure), .gif .mp4 (animation), .html (page).",
)
def race_command(
    landscape: str,
    optimizers: str,
    lr: str | None,
    lr_grid: str | None,
    starts: tuple[str, ...],
    steps: int,
    noise: float | None,
    seeds: int,
    options: tuple[str, ...],
    figure: str,
    frames: int,
    lr_schedule: str | None,
    momentum_schedule: str | None,
    schedule_items: tuple[str, ...],
    hp_items: tuple[str, ...],
    loss_panel: bool,
    float32: bool,
    out: str,
) -> None:
    """Race optimizers on LANDSCAPE (see `ravine list landscapes`) and draw the race.

    \b
    ravine race beale --optimizers sgd,momentum,adam --lr 1e-3 --out beale.gif
    ravine race rosenbrock --lr-grid 1e-5:1e-1:32 --steps 500 --out sensitivity.png
    ravine race rosenbrock --lr adam=0.05,sgd=0.001 --hp momentum.momentum=0.95 --out r.png
    """
    import torch

    from .. import race as races
    from ..plot import write_race

    # -- everything is checked before any work starts ---------------------------------
    names = _names(optimizers)
    lrs, per_optimizer = _lrs(lr, lr_grid, names)
    specs = _hyperparameters(hp_items, names)
    for name, value in per_optimizer.items():
        specs[name]["lr"] = value
    land = _landscape(landscape, noise, options)
    points = [parse_point(s, land.dim) for s in starts] or None
    seed_list = list(range(seeds)) if land.stochastic else [0]
    dtype = torch.float32 if float32 else torch.float64
    with _refusals():
        plan = races.RacePlan.build(
            land, specs, lrs=lrs, starts=points, steps=steps, seeds=seed_list, dtype=dtype
        )
    for hp, spec, flag in _schedule_flags(lr_schedule, momentum_schedule, schedule_items):
        with _refusals(flag):
            plan = plan.scheduled(hp, spec)
    path = _check_output(out, figure, loss_panel)
    _check_drawable(path, figure, land)

    # -- the race ------------------------------------------------------------------------
    result = run_with_progress(plan, f"racing on {land.name}")
    write_race(result, path, figure=figure, frames=frames, loss_panel=loss_panel)
    print_table(result.summary())
    click.echo(f"wrote {os.fspath(path)}")


def run_with_progress(plan: Any, description: str, **display: Any) -> Any:
    """Run the race ``plan`` under a progress bar (``display``: :class:`Progress` options,
    such as a fake clock in tests) whose ETA is right early on: work is counted in cost
    units (:func:`ravine.race.runner.work_cost`: a batched step advances every trajectory
    at once) and the first step, which pays for warm-up, is not measured."""
    from .. import race as races
    from ..race.runner import costed, work_cost

    total = work_cost(plan)
    with Progress(total=total, description=description, unit="steps", warmup=1, **display) as bar:
        if not bar.terminal:
            bar.line(f"{description}: {plan.work} trajectory-steps")
        return races.run(plan, progress=costed(plan, bar.update))


#: The flag that sets each argument of a race plan, for its refusals.
_HINTS = {
    "landscape": "LANDSCAPE",
    "optimizers": "'--optimizers'",
    "lrs": "'--lr'",
    "starts": "'--start'",
    "steps": "'--steps'",
    "seeds": "'--seeds'",
}


@contextmanager
def _refusals(flag: str | None = None) -> Iterator[None]:
    """A race plan's refusal as a usage error pointing at ``flag`` (default: the flag that
    sets the refused argument)."""
    from ..race import PlanError

    try:
        yield
    except PlanError as err:
        hint = f"'{flag}'" if flag else _HINTS.get(err.argument)
        if flag is None and err.key is not None:  # one optimizer's hyperparameter: its flag
            hint = "'--lr'" if err.key == "lr" else "'--hp'"
        raise click.BadParameter(str(err), param_hint=hint) from None


def _names(optimizers: str) -> list[str]:
    names = [n.strip() for n in optimizers.split(",") if n.strip()]
    if not names:
        raise click.BadParameter("give at least one optimizer", param_hint="'--optimizers'")
    if len(set(names)) != len(names):
        raise click.BadParameter(
            f"{optimizers!r} names an optimizer twice", param_hint="'--optimizers'"
        )
    return names


def _lrs(
    lr: str | None, lr_grid: str | None, names: list[str]
) -> tuple[float | list[float] | None, dict[str, float]]:
    """The learning rate(s) for every optimizer (one, a grid, or None: the landscape's
    suggestions) and the per-optimizer ones of ``--lr NAME=LR,...``."""
    if lr is not None and lr_grid is not None:
        raise click.UsageError("give --lr or --lr-grid, not both")
    if lr_grid is not None:
        return parse_lr_grid(lr_grid), {}
    if lr is None:
        return None, {}
    every, each = None, {}
    for item in (p.strip() for p in lr.split(",")):
        name, sep, text = item.rpartition("=") if "=" in item else ("", "", item)
        name = name.strip()
        if sep and name not in names:
            raise click.BadParameter(
                f"{name!r} is not raced; racing: {', '.join(names)}", param_hint="'--lr'"
            )
        value = _number(text, "'--lr'")
        if not (value >= 0 and math.isfinite(value)):
            raise click.BadParameter(
                f"{item!r}: a learning rate is a finite number >= 0", param_hint="'--lr'"
            )
        if not sep and every is not None:
            raise click.BadParameter(f"{lr!r} gives two bare numbers", param_hint="'--lr'")
        if sep:
            each[name] = value
        else:
            every = value
    return every, each


def _number(text: str, hint: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise click.BadParameter(
            f"{text.strip()!r} is not a number (e.g. 0.01, or adam=0.01,sgd=0.001)",
            param_hint=hint,
        ) from None


def _hyperparameters(items: tuple[str, ...], names: list[str]) -> dict[str, dict[str, Any]]:
    """``label -> {hyperparameter: value}`` from ``--hp NAME.HP=VALUE`` (a comma-separated
    VALUE is a tuple, such as betas); names and values are checked by the race plan."""
    specs: dict[str, dict[str, Any]] = {name: {} for name in names}
    for item in items:
        target, sep, text = item.partition("=")
        name, dot, key = target.strip().partition(".")
        if not sep or not dot or not name or not key.strip() or not text.strip():
            raise click.BadParameter(
                f"{item!r} is not NAME.HP=VALUE (e.g. momentum.momentum=0.95)",
                param_hint="'--hp'",
            )
        if name not in specs:
            raise click.BadParameter(
                f"{item!r}: {name!r} is not raced; racing: {', '.join(names)}",
                param_hint="'--hp'",
            )
        parts = [_parse_value(v.strip()) for v in text.split(",")]
        specs[name][key.strip()] = tuple(parts) if len(parts) > 1 else parts[0]
    return specs


def _landscape(name: str, noise: float | None, options: tuple[str, ...]) -> Any:
    from .. import landscapes

    opts = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="'--option'")
        opts[key.strip()] = _parse_value(value)
    try:
        return landscapes.get(name, noise=noise, **opts)
    except (ValueError, TypeError) as err:
        raise click.BadParameter(str(err), param_hint="LANDSCAPE") from None


def _schedule_flags(
    lr_schedule: str | None, momentum_schedule: str | None, items: tuple[str, ...]
) -> list[tuple[str, str, str]]:
    """``(hyperparameter, schedule string, flag)`` of every schedule flag, in the order they
    apply: a later one replaces an earlier schedule of the same hyperparameter."""
    wanted = []
    if lr_schedule is not None:
        wanted.append(("lr", lr_schedule, "--lr-schedule"))
    if momentum_schedule is not None:
        wanted.append(("momentum", momentum_schedule, "--momentum-schedule"))
    for item in items:
        hp, sep, spec = item.partition("=")
        if not sep or not hp.strip() or not spec.strip():
            raise click.BadParameter(f"{item!r} is not HP=SPEC", param_hint="'--schedule'")
        wanted.append((hp.strip(), spec.strip(), "--schedule"))
    return wanted
