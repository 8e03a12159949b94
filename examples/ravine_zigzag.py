"""SGD zig-zags across an ill-conditioned ravine; Momentum and RMSProp do not.

f = (x² + 50 y²)/2: SGD near its stability limit (2/50) bounces between the walls while
crawling along the floor; momentum averages the bounces away; RMSProp divides each
coordinate by its own gradient scale. Writes ravine_zigzag.png and ravine_zigzag_loss.png.
"""

from _common import out_dir

from ravine import landscapes, plot, race


def main() -> None:
    out = out_dir(__doc__)
    ravine = landscapes.get("quadratic", condition=50.0)
    spec = {
        "sgd": {"lr": 0.038},
        "momentum": {"lr": 0.01, "momentum": 0.8},
        "rmsprop": {"lr": 0.05},
    }
    result = race(ravine, spec, starts=[[-1.8, 0.6]], steps=80)
    plot.save(
        plot.contour_figure(result, title="Zig-zag in a ravine (condition number 50)"),
        out / "ravine_zigzag.png",
        palette=True,
    )
    plot.save(plot.loss_figure(result), out / "ravine_zigzag_loss.png", palette=True)


if __name__ == "__main__":
    main()
