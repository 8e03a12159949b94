"""RMSProp at a large learning rate: does it oscillate where Adam settles?

Near a minimum RMSProp's step lr g / sqrt(v) tends to lr sign(g) once v has caught up
with the shrinking g^2, so it cannot settle closer than about lr: on the quadratic
(x^2 + 10 y^2)/2 each coordinate ends up flipping between +lr/2 and -lr/2, a cycle at
distance lr / sqrt(2) from the minimum. Adam's first moment averages the flipping
gradients out, so its steps shrink with them. Measured: the largest distance from the
minimum over the last 100 of 600 steps (the ravine landscape "quadratic", default start,
learning rates 0.01 to 0.3; defaults otherwise: RMSProp decay 0.9, Adam betas 0.9,
0.999), and on the digits MLP trained full batch for 300 steps (seeds 0, 1, 2) at lr 1e-3
and 1e-2 the number of the last 100 steps at which the training loss rose and its largest
rise. Prints the tables; writes rmsprop_oscillation.png.
"""

from __future__ import annotations

import math

import torch
from _claims import colors, figure, mean_sd, trial, write
from _common import out_dir

import ravine
from ravine.plot.style import styled

NAMES = ("rmsprop", "adam")
RACE_LRS = (0.01, 0.03, 0.1, 0.3)
DIGITS_LRS = (1e-3, 1e-2)
SEEDS = (0, 1, 2)
STEPS, TAIL = 600, 100


def tail_distance(positions: torch.Tensor, minimum, tail: int = TAIL) -> float:
    """The largest distance from ``minimum`` over the last ``tail`` positions of one
    trajectory ``[steps + 1, dim]``."""
    point = torch.as_tensor(minimum, dtype=positions.dtype)
    return float((positions[-tail:] - point).norm(dim=-1).max())


def rises(losses: list[float], tail: int = TAIL) -> tuple[int, float]:
    """Over the last ``tail`` steps: how many steps raised the loss, and the largest rise."""
    ups = [b - a for a, b in zip(losses[-tail - 1 : -1], losses[-tail:], strict=True) if b > a]
    return len(ups), max(ups, default=0.0)


@styled
def draw(race, digits, path):
    fig, axes = figure(3, (4.4, 3.6))
    c = colors(list(NAMES))
    minimum = race.landscape.global_minimum.location
    for name in NAMES:
        run = race[name]
        d = (run.positions[-2, 0, 0] - torch.tensor(minimum, dtype=torch.float64)).norm(dim=-1)
        axes[0].semilogy(d.clamp_min(1e-17), color=c[name], label=f"{name} lr {RACE_LRS[-2]:g}")
        tails = [tail_distance(run.positions[i, 0, 0], minimum) for i in range(len(RACE_LRS))]
        axes[1].loglog(RACE_LRS, [max(t, 1e-17) for t in tails], "o-", color=c[name], label=name)
        for lr, style in zip(DIGITS_LRS, ("-", "--"), strict=True):
            rows = digits[name, lr][0].rows
            axes[2].semilogy(
                [r.step for r in rows],
                [r.train_loss for r in rows],
                style,
                color=c[name],
                label=f"{name} lr {lr:g}",
            )
    axes[1].loglog(
        RACE_LRS, [lr / math.sqrt(2) for lr in RACE_LRS], "k:", lw=1, label="lr / sqrt(2)"
    )
    axes[0].set(xlabel="step", ylabel="distance from the minimum", title="quadratic (x² + 10y²)/2")
    axes[1].set(
        xlabel="learning rate",
        ylabel=f"largest distance, last {TAIL} steps",
        title=f"quadratic, {STEPS} steps",
    )
    axes[2].set(xlabel="step", ylabel="training loss", title="digits MLP, full batch, seed 0")
    for ax in axes:
        ax.legend()
    return write(fig, path, "RMSProp against Adam at large learning rates")


def main() -> None:
    out = out_dir(__doc__)
    race = ravine.race("quadratic", list(NAMES), lrs=list(RACE_LRS), steps=STEPS)
    minimum = race.landscape.global_minimum.location
    print(f"quadratic: largest distance from the minimum over the last {TAIL} of {STEPS} steps")
    for name in NAMES:
        tails = [tail_distance(race[name].positions[i, 0, 0], minimum) for i in range(4)]
        print(
            f"  {name:>8}: "
            + ", ".join(f"lr {lr:g}: {t:.3g}" for lr, t in zip(RACE_LRS, tails, strict=True))
        )
    digits = {
        (name, lr): [
            trial("digits_mlp", name, s, steps=300, every=1, batch="full", lr=lr) for s in SEEDS
        ]
        for name in NAMES
        for lr in DIGITS_LRS
    }
    print(f"digits MLP, full batch, last {TAIL} of 300 steps (seeds {list(SEEDS)}):")
    for (name, lr), results in digits.items():
        counts = [rises([r.train_loss for r in res.rows]) for res in results]
        loss = mean_sd([res.rows[-1].train_loss for res in results])
        print(
            f"  {name:>8} lr {lr:<6g} steps that raised the loss {[n for n, _ in counts]}, "
            f"largest rise {max(u for _, u in counts):.3g}, final loss {loss[0]:.4f}"
        )
    print("wrote", draw(race, digits, out / "rmsprop_oscillation.png"))


if __name__ == "__main__":
    main()
