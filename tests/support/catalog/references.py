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
    # Keras: u = max(b2 u, |g|); theta -= lr / (1 - b1^t) m / (u + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    u = state["u"] = torch.maximum(b2 * state.get("u", 0 * g), g.abs())
    p -= group["lr"] / (1 - b1**t) * m / (u + group["eps"])


def adam_optax(p, g, state, t, group):
    # optax's scale_by_adam / scale_by_amsgrad: m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t);
    # amsgrad: v_max = max(v_max, v_hat); theta -= lr m_hat / (sqrt(v_hat + eps_root) + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    v = state["v"] = b2 * state.get("v", 0 * g) + (1 - b2) * g**2
    v_hat = v / (1 - b2**t)
    if group.get("amsgrad"):
        v_hat = state["v_max"] = torch.maximum(state.get("v_max", 0 * g), v_hat)
    root = torch.sqrt(v_hat + group.get("eps_root", 0.0))
    p -= group["lr"] * (m / (1 - b1**t)) / (root + group["eps"])


def adabelief_optax(p, g, state, t, group):
    # optax's scale_by_belief: s = b2 s + (1 - b2) (g - m)^2 + eps_root;
    # theta -= lr m_hat / (sqrt(s / (1 - b2^t)) + eps)
    b1, b2 = group["betas"]
    m = state["m"] = b1 * state.get("m", 0 * g) + (1 - b1) * g
    s = b2 * state.get("s", 0 * g) + (1 - b2) * (g - m) ** 2 + group["eps_root"]
    state["s"] = s
    p -= group["lr"] * (m / (1 - b1**t)) / (torch.sqrt(s / (1 - b2**t)) + group["eps"])


def rmsprop_optax(p, g, state, t, group):
    # optax's rmsprop options (uncentered): s starts at initial_scale; s = rho s + (1 - rho) g^2,
    # s_hat = s / (1 - rho^t) with bias correction; d = g / (sqrt(s_hat) + eps). optax scales d
    # by lr before the trace (lr_in_momentum): b = mu b + lr d, step b, or lr d + mu b with
    # Nesterov (optax's trace); PyTorch's place for lr: b = mu b + d, step lr b (lr (d + mu b)).
    rho, mu = group["decay"], group.get("momentum", 0.0)
    s = rho * state.get("s", 0 * g + group.get("initial_scale", 0.0)) + (1 - rho) * g**2
    state["s"] = s
    s_hat = s / (1 - rho**t) if group.get("bias_correction") else s
    inside = group.get("lr_in_momentum")
    d = g / (torch.sqrt(s_hat) + group["eps"])
    d = group["lr"] * d if inside else d
    b = state["b"] = mu * state.get("b", 0 * g) + d
    step = d + mu * b if group.get("nesterov") else b
    p -= step if inside else group["lr"] * step


def adabelief_authors(groups, **hyperparameters) -> torch.optim.Optimizer:
    """The AdaBelief authors' package, set to the paper's algorithm (no rectification,
    coupled weight decay unless asked)."""
    from adabelief_pytorch import AdaBelief

    options = {"eps": 1e-16, "rectify": False, "weight_decouple": False}
    return AdaBelief(groups, print_change_log=False, **{**options, **hyperparameters})
