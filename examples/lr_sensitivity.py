"""Learning-rate sensitivity on Rosenbrock: final loss after 500 steps against lr for six
optimizers, 36 log-spaced learning rates from 1e-5 to 1e2 (the DeepOBS grid), 4 starts,
864 trajectories raced in six batched tensors. Writes lr_sensitivity.png.
"""

from _common import out_dir

from ravine import plot, race

NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"]


def main() -> None:
    out = out_dir(__doc__)
    lrs = [1e-5 * 10 ** (7 * k / 35) for k in range(36)]
    starts = [[-1.5, 2.0], [-1.0, -0.5], [0.0, 2.5], [1.8, 0.0]]
    result = race("rosenbrock", NAMES, lrs=lrs, starts=starts, steps=500)
    plot.save(plot.sensitivity_figure(result), out / "lr_sensitivity.png", palette=True)


if __name__ == "__main__":
    main()
