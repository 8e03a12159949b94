"""style.py: one colour per optimizer in every figure, race or study; one backend policy;
figures written by suffix and never half-written; figures embedded as data URIs."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys

import matplotlib
import pytest
from PIL import Image

from ravine import plot
from ravine.plot import study as study_plots
from ravine.plot import style
from ravine.race import race
from support.study import SRC

# ------------------------------------------------------------------------------ colours


def test_colours_are_fixed_per_optimizer_and_distinct():
    assert len(set(plot.COLORS.values())) == len(plot.COLORS)
    a = plot.colors_for([("adam", "adam"), ("sgd", "sgd")])
    b = plot.colors_for([("sgd", "sgd"), ("x", "momentum"), ("adam", "adam")])
    assert a["adam"] == b["adam"] == plot.COLORS["adam"]
    assert b["x"] == plot.COLORS["momentum"]
    c = plot.colors_for([("nag", "nesterov"), ("nag2", "nesterov")])
    assert c["nag"] == plot.COLORS["nesterov"] and c["nag2"] != c["nag"]


def test_colours_do_not_depend_on_the_order_or_company_of_runs():
    runs = [("nag2", "nesterov"), ("mine", "mine"), ("nag", "nesterov"), ("sgd", "sgd")]
    forward, backward = plot.colors_for(runs), plot.colors_for(runs[::-1])
    assert forward == backward
    assert len(set(forward.values())) == len(runs)
    alone = plot.colors_for([("mine", "mine")])
    assert alone["mine"] == forward["mine"]  # an unregistered name keeps its spare colour
    assert alone["mine"] not in plot.COLORS.values()


def _line_colours(ax) -> dict[str, str]:
    """Legend label (its first word) -> colour of the artist it stands for."""
    out = {}
    for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
        line = handle[0] if isinstance(handle, tuple) else handle  # an errorbar: its line
        out[label.split(" ")[0]] = matplotlib.colors.to_hex(line.get_color())
    return out


@pytest.fixture(scope="module")
def study_results(tmp_path_factory):
    """A one-epoch study on the two moons: sgd (two lrs), adam, and nesterov labelled nag."""
    from ravine.study import Results, Store, run_study

    spec = {
        "name": "colours",
        "seeds": [0],
        "budget": {"epochs": 1},
        "batch_size": 50,
        "problems": [{"name": "moons", "options": {"n": 100, "hidden": 4}, "label": "moons"}],
        "optimizers": [
            {"name": "sgd", "lr": [0.1, 0.3]},
            {"name": "adam", "lr": [0.01]},
            {"name": "nesterov", "label": "nag", "lr": [0.1]},
        ],
    }
    path = tmp_path_factory.mktemp("colours") / "study.db"
    run_study(spec, path, progress=False)
    with Store(path) as store:
        return Results.from_store(store)


def test_an_optimizer_has_one_colour_in_race_and_study_figures(study_results):
    raced = race("beale", ["adam", "nesterov", "sgd"], lrs=[1e-3, 1e-2], steps=5)
    one_lr = race("beale", ["adam", "nesterov", "sgd"], lrs=1e-3, steps=5)
    profile = {"taus": [1.0, 2.0], "profiles": {"sgd": [0, 1], "adam": [1, 1]}, "ratios": {}}
    figures = [
        plot.contour_figure(one_lr),  # over several lrs, colour tells the lrs apart
        plot.sensitivity_figure(raced),
        study_plots.curves_figure(study_results, "moons"),
        study_plots.sensitivity_figure(study_results, "moons"),
        study_plots.profile_figure(profile),
    ]
    in_race, in_race_sens, in_curves, in_sens, in_profile = (
        _line_colours(fig.axes[0]) for fig in figures
    )
    for fig in figures:
        style.pyplot().close(fig)
    for name in ("adam", "sgd"):
        expected = plot.COLORS[name]
        assert in_race[name] == in_race_sens[name] == expected
        assert in_curves[name] == in_sens[name] == expected
        assert in_profile[name] == expected
    # a labelled study optimizer takes its optimizer's colour, as a race label does
    assert in_curves["nag"] == in_sens["nag"] == in_race["nesterov"] == plot.COLORS["nesterov"]


# ------------------------------------------------------------------------------ backend and look


def test_agg_is_chosen_only_when_the_user_chose_no_backend():
    code = (
        "import matplotlib\n"
        "from ravine.plot.style import pyplot\n"
        "print(pyplot().get_backend().lower())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = SRC
    fresh = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert fresh.stdout.strip() == "agg", fresh.stderr
    before = matplotlib.get_backend()
    matplotlib.use("svg")  # the user's choice stands
    try:
        assert style.pyplot().get_backend().lower() == "svg"
    finally:
        matplotlib.use(before)


def test_the_look_applies_while_drawing_and_leaves_the_users_settings(result):
    with matplotlib.rc_context({"axes.spines.top": True, "legend.frameon": True}):
        fig = plot.loss_figure(result)
        assert matplotlib.rcParams["axes.spines.top"] and matplotlib.rcParams["legend.frameon"]
    ax = fig.axes[0]
    assert not ax.spines["top"].get_visible() and not ax.get_legend().get_frame_on()
    style.pyplot().close(fig)


# ------------------------------------------------------------------------------ writing


def _figure():
    fig, ax = style.pyplot().subplots(figsize=(2.0, 1.5))
    ax.plot([0, 1], [1, 0])
    return fig


@pytest.mark.parametrize(
    ("suffix", "head"), [(".png", b"\x89PNG\r\n\x1a\n"), (".svg", b"<?xml"), (".pdf", b"%PDF")]
)
def test_save_writes_the_format_its_suffix_names(tmp_path, suffix, head):
    plt = style.pyplot()
    fig = _figure()
    path = plot.save(fig, tmp_path / "new" / f"fig{suffix.upper()}")  # the folder is created
    assert path.read_bytes().lstrip()[: len(head)] == head
    assert not plt.fignum_exists(fig.number)  # closed once written
    kept = _figure()
    plot.save(kept, tmp_path / f"kept{suffix}", close=False)
    assert plt.fignum_exists(kept.number)
    plt.close(kept)
    if suffix == ".png":
        with Image.open(path) as img:
            assert img.size == (2 * style.DPI, round(1.5 * style.DPI))


def test_save_refuses_other_suffixes_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"\.png, \.svg or \.pdf.*'fig\.jpg'"):
        plot.save(_figure(), tmp_path / "fig.jpg")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_no_half_written_file(tmp_path):
    path = tmp_path / "fig.png"
    path.write_bytes(b"the previous figure")

    class Broken(Exception):
        pass

    def half_then_fail(target, **kwargs):
        with open(target, "wb") as f:
            f.write(b"\x89PNG half")
        raise Broken

    fig = _figure()
    fig.savefig = half_then_fail
    with pytest.raises(Broken):
        plot.save(fig, path)
    assert path.read_bytes() == b"the previous figure"
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # no temporary file left
    fresh = tmp_path / "fresh.png"
    fig = _figure()
    fig.savefig = half_then_fail
    with pytest.raises(Broken):
        plot.save(fig, fresh)
    assert not fresh.exists()


def test_svg_and_palette_png(result, tmp_path):
    path = plot.save(plot.contour_figure(result), tmp_path / "fig.svg")
    assert path.read_text().lstrip().startswith("<?xml")
    path = plot.save(plot.loss_figure(result), tmp_path / "fig.png", palette=True)
    with Image.open(path) as img:
        assert img.mode == "P" and img.size == (720, 480)
        pal = img.getpalette()
        entries = {
            "#{:02x}{:02x}{:02x}".format(*tuple(pal[i : i + 3])) for i in range(0, len(pal), 3)
        }
        # optimizer colours survive quantization exactly
        assert {plot.COLORS[n] for n in ("sgd", "momentum", "adam")} <= entries


def test_figures_embed_as_base64_png_and_data_uris():
    plt = style.pyplot()
    fig = _figure()
    data = base64.b64decode(plot.png_base64(fig, close=False))
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "PNG" and img.size == (2 * style.DPI, round(1.5 * style.DPI))
    uri = plot.data_uri(fig)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == data  # the same bytes, then closed
    assert not plt.fignum_exists(fig.number)
    assert plot.data_uri(b"GIF89a", "image/gif") == "data:image/gif;base64,R0lGODlh"
