"""Step, exponential and 1/t decay of the learning rate against a constant rate.

mnist1d (ravine.problems "mnist1d", offline: 40-point 1-D signals, 10 classes, its MLP),
heavy-ball momentum 0.9, mini-batches of 64,
20 epochs (1000 steps), evaluated every 2 epochs.
Four schedules of the learning rate, each tuned over lr in {0.003, 0.01, 0.03, 0.1, 0.3, 1}
on seed 0 and rerun on seeds 0, 1, 2 (the two-stage protocol of ravine.study):

* constant;
* step decay, lr x 0.1 every 400 steps ("step_decay:400:0.1");
* exponential, lr x 0.995405^t, 1% of the initial rate at step 1000
  ("exponential:0.995405");
* 1/t, lr / (1 + 0.019 t), 5% at step 1000 ("inverse_time:0.019").

Measured: each schedule's chosen lr, final validation accuracy and training loss (mean and
spread over the seeds). Prints the table; writes lr_decay.png.
"""

from __future__ import annotations

import tempfile

from _claims import colors, figure, mean_curve, mean_sd, study, write
from _common import out_dir

from ravine.plot.style import styled
from ravine.study import best_settings

SCHEDULES = {
    "constant": None,
    "step": "step_decay:400:0.1",
    "exponential": "exponential:0.995405",
    "1/t": "inverse_time:0.019",
}
SPEC = {
    "name": "lr_decay",
    "seeds": [0, 1, 2],
    "budget": {"epochs": 20},
    "batch_size": 64,
    "eval_every": {"epochs": 2},
    "threads": 1,
    "protocol": {"kind": "two_stage", "tune_seed": 0},
    "problems": [{"name": "mnist1d"}],
    "optimizers": [
        {
            "name": "momentum",
            "label": label,
            "momentum": 0.9,
            "lr": [0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
            **({"schedules": {"lr": text}} if text else {}),
        }
        for label, text in SCHEDULES.items()
    ],
}


def chosen(results, problem: str = "mnist1d") -> dict[str, tuple[dict, list]]:
    """Per schedule: its best setting's hyperparameters and the metric rows of its trials."""
    out = {}
    for label in SCHEDULES:
        best = best_settings(results, problem, label)
        out[label] = (best["hyperparameters"], [results.rows(t) for t in best["trials"]])
    return out


@styled
def draw(picked, path):
    fig, axes = figure(2)
    c = colors(list(SCHEDULES), ["sgd", "momentum", "rmsprop", "adam"])
    for label, (hps, runs) in picked.items():
        for ax, column in zip(axes, ("train_loss", "val_metric"), strict=True):
            steps, mean = mean_curve(runs, column)
            ax.plot(steps, mean, color=c[label], label=f"{label} (lr {hps['lr']:g})")
    axes[0].set_yscale("log")
    axes[0].set(xlabel="step", ylabel="training loss (mean of 3 seeds)", title="mnist1d")
    axes[1].set(xlabel="step", ylabel="validation accuracy (mean of 3 seeds)", title="mnist1d")
    axes[1].legend(title="schedule, tuned lr")
    return write(fig, path, "Learning-rate decay against a constant rate, momentum 0.9")


def main() -> None:
    out = out_dir(__doc__)
    with tempfile.TemporaryDirectory() as folder:
        store, results = study(SPEC, folder)
        picked = chosen(results)
        store.close()
    print(f"{'schedule':>11} {'lr':>6} {'val acc':>15} {'train loss':>15}")
    for label, (hps, runs) in picked.items():
        acc = mean_sd([rows[-1].val_metric for rows in runs])
        loss = mean_sd([rows[-1].train_loss for rows in runs])
        print(
            f"{label:>11} {hps['lr']:>6g} {acc[0]:.4f} ± {acc[1]:.4f} {loss[0]:.4f} ± {loss[1]:.4f}"
        )
    print("wrote", draw(picked, out / "lr_decay.png"))


if __name__ == "__main__":
    main()
