"""Is AdaDelta robust to the choice of its global learning rate? (Zeiler 2012)

AdaDelta's step is sqrt(E[dx^2] + eps) / sqrt(E[g^2] + eps) g, its own units; torch and
ravine multiply it by a global learning rate (default 1.0), which Zeiler's rule does not
have. The claim is that the result hardly depends on that rate. Measured: the final
training loss of the digits MLP (mini-batches of 64, 5 epochs = 115 steps, seed 0) for
13 learning rates from 1e-3 to 1e3 (half-decade steps) for AdaDelta (decay 0.9, eps
1e-6), SGD and Adam, and how many of them end within a factor 2 (and 10) of the optimizer's
own best loss (the width of its good range, in grid points); the same on Rosenbrock (4
starts, 500 steps, the median final loss gap). Prints the tables; writes
adadelta_lr.png.
"""

from __future__ import annotations

import math

from _claims import colors, figure, final, trial, write
from _common import out_dir

import ravine
from ravine.plot.data import sensitivity
from ravine.plot.style import styled

NAMES = ("adadelta", "sgd", "adam")
LRS = [10 ** (-3 + k / 2) for k in range(13)]
STARTS = [[-1.5, 2.0], [-1.0, -0.5], [0.0, 2.5], [1.8, 0.0]]


def good_range(lrs, losses, factor: float) -> list[float]:
    """The learning rates whose final loss is within ``factor`` of the best finite one."""
    finite = [v for v in losses if math.isfinite(v)]
    if not finite:
        return []
    best = min(finite)
    return [
        lr for lr, v in zip(lrs, losses, strict=True) if math.isfinite(v) and v <= factor * best
    ]


def _span(lrs: list[float]) -> str:
    return f"{len(lrs)} of {len(LRS)} ({min(lrs):g} to {max(lrs):g})" if lrs else "none"


@styled
def draw(digits, race, path):
    fig, axes = figure(2)
    c = colors(list(NAMES))
    s = sensitivity(race)
    for name in NAMES:
        shown = [v if math.isfinite(v) else math.nan for v in digits[name]]
        axes[0].loglog(LRS, shown, "o-", ms=3, color=c[name], label=name)
        axes[1].loglog(LRS, s.center[name].clamp_min(1e-16), "o-", ms=3, color=c[name], label=name)
    axes[0].set(
        xlabel="learning rate",
        ylabel="final training loss",
        title="digits MLP, 115 steps (missing: diverged)",
    )
    axes[1].set(
        xlabel="learning rate",
        ylabel="median final loss gap",
        title="rosenbrock, 500 steps, 4 starts",
    )
    for ax in axes:
        ax.legend()
    return write(fig, path, "Final loss against the global learning rate")


def main() -> None:
    out = out_dir(__doc__)
    digits = {
        name: [final(trial("digits_mlp", name, 0, epochs=5, lr=lr), "train_loss") for lr in LRS]
        for name in NAMES
    }
    race = ravine.race("rosenbrock", list(NAMES), lrs=LRS, starts=STARTS, steps=500)
    s = sensitivity(race)
    print("final training loss, digits MLP, 115 steps, seed 0:")
    print("     lr " + " ".join(f"{n:>9}" for n in NAMES))
    for i, lr in enumerate(LRS):
        print(f"{lr:>7.3g} " + " ".join(f"{digits[n][i]:>9.4g}" for n in NAMES))
    for name in NAMES:
        gaps = [float(v) for v in s.center[name]]
        for problem, losses in (("digits", digits[name]), ("rosenbrock", gaps)):
            print(
                f"{name} on {problem}: within 2x of its best at "
                f"{_span(good_range(LRS, losses, 2))}, within 10x at "
                f"{_span(good_range(LRS, losses, 10))}"
            )
    print("wrote", draw(digits, race, out / "adadelta_lr.png"))


if __name__ == "__main__":
    main()
