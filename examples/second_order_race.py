"""Curvature against gradients in Rosenbrock's valley: Newton, Gauss-Newton, BFGS and Adam.

From (-1.5, 2), Newton's method (H d = -g, tiny damping) and Gauss-Newton (J^T J of the
residuals (10 (y - x^2), 1 - x), positive definite even where the Hessian is not) take full
steps: the first ones throw them far below the valley, the loss rising a thousandfold, and
then they converge quadratically, at the minimum within 3 to 6 steps. BFGS with a strong
Wolfe line search never lets the loss rise: it follows the valley floor with the curvature
it has learned from gradients and converges superlinearly at the end (about 30 steps). Adam,
with no curvature, is still in the valley after 40. Writes second_order_race.png and
second_order_race_loss.png.
"""

from _common import out_dir

from ravine import landscapes, plot, race


def main() -> None:
    out = out_dir(__doc__)
    valley = landscapes.get("rosenbrock")
    spec = {
        "newton": {"lr": 1.0, "damping": 1e-3},
        "gauss_newton": {"lr": 1.0},
        "bfgs": {"lr": 1.0, "line_search_fn": "strong_wolfe"},
        "adam": {"lr": 0.1},
    }
    result = race(valley, spec, steps=40)
    for label, run in result.runs.items():
        arrived = int(run.arrival_step.flatten()[0])
        print(f"{label:<13} final loss {float(run.losses[..., -1]):.3g}, "
              f"arrived at step {arrived if arrived >= 0 else 'never'}")  # fmt: skip
    plot.save(
        plot.contour_figure(result, title="Newton, Gauss-Newton, BFGS and Adam on Rosenbrock"),
        out / "second_order_race.png",
        palette=True,
    )
    plot.save(plot.loss_figure(result), out / "second_order_race_loss.png", palette=True)


if __name__ == "__main__":
    main()
