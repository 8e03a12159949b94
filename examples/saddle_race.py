"""The saddle race: Momentum, NAG, AdaGrad, RMSProp, AdaDelta and Adam on x^2 - y^2.

All start just off the saddle's stable line (y0 = 1e-3). Plain momentum methods first slide
towards the saddle and only slowly leave it; the adaptive methods rescale the tiny y-gradient
and escape at once. Writes saddle_race.gif and saddle_race.png.
"""

from _common import out_dir

from ravine import plot, race

OPTIMIZERS = {
    "momentum": {"lr": 0.01, "momentum": 0.9},
    "nesterov": {"lr": 0.01, "momentum": 0.9},
    "adagrad": {"lr": 0.1},
    "rmsprop": {"lr": 0.01},
    "adadelta": {"lr": 1.0},
    "adam": {"lr": 0.01},
}


def main() -> None:
    out = out_dir(__doc__)
    result = race("saddle", OPTIMIZERS, starts=[[1.0, 1e-3]], steps=160)
    plot.save(
        plot.contour_figure(result, title="The saddle x² - y²: who escapes first?"),
        out / "saddle_race.png",
        palette=True,
    )
    plot.animate(
        result,
        out / "saddle_race.gif",
        frames=40,
        fps=10,
        size=(5.6, 5.0),
        dpi=70,
        title="Saddle x² - y²",
    )
    for row in result.summary():
        print("  ".join(row))


if __name__ == "__main__":
    main()
