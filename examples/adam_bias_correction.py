"""Adam's first steps with and without bias correction (Kingma and Ba 2015, section 3).

Adam's moments start at zero, so m_t = (1 - b1^t) E[g] and v_t = (1 - b2^t) E[g^2] for a
steady gradient; the corrections m / (1 - b1^t), v / (1 - b2^t) undo that. Four variants of
ravine's Adam (betas 0.9, 0.999; eps 1e-12 so that it does not blur the sizes):

* ``both``: ``Adam(bias_correction=True)``, the paper's rule;
* ``neither``: ``Adam(bias_correction=False)``;
* ``m only``: ``bias_correction=False`` with the learning rate scaled by 1 / (1 - b1^t), a
  ``ravine.schedules`` schedule, which corrects m alone (the correction is a scalar factor);
* ``v only``: the same with the factor sqrt(1 - b2^t), which corrects v alone.

Under a constant gradient every coordinate moves by lr * c_m(t) (1 - b1^t) / sqrt(c_v(t)
(1 - b2^t)) at step t, with c = 1 for a corrected moment and 1 - b^t for an uncorrected
one: lr exactly with both corrections, lr (1 - b1) / sqrt(1 - b2) = 3.16 lr at step 1 with
neither, lr / sqrt(1 - b2) = 31.6 lr with m alone and lr (1 - b1) = 0.1 lr with v alone.
The script measures the step sizes of a parameter under a constant gradient (checked
against that formula) and trains the digits MLP full batch for 60 steps at lr 1e-2 with
each variant (seed 0). Prints a table; writes adam_bias_correction.png.
"""

from __future__ import annotations

import math

import torch
from _claims import colors, figure, write
from _common import out_dir

import ravine
from ravine.plot.style import styled
from ravine.schedules import Scheduler
from ravine.schedules.base import Schedule

VARIANTS = ("both", "neither", "m only", "v only")
BETAS = (0.9, 0.999)
EPS = 1e-12


class _Correction(Schedule):
    """The lr factor that corrects one moment of an uncorrected Adam: 1 / (1 - b^t) (m) or
    sqrt(1 - b^t) (v), t the number of the step about to be taken (1, 2, ...)."""

    name = "bias_factor"

    def __init__(self, beta: float, power: float) -> None:
        super().__init__()
        self.beta, self.power = beta, power

    def at(self, t: int, initial):
        return initial * (1 - self.beta ** (t + 1)) ** self.power


def adam(params, variant: str, lr: float, betas=BETAS):
    """ravine's Adam in ``variant`` and its Scheduler (None when no factor is needed)."""
    opt = ravine.optim.Adam(params, lr=lr, betas=betas, eps=EPS, bias_correction=variant == "both")
    power = {"m only": -1.0, "v only": 0.5}.get(variant)
    if power is None:
        return opt, None
    beta = betas[0] if variant == "m only" else betas[1]
    return opt, Scheduler(opt, {"lr": _Correction(beta, power)})


def step_sizes(variant: str, lr: float, steps: int, betas=BETAS) -> list[float]:
    """|theta_t - theta_{t-1}| for t = 1..steps under the constant gradient 1 (measured)."""
    theta = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt, sched = adam([theta], variant, lr, betas)
    sizes = []
    for _ in range(steps):
        before = theta.detach().clone()
        theta.grad = torch.ones_like(theta)
        opt.step()
        if sched is not None:
            sched.step()
        sizes.append(float((theta.detach() - before).abs()))
    return sizes


def formula(variant: str, lr: float, t: int, betas=BETAS) -> float:
    """The step size at step t under a constant unit gradient, by hand (eps neglected):
    lr m_hat / sqrt(v_hat) with m_t = 1 - b1^t and v_t = 1 - b2^t, each divided by its
    1 - b^t where corrected."""
    bc1, bc2 = 1 - betas[0] ** t, 1 - betas[1] ** t
    m_hat = 1.0 if variant in ("both", "m only") else bc1
    v_hat = 1.0 if variant in ("both", "v only") else bc2
    return lr * m_hat / math.sqrt(v_hat)


def digits_losses(variant: str, lr: float = 1e-2, steps: int = 60) -> list[float]:
    """Full-batch training loss of the digits MLP (seed 0) before and after each step."""
    problem = ravine.problems.get("digits_mlp")
    torch.manual_seed(0)
    model = problem.model()
    opt, sched = adam(model.parameters(), variant, lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = problem.loss(model(problem.x_train), problem.y_train)
        losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
    with torch.no_grad():
        losses.append(float(problem.loss(model(problem.x_train), problem.y_train)))
    return losses


@styled
def draw(sizes: dict[str, list[float]], losses: dict[str, list[float]], lr: float, path):
    fig, (left, right) = figure(2)
    c = colors(list(VARIANTS), ["adam", "sgd", "rmsprop", "nesterov"])
    for v in VARIANTS:
        t = range(1, len(sizes[v]) + 1)
        left.loglog(t, [s / lr for s in sizes[v]], color=c[v], label=v)
        left.loglog(t, [formula(v, 1.0, k) for k in t], "k:", lw=0.8)
        right.semilogy(range(len(losses[v])), losses[v], color=c[v], label=v)
    left.set(xlabel="step t", ylabel="step size / lr", title="constant gradient (dots: formula)")
    right.set(xlabel="step", ylabel="training loss", title="digits MLP, full batch, lr 1e-2")
    left.legend(title="bias-corrected")
    right.legend(title="bias-corrected")
    return write(fig, path, "Adam with and without bias correction (betas 0.9, 0.999)")


def main() -> None:
    out = out_dir(__doc__)
    lr = 1e-3
    sizes = {v: step_sizes(v, lr, 1000) for v in VARIANTS}
    losses = {v: digits_losses(v) for v in VARIANTS}
    print(
        f"{'corrected':>9} {'step 1/lr':>9} {'formula':>8} {'step 10/lr':>10} "
        f"{'step 100/lr':>11} {'digits loss 1':>13} {'max 1-20':>8} {'loss 60':>8}"
    )
    for v in VARIANTS:
        s, ls = sizes[v], losses[v]
        print(
            f"{v:>9} {s[0] / lr:>9.3f} {formula(v, 1.0, 1):>8.3f} {s[9] / lr:>10.3f} "
            f"{s[99] / lr:>11.3f} {ls[1]:>13.3f} {max(ls[1:21]):>8.3f} {ls[-1]:>8.3f}"
        )
    print("initial digits loss", f"{losses['both'][0]:.3f}")
    print("wrote", draw(sizes, losses, lr, out / "adam_bias_correction.png"))


if __name__ == "__main__":
    main()
