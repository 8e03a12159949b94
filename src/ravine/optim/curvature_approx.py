r"""Cheap curvature approximations: diagonal (AdaHessian) and block-diagonal Newton.

* :class:`DiagonalNewton`: Hutchinson's estimate of the Hessian diagonal in Adam's moments
  (AdaHessian, Yao et al. 2021). Closure returns the loss without ``backward()``.
* :class:`BlockDiagonalNewton`: exact Newton on each diagonal block of the Hessian (one block
  per parameter tensor, or per param group), with the saddle-free absolute value of the
  eigenvalues (Dauphin et al. 2014). Closure returns the loss without ``backward()``.

The Kronecker-factored approximation, :class:`~ravine.optim.kfac.KFAC`, has its own module
(and is importable from here as before).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..curvature import flatten, hvp_graph, rademacher, unflatten
from .closure import COUNT, ClosureOptimizer, Point
from .constraints import POSITIVE, SEED, Betas, Choice, Range
from .directions import saddle_free_direction
from .kfac import KFAC, kfac_factors, kfac_precondition
from .rule import zeros

__all__ = [
    "KFAC",
    "BlockDiagonalNewton",
    "DiagonalNewton",
    "adahessian",
    "kfac_factors",
    "kfac_precondition",
    "saddle_free_direction",
]


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
    constraints = {
        "betas": Betas(),
        "eps": POSITIVE,
        "hessian_power": Range(0.0, 1.0),
        "seed": SEED,
    }

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
        self.validate({"seed": seed})  # before torch's manual_seed sees it
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

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One AdaHessian step per param group; returns the loss before it. The probe
        generator's state is saved in the optimizer state afterwards."""
        loss = super().step(closure)
        self._generator_owner()["generator"] = self._generator.get_state()
        return loss

    def _iterate(self, closure: Callable[[], Any], group: dict[str, Any]) -> Any:
        """The :func:`adahessian` rule on each parameter with its own moments and step count:
        an elementwise rule fed the Hutchinson diagonal, not a direction in the flat vector."""
        params = self._params(group)
        at = self._evaluate(closure, params, group)
        zs = rademacher(params, self._generator)
        with torch.enable_grad():
            hz = hvp_graph(at.grads, params, zs)
        for p, g, z, h in zip(params, unflatten(at.g, params), zs, hz, strict=True):
            state = self.state[p]
            if not state:
                state.update(step=torch.tensor(0.0), m=zeros(p), v=zeros(p))
            state["step"] += 1
            hyper = {k: group[k] for k in ("lr", "betas", "eps", "hessian_power")}
            new_p, new = adahessian(p, g, z * h, state, int(state["step"]), **hyper)
            p.copy_(new_p)
            state.update(new)
        return at.loss

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
    constraints = {"damping": POSITIVE, "max_block": COUNT, "blocks": Choice(("tensor", "group"))}

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
        self.validate({"blocks": blocks})
        self.blocks = blocks
        super().__init__(
            params, lr=lr, damping=damping, max_block=max_block, check_finite=check_finite
        )
        for group in self.param_groups:
            params = self._params(group)
            for block in self._blocks(group):
                n = sum(params[i].numel() for i in block)
                if n > group["max_block"]:
                    raise ValueError(
                        f"BlockDiagonalNewton: a block of {n} parameters exceeds max_block="
                        f"{group['max_block']}; use blocks='tensor', raise max_block, or use KFAC"
                    )

    def _blocks(self, group: dict[str, Any]) -> list[list[int]]:
        """The blocks, as lists of positions among the group's parameters."""
        n = len(self._params(group))
        return [list(range(n))] if self.blocks == "group" else [[i] for i in range(n)]

    def direction(
        self, at: Point, group: dict[str, Any], state: dict[str, Any], damping: float
    ) -> Tensor:
        """:func:`saddle_free_direction` on each block, concatenated in parameter order."""
        grads = unflatten(at.g, at.params)
        return torch.cat(
            [
                saddle_free_direction(at.hessian(b), flatten([grads[i] for i in b]), damping)
                for b in self._blocks(group)
            ]
        )
