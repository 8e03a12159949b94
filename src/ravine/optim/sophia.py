r"""Sophia (Liu et al. 2023): a momentum step divided by an occasional diagonal curvature
estimate, clipped coordinate by coordinate.

The update is one elementwise rule, :func:`sophia`; the curvature estimate that feeds it
every ``update_interval`` steps needs more than a gradient, so :class:`Sophia` takes a
closure and differentiates it itself:

* ``estimator="gnb"`` (Sophia-G, the default): the Gauss-Newton-Bartlett estimate
  :func:`gnb_estimate`, from labels sampled from the model's own predictive distribution;
  the closure returns ``(loss, outputs)`` (``closure_kind="outputs"``), as studies on
  classification problems give it;
* ``estimator="hutchinson"`` (Sophia-H): :func:`hutchinson_estimate`,
  :math:`u \odot \nabla^2 L\, u`, from the loss alone. :class:`SophiaH` takes the plain loss
  closure (``closure_kind="loss"``), so it races on every landscape; ``sophia`` itself races
  only on the landscapes that define a model's outputs (the race refuses the others, naming
  those that would do).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ..curvature import LIKELIHOODS, hvp_graph, rademacher
from .base import Optimizer
from .constraints import BOOL, NONNEGATIVE, SEED, Betas, Choice, Integer, ScalarHyperparameters
from .rule import State, zeros

__all__ = ["Sophia", "SophiaH", "gnb_estimate", "hutchinson_estimate", "sophia"]


def sophia(
    p: Tensor, g: Tensor, state: State, t: int, *, lr, betas, rho, eps, clip
) -> tuple[Tensor, State]:
    r"""m <- b1 m + (1 - b1) g, then with the estimate h of the state:
    ``clip="paper"``: theta <- theta - lr clip(m / max(rho h, eps), 1);
    ``clip="code"``:  theta <- theta - lr sign(m) min(|m| / (rho h + eps), 1)."""
    beta1 = betas[0]
    m = beta1 * state["m"] + (1 - beta1) * g
    h = state["h"]
    if clip == "paper":
        step = (m / torch.clamp(rho * h, min=eps)).clamp(-1, 1)
    else:
        step = m.sign() * (m.abs() / (rho * h + eps)).clamp(max=1)
    return p - lr * step, {"m": m, "h": h}


def examples(outputs: Tensor, likelihood: str) -> int:
    """The number N of examples a mean loss over ``outputs`` averages: the rows of the
    logits ``[..., C]`` for a categorical likelihood (every token of a language model),
    the leading dimension otherwise (one output per example for a 1-D ``outputs``)."""
    if likelihood == "categorical":
        return outputs.numel() // outputs.shape[-1]
    return outputs.shape[0] if outputs.dim() else 1


def gnb_estimate(
    outputs: Tensor, params: list[Tensor], likelihood: str, generator: torch.Generator
) -> list[Tensor]:
    r"""The Gauss-Newton-Bartlett estimate of the diagonal of the Gauss-Newton matrix of the
    mean loss (Liu et al. 2023, Algorithm 2): labels :math:`\hat y_n` sampled from the
    model's distribution at ``outputs``, :math:`\hat L = \frac1N \sum_n \ell(z_n, \hat y_n)`,
    and :math:`\hat h = N\, \nabla \hat L \odot \nabla \hat L`, whose expectation is
    :math:`\frac1N \sum_n \mathrm{diag}(J_n^\top \nabla^2_z \ell\, J_n)` (Bartlett's
    identity: the score has mean zero and covariance the output-space Fisher).

    ``likelihood``: ``"categorical"`` (softmax logits, cross-entropy; labels drawn by
    ``torch.multinomial`` from the softmax), ``"bernoulli"`` (one logit per output, labels
    ``u < sigmoid(z)`` for uniform ``u``), ``"gaussian"`` (unit variance,
    :math:`\hat y = z + \varepsilon`). ``outputs`` must hold its graph to ``params``."""
    z = outputs
    n = examples(z, likelihood)
    with torch.no_grad():
        if likelihood == "categorical":
            probs = torch.softmax(z.detach().reshape(n, -1), dim=-1)
            labels = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
        elif likelihood == "bernoulli":
            u = torch.rand(z.shape, generator=generator, dtype=z.dtype, device=z.device)
            labels = (u < torch.sigmoid(z.detach())).to(z.dtype)
        else:
            noise = torch.randn(z.shape, generator=generator, dtype=z.dtype, device=z.device)
            labels = z.detach() + noise
    if likelihood == "categorical":
        sampled = F.cross_entropy(z.reshape(n, -1), labels)
    elif likelihood == "bernoulli":
        sampled = F.binary_cross_entropy_with_logits(z, labels, reduction="sum") / n
    else:
        sampled = 0.5 * ((z - labels) ** 2).sum() / n
    grads = torch.autograd.grad(sampled, params, retain_graph=True, allow_unused=True)
    return [zeros(p) if g is None else n * (g * g) for p, g in zip(params, grads, strict=True)]


def hutchinson_estimate(
    grads: list[Tensor], params: list[Tensor], generator: torch.Generator
) -> list[Tensor]:
    r"""Hutchinson's estimate :math:`u \odot \nabla^2 L\, u` of the Hessian diagonal, one
    Rademacher probe ``u`` per parameter (Sophia-H); ``grads`` must hold their graph."""
    us = rademacher(params, generator)
    hus = hvp_graph(grads, params, us)  # zero where a gradient has no graph
    return [u * hu for u, hu in zip(us, hus, strict=True)]


def _GRADIENTS_SET() -> None:
    """The closure handed to the base step once Sophia has set the gradients: nothing to
    evaluate (the base step insists on a closure where ``needs_closure``)."""


class Sophia(ScalarHyperparameters, Optimizer):
    r"""Sophia-G: momentum over a clipped, diagonally preconditioned step (Liu et al. 2023,
    Algorithm 3).

    Every ``update_interval`` (k) steps, with an estimate :math:`\hat h_t` of the diagonal
    curvature (:func:`gnb_estimate` or :func:`hutchinson_estimate`)::

        h_t = b2 h_{t-k} + (1 - b2) h_hat_t        (h_t = h_{t-1} between estimates)
        m_t = b1 m_{t-1} + (1 - b1) g_t
        theta_{t+1} = theta_t (1 - eta lambda) - eta clip(m_t / max(rho h_t, eps), 1)

    ==========================  ===========================  ==============================
    symbol                      argument                     default
    ==========================  ===========================  ==============================
    eta                         ``lr``                       1e-4 (the authors' code)
    b1, b2                      ``betas``                    (0.965, 0.99), in [0, 1)
    rho (gamma in the paper)    ``rho``                      0.04 (>= 0)
    eps                         ``eps``                      1e-15 (>= 0)
    lambda                      ``weight_decay``             0.1, decoupled (AdamW's form)
    k                           ``update_interval``          10 (an integer >= 1)
    clipping                    ``clip``                     "paper": clip(m / max(rho h,
                                                             eps), 1); "code": sign(m)
                                                             min(|m| / (rho h + eps), 1)
    h_hat                       ``estimator``                None: "gnb" (Sophia-G; for
                                                             SophiaH "hutchinson");
                                                             "hutchinson"
    label distribution          ``likelihood``               "categorical" (softmax);
                                                             "bernoulli"; "gaussian"
    first estimate at t = 1     ``estimate_at_first_step``   True (the paper: t mod k = 1);
                                                             False: h = 0 until after step
                                                             k (the authors' training loop)
    probes and labels           ``seed``                     0
    ==========================  ===========================  ==============================

    The authors' ``SophiaG`` keeps :math:`\nabla \hat L \odot \nabla \hat L` and multiplies
    it by a batch size ``bs`` in the step (``rho * bs * h``); ravine keeps
    :math:`\hat h = N \nabla \hat L \odot \nabla \hat L` with N the examples of the batch
    (:func:`examples`), the paper's estimate: the two agree when ``bs`` is that N. With
    ``clip="code"`` and ``estimate_at_first_step=False`` the numbers are the authors'
    (their estimate follows step k on the next batch; here it is taken at the start of step
    k + 1, at the same parameters). The paper and code forms of the clipping differ only
    where :math:`\rho h` is near ``eps``.

    Closure: ``step(closure)`` with ``closure()`` returning ``(loss, outputs)`` without
    ``backward()`` (the loss a scalar mean, or the vector of per-example losses, averaged);
    ``outputs`` the logits for ``"categorical"``. Sophia differentiates it: one gradient per
    step, and every k steps one more backward pass through the sampled loss (GNB) or a
    Hessian-vector product (Hutchinson). ``elementwise`` is False: the estimate needs the
    closure, so a race steps one trajectory at a time. The label and probe generator's state
    is kept in the first parameter's state (``"generator"``), so a resumed run draws the
    same labels.

    Reference: Liu, Li, Hall, Liang and Ma, "Sophia: A Scalable Stochastic Second-order
    Optimizer for Language Model Pre-training", ICLR 2024 (arXiv 2023).
    """

    rule = staticmethod(sophia)
    constraints = {
        "betas": Betas(),
        "rho": NONNEGATIVE,
        "eps": NONNEGATIVE,
        "clip": Choice(("paper", "code")),
        "update_interval": Integer(1),
        "estimator": Choice((None, "gnb", "hutchinson")),
        "likelihood": Choice(LIKELIHOODS),
        "estimate_at_first_step": BOOL,
        "seed": SEED,
    }
    closure_kind = "outputs"
    default_estimator = "gnb"  # what estimator=None means: the one the closure allows
    needs_closure = True
    elementwise = False
    family = "second-order (diagonal)"
    paper = "Liu et al. 2023"

    def __init__(
        self,
        params: Any,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.965, 0.99),
        rho: float = 0.04,
        weight_decay: float = 0.1,
        *,
        eps: float = 1e-15,
        clip: str = "paper",
        update_interval: int = 10,
        estimator: str | None = None,
        likelihood: str = "categorical",
        estimate_at_first_step: bool = True,
        seed: int = 0,
        decoupled_weight_decay: bool = True,
        maximize: bool = False,
        check_finite: bool = True,
    ) -> None:
        options = {
            "update_interval": update_interval,
            "estimator": estimator,
            "likelihood": likelihood,
            "estimate_at_first_step": estimate_at_first_step,
            "seed": seed,
        }
        self.validate(options)
        estimator = estimator or self.default_estimator
        if estimator == "gnb" and self.closure_kind != "outputs":
            raise ValueError(
                f"{type(self).__name__}: invalid estimator='gnb'; its closure returns the "
                "loss alone, without the outputs the labels are sampled from; allowed: "
                "'hutchinson' (or use Sophia, whose closure returns (loss, outputs))"
            )
        self.update_interval, self.estimator = update_interval, estimator
        self.likelihood, self.estimate_at_first_step = likelihood, estimate_at_first_step
        self._seed = seed
        self._generator = torch.Generator().manual_seed(seed)
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            rho=rho,
            weight_decay=weight_decay,
            eps=eps,
            clip=clip,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
            check_finite=check_finite,
        )

    def init_state(self, p: Tensor, group: Any) -> State:
        return {"m": zeros(p), "h": zeros(p)}

    def _params(self) -> list[tuple[dict[str, Any], Tensor]]:
        return [(g, p) for g in self.param_groups for p in g["params"] if p.requires_grad]

    def _due(self, members: list[tuple[dict[str, Any], Tensor]]) -> bool:
        """Whether this step takes a new estimate: t mod k = 1, t the coming step (1-based);
        without ``estimate_at_first_step``, not at t = 1."""
        done = int(self._state_of(members[0][1], members[0][0])["step"])
        return done % self.update_interval == 0 and (done > 0 or self.estimate_at_first_step)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:  # type: ignore[override]
        """One Sophia step on the closure's loss (a new curvature estimate first when one is
        due); returns the loss before the step."""
        if closure is None:
            raise RuntimeError(f"{type(self).__name__}.step needs a closure")
        members = self._params()
        params = [p for _, p in members]
        with torch.enable_grad():
            returned = closure()
            loss, outputs = returned if self.closure_kind == "outputs" else (returned, None)
            loss = loss.mean() if loss.dim() > 0 else loss
            due = bool(members) and self._due(members)
            hutchinson = due and self.estimator == "hutchinson"
            grads = torch.autograd.grad(
                loss, params, create_graph=hutchinson, retain_graph=due, allow_unused=True
            )
            estimates = None
            if hutchinson:
                estimates = hutchinson_estimate(grads, params, self._generator)
            elif due:
                estimates = gnb_estimate(outputs, params, self.likelihood, self._generator)
        for p, g in zip(params, grads, strict=True):
            p.grad = None if g is None else g.detach()
        if estimates is not None:
            with torch.no_grad():
                for (group, p), h_hat in zip(members, estimates, strict=True):
                    state, beta2 = self._state_of(p, group), group["betas"][1]
                    state["h"] = beta2 * state["h"] + (1 - beta2) * h_hat.detach()
        super().step(_GRADIENTS_SET)
        if members:
            self.state[params[0]]["generator"] = self._generator.get_state()
        return loss.detach()

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """The base ``load_state_dict``, then the generator's state where one was saved
        (torch casts it to the parameter's dtype; its bytes are exact, cast back here)."""
        super().load_state_dict(state_dict)
        members = self._params()
        owner = self.state.get(members[0][1], {}) if members else {}
        if "generator" in owner:
            owner["generator"] = owner["generator"].to(device="cpu", dtype=torch.uint8)
            self._generator.set_state(owner["generator"])
        else:
            self._generator.manual_seed(self._seed)


class SophiaH(Sophia):
    r"""Sophia-H: :class:`Sophia` with Hutchinson's estimate :math:`u \odot \nabla^2 L\, u`
    (:func:`hutchinson_estimate`) on a closure that returns the loss alone, without
    ``backward()`` (``closure_kind="loss"``): it needs no model outputs, so it races on
    every landscape. Defaults and options as :class:`Sophia`, whose ``estimator`` (None)
    is then ``"hutchinson"`` (and ``likelihood`` unused)."""

    closure_kind = "loss"
    default_estimator = "hutchinson"
