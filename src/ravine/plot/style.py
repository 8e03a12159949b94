"""One colour per optimizer across every figure, and the shared look of ravine's figures."""

from __future__ import annotations

from collections.abc import Iterable

#: Fixed colours of the registered optimizers (colour-blind-aware, distinct in print).
COLORS: dict[str, str] = {
    "sgd": "#d62728",
    "momentum": "#1f77b4",
    "nesterov": "#2ca02c",
    "adagrad": "#9467bd",
    "rmsprop": "#ff7f0e",
    "adadelta": "#8c564b",
    "adam": "#17becf",
    "adamw": "#0b5563",
    "adamax": "#bcbd22",
    "nadam": "#7f7f7f",
    "adabelief": "#e377c2",
}
_SPARE = ["#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354"]

NOTE = (
    "A 2-D race illustrates how update rules move; it is not a way to choose an optimizer "
    "for a real model."
)


def colors_for(runs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Colour of each (label, optimizer name): the label's own colour if it is a registered
    name, else its optimizer's colour if still free in this figure, else a spare one."""
    out: dict[str, str] = {}
    used: set[str] = set()
    pending = []
    for label, name in runs:
        key = label.lower()
        if key in COLORS and COLORS[key] not in used:
            out[label] = COLORS[key]
            used.add(out[label])
        else:
            pending.append((label, name))
    spare = iter(c for c in _SPARE if c not in used)
    for label, name in pending:
        c = COLORS.get(str(name).lower())
        if c is None or c in used:
            c = next(spare)
        out[label] = c
        used.add(c)
    return out


def setup() -> None:
    """Headless rendering (Agg) and a clean, consistent style."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "legend.fontsize": 9,
        }
    )


def quantize_exact(image, colors: int = 256):
    """A palette ("P") copy of an RGB PIL image that keeps every optimizer colour exactly.

    A plain median-cut palette merges rare colours (a short path's red into a long path's
    orange); here the optimizer colours, black and white are fixed palette entries and the
    rest of the palette is fitted to the image."""
    from PIL import Image

    exact = [*COLORS.values(), *_SPARE, "#000000", "#ffffff"]
    base = image.quantize(colors=colors - len(exact), method=Image.Quantize.MEDIANCUT)
    pal = base.getpalette()[: 3 * (colors - len(exact))]
    for c in exact:
        pal += [int(c[i : i + 2], 16) for i in (1, 3, 5)]
    holder = Image.new("P", (1, 1))
    holder.putpalette(pal)
    return image.quantize(palette=holder, dither=Image.Dither.NONE)
