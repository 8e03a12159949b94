r"""Cheap curvature approximations: diagonal (AdaHessian), block-diagonal, Kronecker-factored.

* :class:`DiagonalNewton`: Hutchinson's estimate of the Hessian diagonal in Adam's moments
  (AdaHessian, Yao et al. 2021). Closure returns the loss without ``backward()``.
* :class:`BlockDiagonalNewton`: exact Newton on each diagonal block of the Hessian (one block
  per parameter tensor, or per param group), with the saddle-free absolute value of the
  eigenvalues (Dauphin et al. 2014). Closure returns the loss without ``backward()``.
* :class:`KFAC`: Kronecker-factored approximate curvature for ``Linear`` and ``Conv2d`` layers
  (Martens and Grosse 2015; Grosse and Martens 2016). Built from the model; the usual
  ``loss.backward(); opt.step()`` loop feeds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ..curvature import flatten, hessian_graph, hvp_graph
from .base import POSITIVE, UNIT_INTERVAL, Betas, Optimizer, Range, all_finite, zeros
from .closure import ClosureOptimizer

__all__ = [
    "KFAC",
    "BlockDiagonalNewton",
    "DiagonalNewton",
    "adahessian",
    "kfac_factors",
    "kfac_precondition",
    "saddle_free_direction",
]

COUNT = Range(1.0)


# ----------------------------------------------------------------------------- the rules


def adahessian(
    p: Tensor,
    g: Tensor,
    d: Tensor,
    state: dict[str, Tensor],
    t: int,
    *,
    lr,
    betas,
    eps,
    hessian_power,
) -> tuple[Tensor, dict[str, Tensor]]:
    r"""AdaHessian (Yao et al. 2021) with the Hutchinson diagonal :math:`D = z \odot Hz`::

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) D^2
    p <- p - lr (m / (1 - b1^t)) / ((v / (1 - b2^t))^(k/2) + eps)
    """
    b1, b2 = betas
    m = b1 * state["m"] + (1 - b1) * g
    v = b2 * state["v"] + (1 - b2) * d * d
    denom = (v / (1 - b2**t)) ** (hessian_power / 2) + eps
    return p - lr * (m / (1 - b1**t)) / denom, {"m": m, "v": v}


def saddle_free_direction(h: Tensor, g: Tensor, damping: float) -> Tensor:
    r"""Saddle-free Newton direction :math:`d = -(|H| + \lambda I)^{-1} g` with
    :math:`|H| = V |\Lambda| V^\top` (Dauphin et al. 2014): Newton's rescaling by curvature,
    but moving downhill along negative-curvature directions instead of towards the saddle."""
    evals, evecs = torch.linalg.eigh(h)
    return -evecs @ ((evecs.T @ g) / (evals.abs() + damping))


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


def kfac_precondition(grad: Tensor, a_inv: Tensor, g_inv: Tensor) -> Tensor:
    r"""K-FAC's update direction for a layer with gradient matrix :math:`V` [d_out, d_in(+1)]:
    :math:`(A \otimes G)^{-1} \mathrm{vec}(V) = \mathrm{vec}(G^{-1} V A^{-1})`."""
    return g_inv @ grad @ a_inv


# --------------------------------------------------------------------------- DiagonalNewton


class DiagonalNewton(ClosureOptimizer):
    r"""Diagonal Newton in AdaHessian form (Yao et al. 2021): Adam whose second moment tracks
    the squared Hutchinson estimate :math:`D = z \odot Hz` of the Hessian diagonal (one
    Rademacher probe ``z`` per step) instead of :math:`g^2`; see :func:`adahessian`.

    Defaults (the paper's): ``lr`` 0.15, ``betas`` (0.9, 0.999), ``eps`` 1e-4,
    ``hessian_power`` 1. The paper's spatial averaging of D over convolution kernels is not
    done. Closure: returns the loss without calling ``backward()`` (one Hessian-vector product
    per step, about twice the cost of a gradient).

    The probes come from a generator seeded with ``seed``; its state
    (``torch.Generator.get_state()``) is kept in the optimizer state, under ``"generator"`` on
    the first parameter, so that a run resumed from ``state_dict()`` draws the same probes.
    """

    closure_kind = "loss"

    rule = staticmethod(adahessian)
    family = "second-order (diagonal)"
    paper = "Yao et al. 2021 (AdaHessian)"
    constraints = {"betas": Betas(), "eps": POSITIVE, "hessian_power": Range(0.0, 1.0)}

    def __init__(
        self,
        params: Any,
        lr: float = 0.15,
        *,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-4,
        hessian_power: float = 1.0,
        seed: int = 0,
        check_finite: bool = True,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            hessian_power=hessian_power,
            check_finite=check_finite,
        )
        self._seed = seed
        self._generator = torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One AdaHessian step per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            _, loss, grads = self._loss_and_grad(closure, params)
            first = loss.detach() if first is None else first
            zs = [
                (2 * torch.randint(0, 2, p.shape, generator=self._generator) - 1).to(p)
                for p in params
            ]
            with torch.enable_grad():
                hz = hvp_graph(grads, params, zs)
            for p, g, z, h in zip(params, grads, zs, hz, strict=True):
                g = g.detach()
                self._check(g)
                state = self.state[p]
                if not state:
                    state.update(step=torch.tensor(0.0), m=zeros(p), v=zeros(p))
                state["step"] += 1
                new_p, new = adahessian(
                    p,
                    g,
                    z * h,
                    state,
                    int(state["step"]),
                    lr=group["lr"],
                    betas=group["betas"],
                    eps=group["eps"],
                    hessian_power=group["hessian_power"],
                )
                p.copy_(new_p)
                state.update(new)
        self._generator_owner()["generator"] = self._generator.get_state()
        return first

    def _generator_owner(self) -> dict[str, Any]:
        """The state holding the probe generator's state: the first parameter's."""
        return self.state[self.param_groups[0]["params"][0]]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """torch's ``load_state_dict``, then the probe generator's state where one was saved.

        torch casts every state tensor but ``step`` to its parameter's dtype; the generator
        state holds bytes (0 to 255, exact in every floating dtype), cast back here."""
        super().load_state_dict(state_dict)
        owner = self._generator_owner()
        if "generator" in owner:
            owner["generator"] = owner["generator"].to(device="cpu", dtype=torch.uint8)
            self._generator.set_state(owner["generator"])
        else:  # saved before the first step: the probes start from the seed
            self._generator.manual_seed(self._seed)


# ---------------------------------------------------------------------- block-diagonal


class BlockDiagonalNewton(ClosureOptimizer):
    r"""Newton on the diagonal blocks of the Hessian: :math:`x_b \leftarrow x_b + \eta d_b`,
    :math:`d_b = -(|H_{bb}| + \lambda I)^{-1} g_b` (:func:`saddle_free_direction`).

    ``blocks="tensor"`` (default): one block per parameter tensor (a layer's weight and its
    bias are two blocks); ``blocks="group"``: one block per param group (give each layer its
    own group for per-layer blocks). Each block must hold at most ``max_block`` entries
    (dense :math:`n_b^2` Hessian, :math:`n_b^3` eigendecomposition). Defaults: ``lr`` 1,
    ``damping`` 1e-3. Closure: returns the loss without calling ``backward()``.
    """

    closure_kind = "loss"

    rule = staticmethod(saddle_free_direction)
    family = "second-order (block-diagonal)"
    paper = "Dauphin et al. 2014 (saddle-free Newton); Martens and Grosse 2015 (blocks)"
    constraints = {"damping": POSITIVE, "max_block": COUNT}

    def __init__(
        self,
        params: Any,
        lr: float = 1.0,
        *,
        damping: float = 1e-3,
        blocks: str = "tensor",
        max_block: int = 4096,
        check_finite: bool = True,
    ) -> None:
        if blocks not in ("tensor", "group"):
            raise ValueError(
                f"BlockDiagonalNewton: invalid blocks={blocks!r}; allowed: 'tensor', 'group'"
            )
        self.blocks = blocks
        super().__init__(
            params, lr=lr, damping=damping, max_block=max_block, check_finite=check_finite
        )
        for group in self.param_groups:
            for block in self._blocks(group):
                n = sum(p.numel() for p in block)
                if n > group["max_block"]:
                    raise ValueError(
                        f"BlockDiagonalNewton: a block of {n} parameters exceeds max_block="
                        f"{group['max_block']}; use blocks='tensor', raise max_block, or use KFAC"
                    )

    def _blocks(self, group: dict[str, Any]) -> list[list[Tensor]]:
        params = self._params(group)
        return [params] if self.blocks == "group" else [[p] for p in params]

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One block-Newton step per param group; returns the loss before it."""
        closure = self._require_closure(closure)
        first = None
        for group in self.param_groups:
            params = self._params(group)
            _, loss, grads = self._loss_and_grad(closure, params)
            first = loss.detach() if first is None else first
            by_param = dict(zip(map(id, params), grads, strict=True))
            updates = []
            for block in self._blocks(group):
                gb = [by_param[id(p)] for p in block]
                g = flatten(gb).detach()
                self._check(g)
                with torch.enable_grad():
                    h = hessian_graph(gb, block).detach()
                updates.append((block, saddle_free_direction(h, g, float(group["damping"]))))
            for block, d in updates:
                self._add(block, float(group["lr"]), d)
            self._group_state(group)["step"] += 1
        return first


# ---------------------------------------------------------------------------------- K-FAC


class KFAC(Optimizer):
    r"""Kronecker-factored approximate curvature (Martens and Grosse 2015) for ``nn.Linear``
    and ``nn.Conv2d`` layers (Grosse and Martens 2016).

    Per layer, the Fisher block of :math:`[W, b]` is approximated by :math:`A \otimes G`
    (:func:`kfac_factors`, from the layer inputs and the output gradients that hooks record
    during the forward and backward passes), and the update is
    :math:`\Delta = -\eta\, (G + \pi^{-1}\sqrt{\lambda} I)^{-1} V (A + \pi\sqrt{\lambda} I)^{-1}`
    (:func:`kfac_precondition`) with :math:`\pi^2 = (\mathrm{tr} A / d_A)/(\mathrm{tr} G / d_G)`
    (factored Tikhonov damping, section 6.3). Parameters of other modules take a plain gradient
    step. Optional heavy-ball ``momentum`` on the preconditioned update.

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
        if not self.layers:
            raise ValueError("KFAC: the model has no nn.Linear or nn.Conv2d layer")
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
        group = self.param_groups[0]
        # K-FAC's own step count (the factor and inverse schedules follow it), kept as a
        # Python int like torch.optim.LBFGS's n_iter: state_dict carries it unchanged
        counter = self.state[group["params"][0]]
        steps = counter["kfac_step"] = counter.get("kfac_step", 0) + 1
        lr, lam, mu = group["lr"], float(group["damping"]), group["momentum"]
        refresh = (steps - 1) % int(group["factor_update_interval"]) == 0
        invert = (steps - 1) % int(group["inverse_update_interval"]) == 0
        done: set[int] = set()
        for m in self.layers:
            if m.weight.grad is None:
                continue
            st = self.state[m.weight]
            cap = self._captured.get(m, {})
            if refresh and "a" in cap and "g" in cap:
                a_rows, g_rows = self._layer_rows(m, cap["a"], cap["g"])
                a_new, g_new = kfac_factors(a_rows, g_rows, m.bias is not None)
                beta = group["factor_decay"]
                if "A" in st:
                    st["A"] = beta * st["A"] + (1 - beta) * a_new
                    st["G"] = beta * st["G"] + (1 - beta) * g_new
                else:
                    st["A"], st["G"] = a_new, g_new
            if "A" not in st:
                continue
            if invert or "A_inv" not in st:
                pi = (st["A"].trace() / st["A"].shape[0]) / (st["G"].trace() / st["G"].shape[0])
                pi = pi.clamp_min(1e-12).sqrt()
                eye_a = torch.eye(st["A"].shape[0], dtype=st["A"].dtype, device=st["A"].device)
                eye_g = torch.eye(st["G"].shape[0], dtype=st["G"].dtype, device=st["G"].device)
                st["A_inv"] = torch.linalg.inv(st["A"] + pi * lam**0.5 * eye_a)
                st["G_inv"] = torch.linalg.inv(st["G"] + lam**0.5 / pi * eye_g)
            v = self._grad_matrix(m)
            if self.check_finite and not bool(all_finite(v)):
                raise FloatingPointError("KFAC: non-finite gradient; pass check_finite=False")
            u = kfac_precondition(v, st["A_inv"], st["G_inv"])
            w_update = u[:, : m.weight[0].numel()].reshape(m.weight.shape)
            updates = [(m.weight, w_update)]
            if m.bias is not None:
                updates.append((m.bias, u[:, -1]))
            for p, upd in updates:
                self._apply(p, upd, lr, mu)
                done.add(id(p))
        for p in group["params"]:
            if id(p) not in done and p.grad is not None:
                self._apply(p, p.grad, lr, mu)
        self._captured.clear()
        return loss

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
