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

Modules: :mod:`~ravine.curvature.flat` (flat parameter vectors), :mod:`~ravine.curvature.graph`
(products on a graph), :mod:`~ravine.curvature.objective` (objectives of a flat vector),
:mod:`~ravine.curvature.products` (products and dense matrices of an objective),
:mod:`~ravine.curvature.hutchinson` (diagonal and trace estimates),
:mod:`~ravine.curvature.spectrum` (eigenvalues, density), :mod:`~ravine.curvature.sharpness`.
"""

from .flat import flatten, unflatten
from .graph import (
    LIKELIHOODS,
    fisher_graph,
    ggn_graph,
    hessian_graph,
    hvp_graph,
    jvp_graph,
    output_fisher_vp,
    rademacher,
    vjp_graph,
)
from .hutchinson import hutchinson_diagonal, hutchinson_trace
from .objective import Objective, objective
from .products import fisher, fisher_vp, ggn, ggn_vp, hessian, hvp
from .sharpness import sharpness
from .spectrum import eigenvalue_density, lanczos, top_eigenpairs

__all__ = [
    "LIKELIHOODS",
    "Objective",
    "eigenvalue_density",
    "fisher",
    "fisher_graph",
    "fisher_vp",
    "flatten",
    "ggn",
    "ggn_graph",
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
    "rademacher",
    "sharpness",
    "top_eigenpairs",
    "unflatten",
    "vjp_graph",
]
