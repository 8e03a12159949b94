"""An ensemble of the seeds' models against its best member.

Adam at lr 3e-3 (betas 0.9, 0.999), mini-batches of 64, 10 epochs, seeds 0 to 4, on the
digits MLP and on mnist1d (ravine.problems, offline), run as a ravine study that keeps each
trial's final weights; then ravine.study.ensemble averages the five models' class
probabilities on the validation split. Measured: each member's validation accuracy and
loss, and the ensemble's. Prints the table; writes ensemble_vs_best.png.
"""

from __future__ import annotations

import tempfile

from _claims import colors, figure, study, write
from _common import out_dir

from ravine.plot.style import styled
from ravine.study.ensemble import evaluate_ensemble, load_model

PROBLEMS = ("digits_mlp", "mnist1d")
SPEC = {
    "name": "ensemble",
    "seeds": [0, 1, 2, 3, 4],
    "budget": {"epochs": 10},
    "batch_size": 64,
    "eval_every": {"epochs": 10},
    "threads": 1,
    "protocol": "grid",
    "problems": [{"name": name} for name in PROBLEMS],
    "optimizers": [{"name": "adam", "lr": 3e-3}],
}


def members(store, trials) -> list[tuple[float, float]]:
    """(validation loss, validation accuracy) of each trial's saved final model."""
    out = []
    for t in trials:
        problem, model = load_model(store, t)
        out.append(problem.evaluate(model, problem.x_val, problem.y_val))
    return out


def measure(store, results) -> dict[str, dict]:
    """Per problem: its members' (loss, accuracy) and ravine's ensemble summary."""
    out = {}
    for problem in PROBLEMS:
        trials = sorted(results.select(problem, "adam"), key=lambda t: t.seed)
        out[problem] = {
            "members": members(store, trials),
            "ensemble": evaluate_ensemble(store, trials),
        }
    return out


@styled
def draw(measured, path):
    fig, axes = figure(2, (4.6, 3.6))
    c = colors(["adam", "ensemble"], ["adam", "sgd"])
    for x, m in enumerate(measured.values()):
        accs = [acc for _, acc in m["members"]]
        losses = [loss for loss, _ in m["members"]]
        for ax, ys, key in (
            (axes[0], accs, "ensemble_val_metric"),
            (axes[1], losses, "ensemble_val_loss"),
        ):
            ax.plot(
                [x] * len(ys),
                ys,
                "o",
                color=c["adam"],
                alpha=0.7,
                label="members (seeds 0-4)" if x == 0 else None,
            )
            ax.plot(
                [x],
                [m["ensemble"][key]],
                "*",
                ms=14,
                color=c["ensemble"],
                label="ensemble of the 5" if x == 0 else None,
            )
    for ax, ylabel in zip(axes, ("validation accuracy", "validation loss"), strict=True):
        ax.set_xticks(range(len(measured)), list(measured))
        ax.set_xlim(-0.5, len(measured) - 0.5)
        ax.set(ylabel=ylabel)
        ax.legend()
    return write(fig, path, "Adam lr 3e-3, 10 epochs: five seeds and their ensemble")


def main() -> None:
    out = out_dir(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        store, results = study(SPEC, folder)
        measured = measure(store, results)
        store.close()
    for problem, m in measured.items():
        e = m["ensemble"]
        print(
            f"{problem}: members' val acc {[round(a, 4) for _, a in m['members']]}, "
            f"val loss {[round(v, 4) for v, _ in m['members']]}"
        )
        print(
            f"  best member acc {e['member_val_metric_best']:.4f}, mean "
            f"{e['member_val_metric_mean']:.4f}; ensemble acc {e['ensemble_val_metric']:.4f};"
            f" members' mean loss {e['member_val_loss_mean']:.4f}, best "
            f"{min(v for v, _ in m['members']):.4f}; ensemble loss {e['ensemble_val_loss']:.4f}"
        )
    print("wrote", draw(measured, out / "ensemble_vs_best.png"))


if __name__ == "__main__":
    main()
