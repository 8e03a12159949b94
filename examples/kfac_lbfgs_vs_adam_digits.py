"""K-FAC and L-BFGS against Adam on scikit-learn's digits (8x8 images, 10 classes).

A 64-64-10 tanh MLP (4810 parameters), full-batch training on 1437 images (80%), 360 held out.
Every optimizer gets the same budget of steps; each picks its learning rate from a 3-point
grid by final training loss (L-BFGS uses a strong Wolfe line search, lr = 1). One step of
L-BFGS is one iteration (ravine's default max_iter=1) and may evaluate the loss several times;
K-FAC refreshes its Kronecker factors every step and their inverses every 10 steps. Reports
training loss per step and per CPU second (one thread; process time, robust to a busy
machine; the logging of the loss after each step is inside the clock for all three) and the
held-out accuracy.

Prints a table and writes docs/figures/second_order/digits_{steps,seconds}.png.
Run: python examples/kfac_lbfgs_vs_adam_digits.py   (under a minute)
"""

from __future__ import annotations

import time

import torch
from _common import FIGURES, made, parser
from torch import nn

import ravine.optim as ro
from ravine.plot.curvature import training_curves

STEPS = 150


def data():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32)
    y = torch.tensor(y)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    cut = int(0.8 * len(X))
    return X[perm[:cut]], y[perm[:cut]], X[perm[cut:]], y[perm[cut:]]


def model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 10))


def run(name: str, lr: float, split, steps: int = STEPS):
    Xtr, ytr, Xte, yte = split
    net = model()
    loss_fn = nn.functional.cross_entropy
    if name == "adam":
        opt = ro.Adam(net.parameters(), lr=lr)
    elif name == "kfac":
        opt = ro.KFAC(net, lr=lr, damping=1e-2, momentum=0.9, inverse_update_interval=10)
    else:
        opt = ro.LBFGS(  # one iteration per step, as the others take
            net.parameters(),
            lr=lr,
            max_iter=1,
            max_eval=25,
            history_size=20,
            line_search_fn="strong_wolfe",
        )

    def closure():
        opt.zero_grad()
        loss = loss_fn(net(Xtr), ytr)
        loss.backward()
        return loss

    losses, seconds = [], []
    start = time.process_time()
    for _ in range(steps):
        if name == "lbfgs":
            opt.step(closure)
        else:
            closure()
            opt.step()
        seconds.append(time.process_time() - start)
        with torch.no_grad():
            losses.append(float(loss_fn(net(Xtr), ytr)))
    with torch.no_grad():
        acc = float((net(Xte).argmax(1) == yte).float().mean())
    evals = opt.state[next(net.parameters())].get("func_evals") if name == "lbfgs" else steps
    return losses, seconds, acc, int(evals)


def main() -> None:
    ap = parser(__doc__, FIGURES / "second_order")
    args = ap.parse_args()
    torch.set_num_threads(1)
    split = data()
    grids = {"adam": [3e-3, 1e-2, 3e-2], "kfac": [0.03, 0.1, 0.3], "lbfgs": [1.0]}
    best = {}
    head = ("optimizer", "lr", "final loss", "test acc", "seconds", "loss evals")
    print("{:>9} {:>6} {:>11} {:>9} {:>8} {:>10}".format(*head))
    for name, grid in grids.items():
        for lr in grid:
            losses, seconds, acc, evals = run(name, lr, split)
            cells = f"{losses[-1]:>11.3e} {acc:>9.3f} {seconds[-1]:>8.2f} {evals:>10}"
            print(f"{name:>9} {lr:>6g} {cells}", flush=True)
            if name not in best or losses[-1] < best[name][0][-1]:
                best[name] = (losses, seconds, acc, lr)
    for target in (1e-1, 1e-2):
        cells = []
        for name, (losses, seconds, _, lr) in best.items():
            hit = next((i for i, v in enumerate(losses) if v <= target), None)
            cells.append(
                f"{name}(lr={lr:g}): "
                + ("not reached" if hit is None else f"step {hit + 1}, {seconds[hit]:.2f} s")
            )
        print(f"first step with training loss <= {target:g}: " + "; ".join(cells))
    out = made(args.out)
    steps = list(range(1, STEPS + 1))
    p1 = training_curves(
        {f"{k} (lr={v[3]:g})": (steps, v[0]) for k, v in best.items()},
        out / "digits_steps.png",
        title="digits MLP, full batch: loss per step",
    )
    p2 = training_curves(
        {f"{k} (lr={v[3]:g})": (v[1], v[0]) for k, v in best.items()},
        out / "digits_seconds.png",
        xlabel="CPU seconds (1 thread)",
        title="digits MLP, full batch: loss per second",
    )
    print("wrote", p1, p2)


if __name__ == "__main__":
    main()
