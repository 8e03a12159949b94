"""Newton against gradient descent on an ill-conditioned ravine, as the condition number grows.

The ravine is f(x) = 1/2 x^T A x with A = R diag(1, ..., kappa) R^T in 10 dimensions (R a fixed
rotation, so the ravine is not axis-aligned) plus a non-quadratic variant
f(x) = sum_i lambda_i (u_i^2 / 2 + u_i^4 / 4), u = R^T x, whose curvature grows away from the
minimum. Gradient descent uses the best fixed step for the quadratic, 2 / (lambda_min +
lambda_max) (for the quartic, started at u = 0.3 where the curvature is at most 1.27 lambda:
2 / (lambda_min + 1.3 lambda_max)). On the quadratic the slowest mode shrinks f by
((kappa-1)/(kappa+1))^2 per step, so theory predicts ln(1/eps) / (2 ln((kappa+1)/(kappa-1))),
about (kappa/4) ln(1/eps), iterations. Newton uses the exact
Hessian (with Armijo backtracking on the quartic). All condition numbers run as one batch for
gradient descent: one row of a [K, 10] parameter per kappa, a [K, 1] learning-rate tensor.

Prints a table and writes docs/figures/second_order/newton_vs_gd_condition.png.
Run: python examples/newton_vs_gd_condition.py   (a few seconds)
"""

from __future__ import annotations

import math

import torch
from _common import FIGURES, made, parser

import ravine.optim as ro
from ravine.plot.curvature import iterations_vs_condition

torch.set_default_dtype(torch.float64)
DIM, TOL, CAP = 10, 1e-6, 100_000
START = {"quadratic": 1.0, "quartic": 0.3}  # quartic: curvature at start <= 1.27 lambda


_R = torch.linalg.qr(torch.randn(DIM, DIM, generator=torch.Generator().manual_seed(0)))[0]


def spectrum(kappas) -> torch.Tensor:
    """[K, DIM] eigenvalues, log-spaced from 1 to kappa."""
    return torch.stack([torch.logspace(0, math.log10(k), DIM) for k in kappas])


def landscape(lam: torch.Tensor, kind: str):
    """f(x) for x [..., DIM] and eigenvalues lam [..., DIM]: one value per row."""

    def f(x):
        u = x @ _R
        if kind == "quadratic":
            return 0.5 * (lam * u * u).sum(-1)
        return (lam * (u * u / 2 + u**4 / 4)).sum(-1)

    return f


def gd_iterations(kappas, kind: str) -> list[int]:
    """Gradient descent on all condition numbers at once (rows), until f <= TOL f0 per row."""
    lam = spectrum(kappas)
    f = landscape(lam, kind)
    scale = 1.0 if kind == "quadratic" else 1.3
    lr = (2 / (lam[:, :1] + scale * lam[:, -1:])).clone()
    x = (START[kind] * torch.ones(len(kappas), DIM) @ _R.T).requires_grad_(True)
    opt = ro.SGD([x], lr=lr)
    f0 = f(x).detach()
    done = torch.full((len(kappas),), -1)
    for k in range(CAP):
        opt.zero_grad()
        values = f(x)
        reached = (values.detach() <= TOL * f0) & (done < 0)
        done[reached] = k
        if bool((done >= 0).all()):
            break
        values.sum().backward()
        opt.step()
    return [int(d) if d >= 0 else CAP for d in done]


def newton_iterations(kappa: float, kind: str) -> int:
    lam = spectrum([kappa])[0]
    f = landscape(lam, kind)
    x = (START[kind] * torch.ones(DIM) @ _R.T).requires_grad_(True)
    kw = {} if kind == "quadratic" else {"line_search_fn": "backtracking"}
    opt = ro.Newton([x], **kw)
    f0 = float(f(x).detach())
    for k in range(1000):
        if float(f(x).detach()) <= TOL * f0:
            return k
        opt.step(lambda: f(x))
    return 1000


def main() -> None:
    ap = parser(__doc__, FIGURES / "second_order")
    args = ap.parse_args()
    kappas = [1, 10, 100, 1_000, 3_000]
    table = {}
    for kind in ("quadratic", "quartic"):
        gd = gd_iterations(kappas, kind)
        for kappa, its in zip(kappas, gd, strict=True):
            table[(kind, kappa)] = (its, newton_iterations(kappa, kind))
    head = ("landscape", "kappa", "GD iters", "Newton iters", "theory (GD)")
    print("{:>10} {:>7} {:>9} {:>13} {:>18}".format(*head))
    for (kind, kappa), (gd, nt) in table.items():
        rate = math.log((kappa + 1) / (kappa - 1)) if kappa > 1 else math.inf
        theory = math.log(1 / TOL) / (2 * rate) if kind == "quadratic" else float("nan")
        print(f"{kind:>10} {kappa:>7} {gd:>9} {nt:>13} {theory:>18.0f}")
    series = {f"GD, {k}": [table[(k, c)][0] for c in kappas] for k in ("quadratic", "quartic")} | {
        f"Newton, {k}": [table[(k, c)][1] for c in kappas] for k in ("quadratic", "quartic")
    }
    path = iterations_vs_condition(
        kappas,
        series,
        made(args.out) / "newton_vs_gd_condition.png",
        title=f"Iterations to f < {TOL:g} f0, {DIM}-d ravine",
    )
    print("wrote", path)


if __name__ == "__main__":
    main()
