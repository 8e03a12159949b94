r"""Curvature: Hessian-vector products, Gauss-Newton and Fisher products, spectra, sharpness.

Everything here is matrix-free (one product costs about two gradients) except the dense
``hessian``/``ggn``/``fisher`` meant for small models and tests. Every function takes an
*objective* ``f`` and a point ``x`` (a flat vector):

* a plain callable ``f(x) -> scalar`` (a landscape's ``loss`` works as is; a landscape object
  with a ``loss`` method is accepted too);
* an :class:`Objective` built by :func:`objective` from ``(model, loss_fn, (inputs, targets))``:
  it is a callable of the flat parameter vector, knows the model's current parameters
  (``x`` defaults to them) and, for the Gauss-Newton and Fisher products, the split
  ``loss = output_loss(outputs(theta))``.

The matrices, for a loss :math:`L(\theta) = \frac1N \sum_n \ell(z_n(\theta), y_n)` with network
outputs :math:`z_n` and output Jacobians :math:`J_n = \partial z_n / \partial\theta`:

* Hessian :math:`H = \nabla^2 L`;
* generalized Gauss-Newton (Schraudolph 2002) :math:`G = J^\top (\nabla_z^2 L) J`;
* true Fisher :math:`F = \frac1N \sum_n J_n^\top F_z(z_n) J_n` with the likelihood's Fisher in
  output space :math:`F_z` (categorical: :math:`\mathrm{diag}(p) - p p^\top`, Bernoulli:
  :math:`\sigma(1-\sigma)`, unit Gaussian: :math:`I`); for a canonical link it equals the GGN
  of the matching negative log-likelihood (Martens 2014, "New insights and perspectives on the
  natural gradient method");
* empirical Fisher :math:`\hat F = \frac1N \sum_n \nabla\ell_n \nabla\ell_n^\top`.

Low-level products on an autograd graph (``*_graph`` functions) are what the second-order
optimizers in :mod:`ravine.optim` use; the functions taking ``f`` build that graph.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

__all__ = [
    "Objective",
    "eigenvalue_density",
    "fisher",
    "fisher_vp",
    "flatten",
    "ggn",
    "ggn_vp",
    "hessian",
    "hessian_graph",
    "hutchinson_diagonal",
    "hutchinson_trace",
    "hvp",
    "hvp_graph",
    "jvp_graph",
    "lanczos",
    "objective",
    "output_fisher_vp",
    "sharpness",
    "top_eigenpairs",
    "unflatten",
]

LIKELIHOODS = ("categorical", "bernoulli", "gaussian")


# ----------------------------------------------------------------------- flat parameters


def flatten(tensors: Sequence[Tensor]) -> Tensor:
    """Concatenate tensors into one flat vector (a copy)."""
    return torch.cat([t.reshape(-1) for t in tensors])


def unflatten(vector: Tensor, like: Sequence[Tensor]) -> list[Tensor]:
    """Split a flat vector into views shaped like ``like``."""
    total = sum(t.numel() for t in like)
    if vector.numel() != total:
        raise ValueError(f"vector has {vector.numel()} entries, the tensors hold {total}")
    out, offset = [], 0
    for t in like:
        n = t.numel()
        out.append(vector[offset : offset + n].view_as(t))
        offset += n
    return out


# ---------------------------------------------------------------- products on a graph


def hvp_graph(
    grads: Sequence[Tensor], params: Sequence[Tensor], v: Sequence[Tensor]
) -> list[Tensor]:
    r"""Hessian-vector product by double backward (Pearlmutter 1994):
    :math:`Hv = \nabla_\theta (\nabla_\theta L \cdot v)`, from gradients built with
    ``create_graph=True``. The graph is kept for further products."""
    out = torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if o is None else o for o, p in zip(out, params, strict=True)]


def hessian_graph(grads: Sequence[Tensor], params: Sequence[Tensor]) -> Tensor:
    """The dense Hessian [N, N] from gradients built with ``create_graph=True`` (N products,
    batched with ``is_grads_batched``); rows and columns in flattened ``params`` order."""
    g = flatten(grads)
    eye = torch.eye(g.numel(), dtype=g.dtype, device=g.device)
    try:
        rows = torch.autograd.grad(
            g, params, grad_outputs=eye, retain_graph=True, is_grads_batched=True, allow_unused=True
        )
        rows = [
            torch.zeros(g.numel(), *p.shape, dtype=g.dtype, device=g.device) if r is None else r
            for r, p in zip(rows, params, strict=True)
        ]
        h = torch.cat([r.reshape(g.numel(), -1) for r in rows], dim=1)
    except RuntimeError:  # an op without a batching rule: one product at a time
        h = torch.stack([flatten(hvp_graph([g], params, [e])) for e in eye])
    return (h + h.T) / 2


def jvp_graph(outputs: Tensor, params: Sequence[Tensor], v: Sequence[Tensor]) -> Tensor:
    r"""Jacobian-vector product :math:`Jv` of ``outputs`` w.r.t. ``params`` by the double-vjp
    trick: with :math:`g(u) = J^\top u` linear in a dummy ``u``, :math:`Jv = \nabla_u (g(u)
    \cdot v)`. Needs only reverse mode, so it works on any graph."""
    u = torch.zeros_like(outputs, requires_grad=True)
    g = torch.autograd.grad(
        outputs, params, grad_outputs=u, create_graph=True, retain_graph=True, allow_unused=True
    )
    pairs = [(gi, vi) for gi, vi in zip(g, v, strict=True) if gi is not None]
    (jv,) = torch.autograd.grad([gi for gi, _ in pairs], u, grad_outputs=[vi for _, vi in pairs])
    return jv


def vjp_graph(outputs: Tensor, params: Sequence[Tensor], u: Tensor) -> list[Tensor]:
    r""":math:`J^\top u` for the Jacobian of ``outputs`` w.r.t. ``params`` (graph kept)."""
    out = torch.autograd.grad(outputs, params, grad_outputs=u, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(p) if o is None else o for o, p in zip(out, params, strict=True)]


def output_fisher_vp(outputs: Tensor, u: Tensor, likelihood: str) -> Tensor:
    r"""The likelihood's Fisher in output space times ``u``, per example (rows of ``outputs``):

    categorical (logits, softmax over the last axis): :math:`(\mathrm{diag}(p) - pp^\top) u`;
    bernoulli (one logit per output): :math:`\sigma(1-\sigma) u`; gaussian (unit variance):
    :math:`u`. Not divided by N."""
    z = outputs.detach()
    if likelihood == "categorical":
        p = torch.softmax(z, dim=-1)
        return p * u - p * (p * u).sum(-1, keepdim=True)
    if likelihood == "bernoulli":
        s = torch.sigmoid(z)
        return s * (1 - s) * u
    if likelihood == "gaussian":
        return u
    raise ValueError(f"invalid likelihood={likelihood!r}; allowed: one of {LIKELIHOODS}")


def ggn_graph(
    loss: Tensor, outputs: Tensor, params: Sequence[Tensor], v: Sequence[Tensor]
) -> list[Tensor]:
    r"""Generalized Gauss-Newton product :math:`Gv = J^\top (\nabla_z^2 L)(J v)`
    (Schraudolph 2002), on the graph ``loss <- outputs <- params``."""
    dz = torch.autograd.grad(loss, outputs, create_graph=True, retain_graph=True)[0]
    jv = jvp_graph(outputs, params, v)
    (hjv,) = torch.autograd.grad(dz, outputs, grad_outputs=jv, retain_graph=True)
    return vjp_graph(outputs, params, hjv)


def fisher_graph(
    loss: Tensor,
    outputs: Tensor,
    params: Sequence[Tensor],
    v: Sequence[Tensor],
    *,
    kind: str = "true",
    likelihood: str = "categorical",
) -> list[Tensor]:
    r"""Fisher-vector product on a graph.

    ``kind="true"``: :math:`Fv = \frac1N J^\top F_z (J v)` with ``outputs`` of shape [N, ...];
    ``kind="empirical"``: :math:`\hat F v = \frac1N J_\ell^\top (J_\ell v)` where ``loss`` is the
    vector [N] of per-example losses and :math:`J_\ell` its Jacobian."""
    if kind == "true":
        n = outputs.shape[0] if outputs.dim() > 0 else 1
        fjv = output_fisher_vp(outputs, jvp_graph(outputs, params, v), likelihood) / n
        return vjp_graph(outputs, params, fjv)
    if kind == "empirical":
        if loss.dim() != 1:
            raise ValueError(
                "the empirical Fisher needs the per-example losses: a loss vector of shape [N] "
                f"(reduction='none'), got shape {tuple(loss.shape)}"
            )
        return vjp_graph(loss, params, jvp_graph(loss, params, v) / loss.shape[0])
    raise ValueError(f"invalid kind={kind!r}; allowed: one of 'true', 'empirical'")


# -------------------------------------------------------------------------- objectives


@dataclass
class Objective:
    """A loss as a function of one flat parameter vector.

    ``f(theta)`` is the scalar loss; ``outputs(theta)`` the network outputs and
    ``output_loss(z)`` the loss of outputs (so that ``f = output_loss o outputs``);
    ``per_example(theta)`` the per-example losses [N]. ``x0`` is the point the objective was
    built at (the model's parameters)."""

    f: Callable[[Tensor], Tensor]
    x0: Tensor | None = None
    outputs: Callable[[Tensor], Tensor] | None = None
    output_loss: Callable[[Tensor], Tensor] | None = None
    per_example: Callable[[Tensor], Tensor] | None = None

    def __call__(self, theta: Tensor) -> Tensor:
        return self.f(theta)


def objective(
    model: torch.nn.Module,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    data: tuple[Tensor, Tensor],
) -> Objective:
    """The loss ``loss_fn(model(inputs), targets)`` as a function of the model's parameters,
    flattened in ``model.parameters()`` order (parameters with ``requires_grad`` only).

    ``loss_fn`` must average over examples (as torch's losses do by default); the per-example
    losses call it on one example at a time."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError("data must be a pair (inputs, targets)")
    inputs, targets = data
    named = [(k, p) for k, p in model.named_parameters() if p.requires_grad]
    names = [k for k, _ in named]
    like = [p.detach() for _, p in named]
    x0 = flatten(like).clone()

    def outputs(theta: Tensor) -> Tensor:
        params = dict(zip(names, unflatten(theta, like), strict=True))
        return torch.func.functional_call(model, params, (inputs,))

    def output_loss(z: Tensor) -> Tensor:
        return loss_fn(z, targets)

    def per_example(theta: Tensor) -> Tensor:
        z = outputs(theta)
        return torch.stack([loss_fn(z[i : i + 1], targets[i : i + 1]) for i in range(len(z))])

    return Objective(lambda t: output_loss(outputs(t)), x0, outputs, output_loss, per_example)


def _callable(f: Any) -> Callable[[Tensor], Tensor]:
    if isinstance(f, torch.nn.Module):
        raise TypeError(
            "pass a callable of a flat vector, or objective(model, loss_fn, (inputs, targets)) "
            "for a torch.nn.Module"
        )
    if callable(f):
        return f
    if callable(getattr(f, "loss", None)):
        return f.loss  # a landscape
    raise TypeError(f"f must be a callable f(x) -> scalar or a landscape, got {type(f).__name__}")


def _point(f: Any, x: Tensor | None) -> Tensor:
    if x is None:
        x = getattr(f, "x0", None)
        if x is None:
            raise ValueError("x is required: the point at which to measure curvature")
    if not isinstance(x, Tensor) or x.dim() != 1:
        raise ValueError(f"x must be a flat 1-D tensor, got {type(x).__name__}")
    return x.detach()


def _graph(f: Any, x: Tensor | None) -> tuple[Tensor, Tensor, Tensor]:
    """(theta, loss, gradient with graph) at x."""
    fn = _callable(f)
    theta = _point(f, x).clone().requires_grad_(True)
    with torch.enable_grad():
        loss = fn(theta)
        if loss.numel() != 1:
            raise ValueError(f"f must return a scalar, got shape {tuple(loss.shape)}")
        (g,) = torch.autograd.grad(loss.reshape(()), theta, create_graph=True)
    return theta, loss, g


# ------------------------------------------------------------------------ the products


def hvp(f: Any, v: Tensor, x: Tensor | None = None, *, mode: str = "reverse") -> Tensor:
    r"""Hessian-vector product :math:`\nabla^2 f(x)\, v` without forming the Hessian.

    ``mode="reverse"``: double backward, :math:`\nabla_x(\nabla f \cdot v)` (Pearlmutter 1994);
    ``mode="forward"``: forward-over-reverse, the directional derivative of :math:`\nabla f`
    along ``v`` by forward-mode AD (``torch.func.jvp`` of ``torch.func.grad``)."""
    if mode == "reverse":
        theta, _, g = _graph(f, x)
        with torch.enable_grad():
            return hvp_graph([g], [theta], [v])[0]
    if mode == "forward":
        fn = _callable(f)
        x = _point(f, x)
        return torch.func.jvp(torch.func.grad(lambda t: fn(t).reshape(())), (x,), (v,))[1]
    raise ValueError(f"invalid mode={mode!r}; allowed: one of 'reverse', 'forward'")


class _HVP:
    """A Hessian-vector product operator at a fixed point (the graph built once)."""

    def __init__(self, f: Any, x: Tensor | None) -> None:
        self.theta, self.loss, self.g = _graph(f, x)
        self.n = self.theta.numel()

    def __call__(self, v: Tensor) -> Tensor:
        with torch.enable_grad():
            return hvp_graph([self.g], [self.theta], [v])[0]

    def batch(self, vs: Tensor) -> Tensor:
        """Products with the rows of ``vs`` [m, n], vectorized (``is_grads_batched``)."""
        with torch.enable_grad():
            try:
                (out,) = torch.autograd.grad(
                    self.g, self.theta, grad_outputs=vs, retain_graph=True, is_grads_batched=True
                )
                return out
            except RuntimeError:  # an op without a batching rule
                return torch.stack([self(v) for v in vs])


def _dense(matvec: Callable[[Tensor], Tensor], n: int, like: Tensor) -> Tensor:
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    return torch.stack([matvec(eye[i]) for i in range(n)], dim=1)


def hessian(f: Any, x: Tensor | None = None) -> Tensor:
    """The dense Hessian (n Hessian-vector products; for small models only)."""
    op = _HVP(f, x)
    h = _dense(op, op.n, op.theta)
    return (h + h.T) / 2


def _model_graph(f: Any, x: Tensor | None):
    if not isinstance(f, Objective) or f.outputs is None:
        raise TypeError(
            "Gauss-Newton and Fisher products need the split loss = output_loss(outputs(theta)):"
            " pass objective(model, loss_fn, (inputs, targets))"
        )
    theta = _point(f, x).clone().requires_grad_(True)
    with torch.enable_grad():
        z = f.outputs(theta)
        loss = f.output_loss(z)
    return theta, z, loss


def ggn_vp(f: Objective, v: Tensor, x: Tensor | None = None) -> Tensor:
    r"""Generalized Gauss-Newton product :math:`J^\top (\nabla_z^2 L) J v`."""
    theta, z, loss = _model_graph(f, x)
    with torch.enable_grad():
        return ggn_graph(loss, z, [theta], [v])[0]


def ggn(f: Objective, x: Tensor | None = None) -> Tensor:
    """The dense generalized Gauss-Newton matrix (small models only)."""
    theta, z, loss = _model_graph(f, x)
    with torch.enable_grad():
        return _dense(lambda v: ggn_graph(loss, z, [theta], [v])[0], theta.numel(), theta)


def _fisher_op(f: Objective, x: Tensor | None, kind: str, likelihood: str):
    if kind == "empirical":
        if f.per_example is None:
            raise TypeError("the empirical Fisher needs an objective with per-example losses")
        theta = _point(f, x).clone().requires_grad_(True)
        with torch.enable_grad():
            losses = f.per_example(theta)
        z = losses
    else:
        theta, z, losses = _model_graph(f, x)

    def matvec(v: Tensor) -> Tensor:
        with torch.enable_grad():
            return fisher_graph(losses, z, [theta], [v], kind=kind, likelihood=likelihood)[0]

    return theta, matvec


def fisher_vp(
    f: Objective,
    v: Tensor,
    x: Tensor | None = None,
    *,
    kind: str = "true",
    likelihood: str = "categorical",
) -> Tensor:
    r"""Fisher-vector product: true Fisher :math:`\frac1N\sum_n J_n^\top F_z J_n v` or empirical
    Fisher :math:`\frac1N \sum_n \nabla\ell_n (\nabla\ell_n \cdot v)` (``kind="empirical"``)."""
    return _fisher_op(f, x, kind, likelihood)[1](v)


def fisher(
    f: Objective, x: Tensor | None = None, *, kind: str = "true", likelihood: str = "categorical"
) -> Tensor:
    """The dense Fisher matrix, true or empirical (small models only)."""
    theta, matvec = _fisher_op(f, x, kind, likelihood)
    return _dense(matvec, theta.numel(), theta)


# ------------------------------------------------------------------------- estimators


def _probes(m: int, n: int, like: Tensor, generator: torch.Generator) -> Tensor:
    """m Rademacher vectors [m, n]: entries +-1 with probability 1/2 (E[v v^T] = I)."""
    r = torch.randint(0, 2, (m, n), generator=generator, device="cpu")
    return (2 * r - 1).to(like.dtype).to(like.device)


def _hutchinson(f: Any, x: Tensor | None, probes: int, seed: int, chunk: int = 64) -> Tensor:
    """The products v * Hv summed over ``probes`` Rademacher vectors v, in chunks."""
    if not isinstance(probes, int) or probes < 1:
        raise ValueError(f"invalid probes={probes!r}; allowed: an integer >= 1")
    op = _HVP(f, x)
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(op.theta.detach())
    done = 0
    while done < probes:
        vs = _probes(min(chunk, probes - done), op.n, total, gen)
        total += (vs * op.batch(vs)).sum(0)
        done += len(vs)
    return total


def hutchinson_diagonal(
    f: Any, x: Tensor | None = None, *, probes: int = 100, seed: int = 0
) -> Tensor:
    r"""Hutchinson's estimate of the Hessian diagonal (Bekas et al. 2007; used by AdaHessian):
    :math:`\mathrm{diag}(H) \approx \frac1m \sum_{i=1}^m v_i \odot H v_i` with Rademacher
    :math:`v_i`. Unbiased; the variance of entry j is :math:`\frac1m \sum_{k \ne j} H_{jk}^2`."""
    return _hutchinson(f, x, probes, seed) / probes


def hutchinson_trace(f: Any, x: Tensor | None = None, *, probes: int = 100, seed: int = 0) -> float:
    r"""Hutchinson's trace estimate (Hutchinson 1989): :math:`\mathrm{tr}(H) \approx \frac1m
    \sum_i v_i^\top H v_i` with Rademacher :math:`v_i`; variance
    :math:`\frac2m \sum_{j \ne k} H_{jk}^2`."""
    return float(_hutchinson(f, x, probes, seed).sum()) / probes


# ----------------------------------------------------------------------------- spectra


def lanczos(
    matvec: Callable[[Tensor], Tensor], v0: Tensor, steps: int
) -> tuple[Tensor, Tensor, Tensor]:
    r"""Lanczos tridiagonalization with full reorthogonalization (Golub and Van Loan, Alg. 10.1):
    builds an orthonormal basis :math:`Q` of the Krylov space of ``v0`` and the tridiagonal
    :math:`T = Q^\top A Q` (diagonal ``alpha``, off-diagonal ``beta``). Returns
    ``(alpha, beta, Q)``; stops early when the Krylov space is exhausted."""
    n = v0.numel()
    steps = min(steps, n)
    q = v0 / v0.norm()
    basis = [q]
    alpha, beta = [], []
    for j in range(steps):
        w = matvec(basis[j])
        a = w @ basis[j]
        alpha.append(a)
        Q = torch.stack(basis)
        w = w - Q.T @ (Q @ w)  # full reorthogonalization (twice is enough)
        w = w - Q.T @ (Q @ w)
        b = w.norm()
        if j == steps - 1 or b <= 1e-10 * max(1.0, float(a.abs())):
            break
        beta.append(b)
        basis.append(w / b)
    alpha_t = torch.stack(alpha)
    beta_t = torch.stack(beta) if beta else alpha_t.new_zeros(0)
    return alpha_t, beta_t, torch.stack(basis[: len(alpha)])


def _tridiagonal(alpha: Tensor, beta: Tensor) -> Tensor:
    return torch.diag(alpha) + torch.diag(beta, 1) + torch.diag(beta, -1)


def top_eigenpairs(
    f: Any,
    k: int = 1,
    x: Tensor | None = None,
    *,
    method: str = "lanczos",
    iters: int = 100,
    tol: float = 1e-6,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""The ``k`` largest (algebraic) Hessian eigenvalues, descending, and their eigenvectors
    (columns), matrix-free.

    ``method="lanczos"``: Ritz pairs of ``iters`` Lanczos steps with full reorthogonalization;
    ``method="power"``: power iteration on :math:`H - \sum_{j<i} \lambda_j u_j u_j^\top`
    (deflation), up to ``iters`` products per eigenpair or until the Rayleigh quotient moves by
    less than ``tol`` relatively. Power iteration finds the eigenvalues of largest *magnitude*;
    near a minimum they are the largest ones (as in PyHessian, Yao et al. 2020)."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"invalid k={k!r}; allowed: an integer >= 1")
    op = _HVP(f, x)
    if k > op.n:
        raise ValueError(f"invalid k={k}; the Hessian is {op.n} x {op.n}")
    gen = torch.Generator().manual_seed(seed)
    like = op.theta.detach()
    v0 = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
    if method == "lanczos":
        alpha, beta, Q = lanczos(op, v0, max(iters, 2 * k))
        evals, evecs = torch.linalg.eigh(_tridiagonal(alpha, beta))
        order = torch.argsort(evals, descending=True)[:k]
        return evals[order], Q.T @ evecs[:, order]
    if method == "power":
        vals: list[Tensor] = []
        vecs: list[Tensor] = []
        for _ in range(k):

            def deflated(v: Tensor) -> Tensor:
                hv = op(v)
                for lam, u in zip(vals, vecs, strict=True):
                    hv = hv - lam * (u @ v) * u
                return hv

            v = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
            v = v / v.norm()
            lam = v @ deflated(v)
            for _ in range(iters):
                w = deflated(v)
                v = w / w.norm()
                new = v @ deflated(v)
                done = (new - lam).abs() <= tol * (new.abs() + 1e-12)
                lam = new
                if done:
                    break
            vals.append(lam)
            vecs.append(v)
        return torch.stack(vals), torch.stack(vecs, dim=1)
    raise ValueError(f"invalid method={method!r}; allowed: one of 'lanczos', 'power'")


def eigenvalue_density(
    f: Any,
    x: Tensor | None = None,
    *,
    iters: int = 80,
    runs: int = 4,
    grid: int = 400,
    sigma: float | None = None,
    seed: int = 0,
) -> tuple[Tensor, Tensor]:
    r"""Hessian eigenvalue density by stochastic Lanczos quadrature (Ghorbani, Krishnan and Xiao
    2019; Lin, Saad and Yang 2016): for each of ``runs`` random unit vectors, ``iters`` Lanczos
    steps give nodes :math:`\theta_i` (Ritz values) and weights :math:`\tau_i` (squared first
    components of the Ritz vectors); the density is
    :math:`\phi(t) = \frac1{runs}\sum \tau_i\, \mathcal N(t; \theta_i, \sigma^2)`.

    Returns ``(t, phi)`` on ``grid`` points spanning the spectrum; ``phi`` integrates to 1.
    ``sigma`` defaults to 1% of the spectral range."""
    op = _HVP(f, x)
    gen = torch.Generator().manual_seed(seed)
    like = op.theta.detach()
    nodes, weights = [], []
    for _ in range(runs):
        v0 = torch.randn(op.n, generator=gen, dtype=like.dtype).to(like.device)
        alpha, beta, _ = lanczos(op, v0, iters)
        evals, evecs = torch.linalg.eigh(_tridiagonal(alpha, beta))
        nodes.append(evals)
        weights.append(evecs[0] ** 2 / runs)
    node, weight = torch.cat(nodes), torch.cat(weights)
    lo, hi = float(node.min()), float(node.max())
    span = max(hi - lo, 1e-12)
    s = sigma if sigma is not None else 0.01 * span
    t = torch.linspace(lo - 5 * s, hi + 5 * s, grid, dtype=like.dtype)
    gauss = torch.exp(-((t[:, None] - node.cpu()[None]) ** 2) / (2 * s * s)) / (
        s * math.sqrt(2 * math.pi)
    )
    return t, gauss @ weight.cpu()


def sharpness(
    model: Any,
    loss_fn: Any = None,
    data: tuple[Tensor, Tensor] | None = None,
    *,
    x: Tensor | None = None,
    iters: int = 100,
    seed: int = 0,
) -> float:
    r"""Sharpness: the largest Hessian eigenvalue :math:`\lambda_{\max}(\nabla^2 L)` at the
    current parameters (Keskar et al. 2017 use a related box measure; Cohen et al. 2021 track
    this one, "edge of stability": gradient descent at step size eta keeps it near 2/eta),
    by ``iters`` Lanczos steps from a random start drawn with ``seed``.

    Forms:

    * ``sharpness(model, problem)``: a ``torch.nn.Module`` and a ravine problem
      (:class:`ravine.problems.Problem`: anything with ``loss``, ``x_train`` and ``y_train``):
      :math:`L` is the problem's loss on its whole training set, or on ``data=(inputs,
      targets)`` (a subset, say) when given;
    * ``sharpness(model, loss_fn, (inputs, targets))``: :math:`L` = ``loss_fn(model(inputs),
      targets)``;
    * ``sharpness(objective)`` (:func:`objective`), or ``sharpness(f, x=x)`` for a callable
      or landscape ``f`` of a flat vector.

    With a model, floating-point data is moved to the device and cast to the dtype of the
    model's parameters (so ``model.double()`` measures in double precision); the model is
    used in the mode it is in (``model.eval()`` first for dropout or batch norm)."""
    if isinstance(model, torch.nn.Module):
        if _is_problem(loss_fn):
            problem = loss_fn
            loss_fn = problem.loss
            data = (problem.x_train, problem.y_train) if data is None else data
        if loss_fn is None or data is None:
            raise ValueError(
                "sharpness of a torch.nn.Module needs its loss: sharpness(model, problem), "
                "sharpness(model, problem, data=(inputs, targets)) or "
                "sharpness(model, loss_fn, (inputs, targets)); loss_fn and data are required"
            )
        if not callable(loss_fn):
            raise TypeError(
                "sharpness(model, ...): the second argument must be a ravine problem (with "
                f"loss, x_train, y_train) or a loss function, got {type(loss_fn).__name__}"
            )
        model = objective(model, loss_fn, _like_model(model, data))
    vals, _ = top_eigenpairs(model, 1, x, method="lanczos", iters=iters, seed=seed)
    return float(vals[0])


def _is_problem(value: Any) -> bool:
    """A ravine problem, or any object offering its ``loss``, ``x_train`` and ``y_train``."""
    return all(hasattr(value, name) for name in ("loss", "x_train", "y_train"))


def _like_model(model: torch.nn.Module, data: Any) -> Any:
    """``data`` on the model's device, floating tensors in the dtype of its parameters."""
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"data must be a pair (inputs, targets), got {type(data).__name__}")
    p = next((q for q in model.parameters() if q.requires_grad), None)
    if p is None:
        return tuple(data)

    def move(t: Any) -> Any:
        if not isinstance(t, Tensor):
            return t
        return t.to(device=p.device, dtype=p.dtype if t.is_floating_point() else t.dtype)

    return move(data[0]), move(data[1])
