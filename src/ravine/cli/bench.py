"""``ravine bench``: the speed measurements of ``benchmarks/`` with a short default."""

from __future__ import annotations

import click

SHORT_SETS = "mlp,resnet18"
SHORT_ALGORITHMS = "sgd,momentum,adam"


@click.command("bench")
@click.argument("what", type=click.Choice(["steps", "trials", "all"]), default="all")
@click.option(
    "--sets",
    default=SHORT_SETS,
    show_default=True,
    help="parameter sets for steps: mlp, resnet18, transformer, one10M",
)
@click.option(
    "--algorithms",
    default=SHORT_ALGORITHMS,
    show_default=True,
    help="elementwise optimizers for steps, comma-separated",
)
@click.option(
    "--trials",
    "trial_counts",
    default="1,8,64",
    show_default=True,
    help="numbers of trials T batched together, for trials",
)
@click.option(
    "--epochs",
    type=click.IntRange(1, 1000),
    default=3,
    show_default=True,
    help="epochs of each trial, for trials (digits MLP, Adam)",
)
@click.option("--rounds", type=click.IntRange(1, 100), default=3, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=1, show_default=True)
@click.option("--device", default="cpu", show_default=True)
def bench_command(what, sets, algorithms, trial_counts, epochs, rounds, threads, device) -> None:
    """Time ravine against its peers: optimizer steps against torch.optim's paths (steps),
    batched against sequential study trials (trials). Figures are medians of interleaved
    rounds in this process; see docs/performance.md for the full runs."""
    import torch

    from ..bench import steps
    from ..bench.timing import machine

    torch.set_num_threads(threads)
    dev = torch.device(device)
    unknown = [s for s in sets.split(",") if s not in steps.PARAMETER_SETS]
    if unknown:
        raise click.BadParameter(
            f"unknown set {unknown[0]!r}; choose from {', '.join(steps.PARAMETER_SETS)}",
            param_hint="--sets",
        )
    names = algorithms.split(",")
    bad = [a for a in names if a not in steps.ALGORITHMS]
    if bad:
        raise click.BadParameter(
            f"unknown algorithm {bad[0]!r}; choose from {', '.join(steps.ALGORITHMS)}",
            param_hint="--algorithms",
        )
    click.echo(machine(dev))
    if what in ("steps", "all"):
        for set_name in sets.split(","):
            click.echo(f"\nsteps on {set_name} ({len(steps.PARAMETER_SETS[set_name]())} tensors)")
            rows = steps.measure_steps(
                set_name, names, device=dev, rounds=rounds,
                progress=lambda name: click.echo(f"  measured {name}", err=True),
            )  # fmt: skip
            click.echo("\n".join(steps.format_rows(rows)))
            click.echo("\nsummary (ratios of step times; below 1: ravine faster)")
            click.echo("\n".join(steps.format_summary(rows)))
    if what in ("trials", "all"):
        from ..bench import trials

        try:
            counts = tuple(int(t) for t in trial_counts.split(","))
        except ValueError:
            counts = ()
        if not counts or min(counts) < 1:
            raise click.BadParameter(
                f"{trial_counts!r}: give positive integers, comma-separated", param_hint="--trials"
            )
        click.echo(f"\nbatched against sequential trials (digits MLP, Adam, {epochs} epochs)")
        trials.measure("digits_mlp", "adam", counts, epochs, rounds, threads=threads,
                       echo=click.echo)  # fmt: skip
