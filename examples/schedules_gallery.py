"""Draw the common schedules (the figure in docs/schedules.md).

python examples/schedules_gallery.py [--out DIR]   # writes DIR/schedules.png
"""

from __future__ import annotations

from _common import out_dir

from ravine.plot.schedules import plot_schedule


def main() -> None:
    out = out_dir(__doc__) / "schedules.png"
    specs = {
        "lr: warm-up, cosine": "warmup:500>cosine:9500",
        "lr: step decay": "step:3000:0.3",
        "lr: 1cycle": "onecycle:10000",
        "lr: cyclic": "cyclic:0.02:0.1:1000:mode=triangular2",
        "momentum": "linear:0.5:0.99:2000",
    }
    plot_schedule(specs, 10_000, out=out, initial={k: 0.1 for k in specs if k.startswith("lr")})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
