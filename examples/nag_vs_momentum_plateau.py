"""NAG against Momentum at momentum 0.95 on a plateau with a local and a global well.

Both start on the flat plateau where the gradient almost vanishes; momentum builds speed
over the plateau. At lr 0.3 classical momentum overshoots the shallow well and rolls on
into the deep one; Nesterov's look-ahead gradient (Sutskever et al. 2013 form) brakes in
time and settles in the shallow well. Writes nag_vs_momentum_plateau.png.
"""

from _common import out_dir

from ravine import plot, race

OPTIMIZERS = {
    "momentum": {"lr": 0.3, "momentum": 0.95},
    "nesterov": {"lr": 0.3, "momentum": 0.95, "lookahead": True},
}


def main() -> None:
    out = out_dir(__doc__)
    result = race("plateau", OPTIMIZERS, starts=[[-2.0, 1.8]], steps=300)
    fig = plot.contour_figure(result, title="Momentum vs NAG (μ = 0.95) on a plateau")
    plot.save(fig, out / "nag_vs_momentum_plateau.png", palette=True)
    for row in result.summary():
        print("  ".join(row))


if __name__ == "__main__":
    main()
