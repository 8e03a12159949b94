"""Beale, the long valley (Rosenbrock) and the saddle, each raced by SGD, Momentum, NAG,
AdaGrad, AdaDelta and RMSProp. Writes race_beale.png, race_beale_surface.png,
race_rosenbrock.png, race_saddle.png and race_rosenbrock_loss.png.
"""

from _common import out_dir

from ravine import plot, race


def optimizers(scale: float) -> dict[str, dict[str, float]]:
    return {
        "sgd": {"lr": 1e-3 * scale},
        "momentum": {"lr": 1e-3 * scale, "momentum": 0.9},
        "nesterov": {"lr": 1e-3 * scale, "momentum": 0.9},
        "adagrad": {"lr": 0.3},
        "adadelta": {"lr": 1.0, "decay": 0.95},
        "rmsprop": {"lr": 0.01},
    }


def main() -> None:
    out = out_dir(__doc__)
    beale = race("beale", optimizers(1.0), starts=[[1.0, 1.4]], steps=400)
    plot.save(plot.contour_figure(beale), out / "race_beale.png", palette=True)
    plot.save(plot.surface_figure(beale), out / "race_beale_surface.png", palette=True)
    valley = race("rosenbrock", optimizers(1.0), starts=[[-1.5, 2.0]], steps=600)
    plot.save(plot.contour_figure(valley), out / "race_rosenbrock.png", palette=True)
    plot.save(plot.loss_figure(valley), out / "race_rosenbrock_loss.png", palette=True)
    saddle = race("saddle", optimizers(10.0), starts=[[1.0, 1e-3]], steps=200)
    plot.save(plot.contour_figure(saddle), out / "race_saddle.png", palette=True)
    for result in (beale, valley, saddle):
        print(result.landscape.name)
        for row in result.summary():
            print("  " + "  ".join(row))


if __name__ == "__main__":
    main()
