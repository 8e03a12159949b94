r"""Kronecker-factored approximate curvature (K-FAC) for ``Linear`` and ``Conv2d`` layers
(Martens and Grosse 2015; Grosse and Martens 2016). Built from the model; the usual
``loss.backward(); opt.step()`` loop feeds it, through hooks that record each layer's inputs
and output gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from .base import Optimizer
from .constraints import COUNT, POSITIVE, UNIT_INTERVAL, ScalarHyperparameters
from .finite import check_gradients

__all__ = ["KFAC", "kfac_damped_inverses", "kfac_factors", "kfac_precondition"]


# ----------------------------------------------------------------------------- the rules


def kfac_factors(a: Tensor, ds: Tensor, bias: bool) -> tuple[Tensor, Tensor]:
    r"""The Kronecker factors of one layer from its inputs ``a`` [N, L, d_in] and the
    per-example output gradients ``ds`` [N, L, d_out] (L positions: 1 for ``Linear``, the
    spatial positions of ``Conv2d`` with ``a`` its unfolded patches):

    .. math:: A = \frac{1}{NL}\sum_{n,t} \bar a_{n,t} \bar a_{n,t}^\top, \qquad
              G = \frac{1}{N}\sum_{n,t} Ds_{n,t} Ds_{n,t}^\top

    with :math:`\bar a = (a, 1)` when the layer has a bias, so that the Fisher block of the
    layer's weights :math:`[W, b]` is approximated by :math:`A \otimes G` (Martens and Grosse
    2015, eq. 1; for convolutions :math:`L\, \Omega \otimes \Gamma` of Grosse and Martens 2016
    under spatial homogeneity and independence)."""
    n, positions = a.shape[0], a.shape[1]
    if bias:
        a = torch.cat([a, a.new_ones(*a.shape[:-1], 1)], dim=-1)
    a2 = a.reshape(-1, a.shape[-1])
    ds2 = ds.reshape(-1, ds.shape[-1])
    return a2.T @ a2 / (n * positions), ds2.T @ ds2 / n


def kfac_damped_inverses(a: Tensor, g: Tensor, damping: float) -> tuple[Tensor, Tensor]:
    r"""The inverses of the damped factors with factored Tikhonov damping (Martens and Grosse
    2015, section 6.3): :math:`(A + \pi\sqrt{\lambda} I)^{-1}` and
    :math:`(G + \pi^{-1}\sqrt{\lambda} I)^{-1}` with
    :math:`\pi^2 = (\mathrm{tr} A / d_A)/(\mathrm{tr} G / d_G)`, which splits the damping
    between the factors in proportion to their average eigenvalues."""
    pi = (a.trace() / a.shape[0]) / (g.trace() / g.shape[0])
    pi = pi.clamp_min(1e-12).sqrt()
    eye_a = torch.eye(a.shape[0], dtype=a.dtype, device=a.device)
    eye_g = torch.eye(g.shape[0], dtype=g.dtype, device=g.device)
    return (
        torch.linalg.inv(a + pi * damping**0.5 * eye_a),
        torch.linalg.inv(g + damping**0.5 / pi * eye_g),
    )


def kfac_precondition(grad: Tensor, a_inv: Tensor, g_inv: Tensor) -> Tensor:
    r"""K-FAC's update direction for a layer with gradient matrix :math:`V` [d_out, d_in(+1)]:
    :math:`(A \otimes G)^{-1} \mathrm{vec}(V) = \mathrm{vec}(G^{-1} V A^{-1})`."""
    return g_inv @ grad @ a_inv


# ---------------------------------------------------------------------------- the optimizer


class KFAC(ScalarHyperparameters, Optimizer):
    r"""Kronecker-factored approximate curvature (Martens and Grosse 2015) for ``nn.Linear``
    and ``nn.Conv2d`` layers (Grosse and Martens 2016).

    Per layer, the Fisher block of :math:`[W, b]` is approximated by :math:`A \otimes G`
    (:func:`kfac_factors`, from the layer inputs and the output gradients that hooks record
    during the forward and backward passes), and the update is
    :math:`\Delta = -\eta\, (G + \pi^{-1}\sqrt{\lambda} I)^{-1} V (A + \pi\sqrt{\lambda} I)^{-1}`
    (:func:`kfac_precondition`) with :math:`\pi^2 = (\mathrm{tr} A / d_A)/(\mathrm{tr} G / d_G)`
    (factored Tikhonov damping, section 6.3: :func:`kfac_damped_inverses`). Parameters of
    other modules take a plain gradient step. Optional heavy-ball ``momentum`` on the
    preconditioned update.

    The factors are exponential moving averages (``factor_decay``) refreshed every
    ``factor_update_interval`` steps, inverted every ``inverse_update_interval`` steps. The
    factors use the gradients of the loss being trained, so this is the empirical-Fisher
    variant (no sampled targets). Defaults: ``lr`` 0.01, ``damping`` 1e-3,
    ``momentum`` 0.9, ``factor_decay`` 0.95, ``factor_update_interval`` 1,
    ``inverse_update_interval`` 10.

    Use: ``opt = KFAC(model, lr=...)``, then ``loss.backward(); opt.step()`` (or
    ``opt.step(closure)`` with a closure that calls ``backward()``).

    State (all in ``state_dict``): per layer weight ``A``, ``G``, ``A_inv``, ``G_inv``; per
    parameter ``step`` and ``momentum_buffer``; K-FAC's step count ``kfac_step`` (a Python
    int, on the first parameter), which times the factor and inverse refreshes.
    """

    closure_kind = "model"

    rule = staticmethod(kfac_precondition)
    elementwise = False
    family = "second-order (Kronecker-factored)"
    paper = "Martens and Grosse 2015"
    constraints = {
        "damping": POSITIVE,
        "momentum": UNIT_INTERVAL,
        "factor_decay": UNIT_INTERVAL,
        "factor_update_interval": COUNT,
        "inverse_update_interval": COUNT,
    }

    def __init__(
        self,
        model: nn.Module,
        lr: float = 0.01,
        *,
        damping: float = 1e-3,
        momentum: float = 0.9,
        factor_decay: float = 0.95,
        factor_update_interval: int = 1,
        inverse_update_interval: int = 10,
        check_finite: bool = True,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(
                f"KFAC needs the model (a torch.nn.Module) to find its Linear and Conv2d layers, "
                f"got {type(model).__name__}"
            )
        if not any(isinstance(m, nn.Linear | nn.Conv2d) for m in model.modules()):
            raise ValueError("KFAC: the model has no nn.Linear or nn.Conv2d layer")
        super().__init__(
            [p for p in model.parameters() if p.requires_grad],
            lr=lr,
            damping=damping,
            momentum=momentum,
            factor_decay=factor_decay,
            factor_update_interval=factor_update_interval,
            inverse_update_interval=inverse_update_interval,
            check_finite=check_finite,
        )
        self.layers = [m for m in model.modules() if isinstance(m, nn.Linear | nn.Conv2d)]
        self._captured: dict[nn.Module, dict[str, Tensor]] = {}
        self._hooks = []
        for m in self.layers:
            self._hooks.append(m.register_forward_hook(self._save))

    # -- hooks ------------------------------------------------------------------------

    def _save(self, module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        """Keep the layer's input, and hook its output for the gradient the backward pass
        brings (a tensor hook: unlike a module backward hook it needs no input that
        requires grad, which the first layer's data never does)."""
        if not (torch.is_grad_enabled() and output.requires_grad):
            return
        captured = self._captured.setdefault(module, {})
        captured["a"] = inputs[0].detach()

        def save_grad(grad: Tensor) -> None:
            captured["g"] = grad.detach()

        output.register_hook(save_grad)

    @staticmethod
    def _layer_rows(module: nn.Module, a: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
        """Inputs [N, L, d_in] (unfolded patches for Conv2d) and per-example output gradients
        [N, L, d_out] (the mean loss's output gradient times N)."""
        n = a.shape[0]
        if isinstance(module, nn.Conv2d):
            patches = torch.nn.functional.unfold(
                a, module.kernel_size, module.dilation, module.padding, module.stride
            )  # [N, C k k, L]
            if module.groups != 1:
                raise ValueError("KFAC supports Conv2d with groups=1 only")
            return patches.transpose(1, 2), g.flatten(2).transpose(1, 2) * n
        return a.reshape(n, -1, a.shape[-1]), g.reshape(n, -1, g.shape[-1]) * n

    @staticmethod
    def _grad_matrix(module: nn.Module) -> Tensor:
        w = module.weight.grad.reshape(module.weight.shape[0], -1)
        if module.bias is not None:
            w = torch.cat([w, module.bias.grad[:, None]], dim=1)
        return w

    # -- step ----------------------------------------------------------------------------

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One K-FAC step from the gradients (and activations) of the last backward pass."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.check_finite:  # every gradient, before any factor, state or parameter moves
            grads = [p.grad for g in self.param_groups for p in g["params"] if p.grad is not None]
            check_gradients("KFAC", grads, [g["params"] for g in self.param_groups])
        group = self.param_groups[0]
        # K-FAC's own step count (the factor and inverse schedules follow it), kept as a
        # Python int like torch.optim.LBFGS's n_iter: state_dict carries it unchanged
        counter = self.state[group["params"][0]]
        steps = counter["kfac_step"] = counter.get("kfac_step", 0) + 1
        refresh = (steps - 1) % int(group["factor_update_interval"]) == 0
        invert = (steps - 1) % int(group["inverse_update_interval"]) == 0
        lr, mu = group["lr"], group["momentum"]
        done: set[int] = set()
        for m in self.layers:
            if m.weight.grad is None:
                continue
            st = self.state[m.weight]
            if refresh:
                self._refresh_factors(m, st, group["factor_decay"])
            if "A" not in st:
                continue
            if invert or "A_inv" not in st:
                damping = float(group["damping"])
                st["A_inv"], st["G_inv"] = kfac_damped_inverses(st["A"], st["G"], damping)
            for p, update in self._preconditioned(m, st):
                self._apply(p, update, lr, mu)
                done.add(id(p))
        for p in group["params"]:
            if id(p) not in done and p.grad is not None:
                self._apply(p, p.grad, lr, mu)
        self._captured.clear()
        return loss

    def _refresh_factors(self, m: nn.Module, st: dict[str, Any], decay: Any) -> None:
        """The layer's factors from the last forward and backward passes, averaged into the
        running ones with weight ``1 - decay`` (the first ones taken as they are)."""
        cap = self._captured.get(m, {})
        if "a" not in cap or "g" not in cap:
            return
        a_rows, g_rows = self._layer_rows(m, cap["a"], cap["g"])
        a_new, g_new = kfac_factors(a_rows, g_rows, m.bias is not None)
        if "A" in st:
            st["A"] = decay * st["A"] + (1 - decay) * a_new
            st["G"] = decay * st["G"] + (1 - decay) * g_new
        else:
            st["A"], st["G"] = a_new, g_new

    def _preconditioned(self, m: nn.Module, st: dict[str, Any]) -> list[tuple[Tensor, Tensor]]:
        """The layer's parameters with their preconditioned gradients (:func:`kfac_precondition`
        on the gradient matrix ``[dW, db]``)."""
        v = self._grad_matrix(m)
        u = kfac_precondition(v, st["A_inv"], st["G_inv"])
        updates = [(m.weight, u[:, : m.weight[0].numel()].reshape(m.weight.shape))]
        if m.bias is not None:
            updates.append((m.bias, u[:, -1]))
        return updates

    def _apply(self, p: Tensor, update: Tensor, lr: Any, mu: Any) -> None:
        st = self.state[p]
        st.setdefault("step", torch.tensor(0.0))
        st["step"] += 1
        if mu:
            buf = st.get("momentum_buffer")
            buf = update.clone() if buf is None else mu * buf + update
            st["momentum_buffer"] = buf
            update = buf
        p.sub_(lr * update)

    def remove_hooks(self) -> None:
        """Detach K-FAC's hooks from the model."""
        for h in self._hooks:
            h.remove()
        self._hooks.clear()
