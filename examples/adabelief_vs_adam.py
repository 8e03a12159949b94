"""AdaBelief against Adam (Zhuang et al. 2020 claim AdaBelief is faster and more stable).

On the digits MLP (ravine.problems "digits_mlp", mini-batches of 64, 230 steps = 10
epochs, evaluated every 5 steps) at lr 1e-3 (both papers' default) and 1e-2, seeds 0, 1,
2, defaults otherwise (Adam eps 1e-8, AdaBelief eps 1e-16): the training loss and
validation accuracy at the end, mean and spread over the seeds, and the step at which
validation accuracy first reaches 0.95. On two landscapes (Rosenbrock and Beale, 4 starts
each, 500 steps, 13 learning rates from 1e-3 to 1e1): the median final loss gap per
learning rate, and at how many learning rates it is below 1e-2 and 1e-6, or most runs
diverge.
Prints the tables; writes adabelief_vs_adam.png.
"""

from __future__ import annotations

import torch
from _claims import colors, figure, mean_curve, seed_summary, trial, write
from _common import out_dir

import ravine
from ravine.plot.data import sensitivity
from ravine.plot.style import styled

NAMES = ("adam", "adabelief")
LRS = (1e-3, 1e-2)
SEEDS = (0, 1, 2)
STEPS = 230  # 10 epochs of 23 mini-batches
RACE_LRS = [1e-3 * 10 ** (k / 3) for k in range(13)]
STARTS = {
    "rosenbrock": [[-1.5, 2.0], [-1.0, -0.5], [0.0, 2.5], [1.8, 0.0]],
    "beale": [[1.0, 1.5], [-1.0, 1.0], [2.0, -1.0], [0.5, 0.0]],
}


def counts(gaps: torch.Tensor, diverged: torch.Tensor, tols=(1e-2, 1e-6)) -> list[int]:
    """From one optimizer's row of a sensitivity summary: per tolerance, how many learning
    rates bring the median final gap below it, then how many learning rates saw more than
    half of the runs diverge."""
    return [int((gaps < tol).sum()) for tol in tols] + [int((diverged > 0.5).sum())]


def best_gap(gaps: torch.Tensor) -> float:
    """The smallest finite median gap (inf when none is finite)."""
    finite = gaps[gaps.isfinite()]
    return float(finite.min()) if len(finite) else float("inf")


def digits_runs():
    runs = {}
    for name in NAMES:
        for lr in LRS:
            runs[name, lr] = [
                trial("digits_mlp", name, s, steps=STEPS, every=5, lr=lr) for s in SEEDS
            ]
    return runs


@styled
def draw(runs, races, path):
    fig, axes = figure(3, (4.4, 3.6))
    c = colors(list(NAMES))
    for (name, lr), results in runs.items():
        steps, mean = mean_curve([r.rows for r in results], "train_loss")
        style = "-" if lr == LRS[0] else "--"
        axes[0].semilogy(steps, mean, style, color=c[name], label=f"{name} lr {lr:g}")
    axes[0].set(xlabel="step", ylabel="training loss (mean of 3 seeds)", title="digits MLP")
    axes[0].legend()
    for ax, (land, result) in zip(axes[1:], races.items(), strict=True):
        s = sensitivity(result)
        for name in NAMES:
            ax.loglog(
                s.lrs[name], s.center[name].clamp_min(1e-16), "o-", ms=3, color=c[name], label=name
            )
        ax.set(xlabel="learning rate", ylabel="median final loss gap", title=f"{land}, 500 steps")
        ax.legend()
    return write(fig, path, "AdaBelief against Adam")


def main() -> None:
    out = out_dir(__doc__)
    runs = digits_runs()
    print(f"{'optimizer':>9} {'lr':>6} {'train loss':>17} {'val acc':>15} {'steps to 0.95':>16}")
    for (name, lr), results in runs.items():
        print(f"{name:>9} {lr:>6g} {seed_summary(results, 0.95)}")
    races = {}
    for land, starts in STARTS.items():
        races[land] = ravine.race(land, list(NAMES), lrs=RACE_LRS, starts=starts, steps=500)
        s = sensitivity(races[land])
        for name in NAMES:
            near, exact, bad = counts(s.center[name], s.diverged[name])
            print(
                f"{land}: {name}: median gap < 1e-2 at {near} of {len(RACE_LRS)} lrs, < 1e-6 at"
                f" {exact}, diverged at {bad}; best {best_gap(s.center[name]):.2e}"
            )
    print("wrote", draw(runs, races, out / "adabelief_vs_adam.png"))


if __name__ == "__main__":
    main()
