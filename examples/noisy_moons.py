"""Mini-batch trajectories on the noisy two moons: logistic regression with two weights.

Each step sees 8 of 200 examples, so the paths wander around the full-data minimum (the
drawn surface); five seeds per optimizer show the spread. Writes noisy_moons.png.
"""

from _common import out_dir

from ravine import landscapes, plot, race


def main() -> None:
    out = out_dir(__doc__)
    moons = landscapes.get("moons", batch_size=8, noise=0.2)
    spec = {"sgd": {"lr": 0.5}, "momentum": {"lr": 0.05, "momentum": 0.9}, "adam": {"lr": 0.1}}
    result = race(moons, spec, seeds=range(5), steps=150)
    fig = plot.contour_figure(result, title="Mini-batch paths on the noisy two moons")
    plot.save(fig, out / "noisy_moons.png", palette=True)


if __name__ == "__main__":
    main()
