"""x(t) and y(t) at three global learning rates on a quadratic ravine (condition 10).

With curvatures 1 (x) and 10 (y), gradient descent is stable for lr < 2/10. A small lr
crawls along x, lr = 0.1 settles y at once, and lr = 0.19 makes y oscillate while x still
crawls. Writes coordinates_lr.png.
"""

from _common import out_dir

from ravine import plot, race


def main() -> None:
    out = out_dir(__doc__)
    result = race("quadratic", ["sgd", "momentum"], lrs=[0.02, 0.1, 0.19], steps=80)
    fig = plot.coordinates_figure(result, title="x(t), y(t) on a ravine at three learning rates")
    plot.save(fig, out / "coordinates_lr.png", palette=True)


if __name__ == "__main__":
    main()
