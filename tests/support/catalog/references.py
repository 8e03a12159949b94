"""Independent references for the conventions that no library's optimizer follows exactly:
each update is written out here from its source (never from ravine's code), and
:class:`Hand` applies it as a ``torch.optim.Optimizer``. The optimizer catalog
(:mod:`support.catalog`) names which reference each convention is checked against.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


class Hand(torch.optim.Optimizer):
    """Applies an update written out in this file: update(p, g, state, t, group) in place."""

    def __init__(self, params, update: Callable, **defaults) -> None:
        self.update = update
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                state["t"] = state.get("t", 0) + 1
                self.update(p, p.grad, state, state["t"], group)
        return loss


def hand(update: Callable, **defaults) -> Callable[..., Hand]:
    """A builder ``(groups, **hyperparameters) -> Hand`` applying ``update``."""

    def build(groups, **hyperparameters) -> Hand:
        return Hand(groups, update, **{**defaults, **hyperparameters})

    build.__name__ = update.__name__
    return build


def adam_without_bias_correction(p, g, state, t, group):
    # m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; theta -= lr m / (sqrt(v) + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    p -= group["lr"] * m / (torch.sqrt(v) + group["eps"])


def nadam_dozat_constant_momentum(p, g, state, t, group):
    # optax's nadam (Dozat's simplified form, mu_t = b1):
    # m_hat = b1 m / (1 - b1^(t+1)) + (1 - b1) g / (1 - b1^t); v_hat = v / (1 - b2^t)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1**t)
    v_hat = v / (1 - b2**t)
    p -= group["lr"] * m_hat / (torch.sqrt(v_hat) + group["eps"])


def rmsprop_eps_in_sqrt(p, g, state, t, group):
    # Keras / optax: s = rho s + (1 - rho) g^2; theta -= lr g / sqrt(s + eps)
    rho = group["decay"]
    s = state["s"] = rho * state.get("s", 0 * g) + (1 - rho) * g**2
    p -= group["lr"] * g / torch.sqrt(s + group["eps"])


def adagrad_eps_in_sqrt(p, g, state, t, group):
    # optax: G = G0 + sum g^2; theta -= lr g / sqrt(G + eps)
    G = state["G"] = state.get("G", 0 * g + group["init"]) + g**2
    p -= group["lr"] * g / torch.sqrt(G + group["eps"])


def adamax_eps_in_denominator(p, g, state, t, group):
    # optax: u = max(b2 u, |g|); theta -= lr / (1 - b1^t) m / (u + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    u = state["u"] = torch.maximum(b2 * state.get("u", 0 * g), g.abs())
    p -= group["lr"] / (1 - b1**t) * m / (u + group["eps"])


def adabelief_authors(groups, **hyperparameters) -> torch.optim.Optimizer:
    """The AdaBelief authors' package, set to the paper's algorithm (no rectification,
    coupled weight decay unless asked)."""
    from adabelief_pytorch import AdaBelief

    options = {"eps": 1e-16, "rectify": False, "weight_decouple": False}
    return AdaBelief(groups, print_change_log=False, **{**options, **hyperparameters})
