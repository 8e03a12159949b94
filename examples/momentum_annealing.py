"""Momentum annealed from 0.5 upwards against fixed momentum (Sutskever et al. 2013 raise
it during training: low momentum while the gradients change fast, high once they settle).

The digits MLP, mini-batches of 64, 230 steps (10 epochs), evaluated every 5 steps, seeds
0, 1, 2; heavy-ball momentum (ravine "momentum", v <- mu v + lr g) at lr 0.01 and 0.03,
with mu fixed at 0.5, 0.9 or 0.99, or annealed linearly from 0.5 to 0.9 or to 0.99 over
the first 115 steps (the schedule "linear:0.5:0.99:115" on the momentum, then held).
Measured: final training loss and validation accuracy (mean and spread over the seeds),
and the first step at which validation accuracy reaches 0.9. Prints the table; writes
momentum_annealing.png.
"""

from __future__ import annotations

from _claims import colors, figure, mean_curve, seed_summary, trial, write
from _common import out_dir

from ravine.plot.style import styled

SEEDS = (0, 1, 2)
LRS = (0.01, 0.03)
STEPS, RAMP = 230, 115
VARIANTS = {
    "fixed 0.5": (0.5, None),
    "fixed 0.9": (0.9, None),
    "fixed 0.99": (0.99, None),
    "0.5 -> 0.9": (0.5, f"linear:0.5:0.9:{RAMP}"),
    "0.5 -> 0.99": (0.5, f"linear:0.5:0.99:{RAMP}"),
}


def run(label: str, lr: float, seed: int):
    mu, schedule = VARIANTS[label]
    schedules = {"momentum": schedule} if schedule else None
    return trial(
        "digits_mlp",
        "momentum",
        seed,
        steps=STEPS,
        every=5,
        schedules=schedules,
        lr=lr,
        momentum=mu,
    )


@styled
def draw(results, path):
    fig, axes = figure(len(LRS))
    c = colors(list(VARIANTS), ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
    for ax, lr in zip(axes, LRS, strict=True):
        for label in VARIANTS:
            runs = results[label, lr]
            steps, mean = mean_curve([r.rows for r in runs], "train_loss")
            ax.semilogy(
                steps, mean, color=c[label], label=label, ls="--" if VARIANTS[label][1] else "-"
            )
        ax.axvline(RAMP, color="0.6", lw=0.8, ls=":")
        ax.set(
            xlabel="step", ylabel="training loss (mean of 3 seeds)", title=f"digits MLP, lr {lr:g}"
        )
        ax.legend(title="momentum")
    return write(fig, path, "Momentum annealed against fixed momentum")


def main() -> None:
    out = out_dir(__doc__)
    results = {(label, lr): [run(label, lr, s) for s in SEEDS] for lr in LRS for label in VARIANTS}
    print(f"{'momentum':>12} {'lr':>5} {'train loss':>17} {'val acc':>15} {'steps to 0.9':>16}")
    for (label, lr), runs in results.items():
        print(f"{label:>12} {lr:>5g} {seed_summary(runs, 0.9)}")
    print("wrote", draw(results, out / "momentum_annealing.png"))


if __name__ == "__main__":
    main()
