"""``ravine study run|status|report|export``."""

from __future__ import annotations

import math
from pathlib import Path

import click

from .output import table_lines

__all__ = ["study"]


def _load(spec_path: str | None, example_name: str | None):
    from ..study import example, load_spec
    from ..study.spec import SpecError

    if (spec_path is None) == (example_name is None):
        raise click.UsageError("give a SPEC file or --example NAME (one of them)")
    try:
        return example(example_name) if example_name else load_spec(spec_path)
    except (SpecError, ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None


def _fmt(v: object, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if math.isnan(v):
            return "-"
        if math.isinf(v):
            return "never"
        return f"{v:.{digits}g}" if abs(v) < 1e-3 or abs(v) >= 1e5 else f"{v:.{digits}f}"
    return str(v)


def _steps(v: object) -> str:
    if isinstance(v, float) and math.isfinite(v) and v.is_integer():
        return str(int(v))
    return _fmt(v)


def summary_lines(store) -> list[str]:
    """The summary table as printable lines."""
    from ..study import Results, summarize

    rows = summarize(Results.from_store(store))
    table = [
        (
            "problem",
            "optimizer",
            "best setting",
            "val metric",
            "± std",
            "steps to target",
            "diverged",
        )
    ]
    for r in rows:
        table.append(
            (
                r["problem"],
                r["optimizer"],
                (r["best"] or "(all diverged)")
                + (f" [{r['schedules']}]" if r.get("schedules") else "")
                + (f" ({', '.join(r['grid_edge'])} at grid edge)" if r.get("grid_edge") else ""),
                _fmt(r.get("val_metric_mean")),
                _fmt(r.get("val_metric_std")),
                _steps(r.get("steps_to_target"))
                + (f" (target {r['target']:g})" if r.get("target") is not None else ""),
                f"{r['diverged']}/{r['trials']}",
            )
        )
    return table_lines(table)


def _open(path: str | Path):
    """The store at ``path``; a file that is not one is a one-paragraph error, untouched."""
    from ..study import Store
    from ..study.storefile import StoreError

    try:
        return Store(path)
    except StoreError as err:
        raise click.ClickException(str(err)) from None


def _store_for(store: str | None, spec) -> Path:
    from ..study.runner import default_store_path

    return Path(store) if store else default_store_path(spec)


@click.group("study")
def study() -> None:
    """Compare optimizers on training problems: run a study, watch it, report on it."""


@study.command("run")
@click.argument("spec", required=False, type=click.Path(dir_okay=False))
@click.option("--example", "example_name", help="Run a built-in study instead (e.g. digits).")
@click.option(
    "--store", type=click.Path(dir_okay=False), help="SQLite results file [NAME.study.db]."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Local worker processes (pool executor when > 1).",
)
@click.option(
    "--executor",
    type=click.Choice(["inprocess", "pool", "ray"]),
    default=None,
    help="Where trials run [inprocess, or pool when --workers > 1].",
)
@click.option("--address", default=None, help="Ray cluster address (with --executor ray).")
@click.option(
    "--batch/--no-batch",
    default=True,
    show_default=True,
    help="Run trials that differ only in hyperparameters and seed as one batched computation "
    "(elementwise optimizers); --no-batch runs every trial alone.",
)
@click.option(
    "--report/--no-report", default=True, show_default=True, help="Write the HTML report when done."
)
@click.option("--out", type=click.Path(dir_okay=False), help="Report file [NAME.report.html].")
@click.option(
    "--retry-failed", is_flag=True, help="Run the trials that failed in an earlier run again."
)
def run(
    spec, example_name, store, workers, executor, address, batch, report, out, retry_failed
) -> None:
    """Run every unfinished trial of SPEC (a TOML file); rerun to resume after a stop."""
    from ..study import run_study

    s = _load(spec, example_name)
    kind = executor or ("pool" if workers > 1 else "inprocess")
    path = _store_for(store, s)
    try:
        run_study(
            s,
            path,
            executor=kind,
            workers=workers,
            address=address,
            batch=batch,
            retry_failed=retry_failed,
        )
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    except KeyboardInterrupt:
        raise click.ClickException(
            f"interrupted; finished trials are kept in {path}, rerun to resume"
        ) from None
    with _open(path) as db:
        click.echo("")
        for line in summary_lines(db):
            click.echo(line)
        if report:
            from ..report import write_report

            target = Path(out) if out else Path(f"{s.name}.report.html")
            write_report(db, target, progress=True)
            click.echo(f"\nreport: {target}")
    click.echo(f"store: {path}")


@study.command("status")
@click.argument("store", type=click.Path(exists=True, dir_okay=False))
def status(store) -> None:
    """Trials pending, running and finished in STORE, and the summary so far."""

    with _open(store) as db:
        spec = db.get_meta("spec") or {}
        counts = db.counts()
        total = sum(counts.values())
        click.echo(f"study {spec.get('name', '?')!r}: {total} trials")
        for k, v in counts.items():
            click.echo(f"  {k:<9} {v}")
        running = db.trials("running")
        for t in running:
            click.echo(
                f"  running: #{t['id']} {t['problem']} {t['optimizer']} "
                f"seed={t['seed']} by {t['claimed_by']}"
            )
        for t in db.trials("failed"):
            click.echo(f"  failed: #{t.id} {t.config.describe()}: {t.reason}")
        if counts["failed"]:
            click.echo("  (`ravine study run SPEC --retry-failed` runs the failed trials again)")
        if counts["done"] + counts["diverged"]:
            click.echo("")
            for line in summary_lines(db):
                click.echo(line)


@study.command("report")
@click.argument("store", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out", type=click.Path(dir_okay=False), default=None, help="HTML file [NAME.report.html]."
)
def report(store, out) -> None:
    """Write the self-contained HTML report (figures and tables) of STORE."""
    from ..report import write_report

    with _open(store) as db:
        name = (db.get_meta("spec") or {}).get("name", "study")
        target = Path(out) if out else Path(f"{name}.report.html")
        write_report(db, target, progress=True)
    click.echo(str(target))


@study.command("export")
@click.argument("store", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Directory for NAME.trials.* and NAME.metrics.* (NAME: the study's; a second export "
    "of the study replaces its own files).",
)
def export_(store, fmt, out) -> None:
    """Write STORE's trials and metrics as CSV or Parquet tables."""
    from ..study.export import export

    with _open(store) as db:
        try:
            paths = export(db, out, fmt)
        except FileExistsError as err:
            raise click.ClickException(str(err)) from None
        for p in paths:
            click.echo(str(p))
