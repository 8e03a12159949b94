"""ravine.curvature.hutchinson against the dense Hessian's diagonal and trace."""

from __future__ import annotations

import math

import torch
from torch.autograd.functional import hessian as dense_hessian

from ravine import curvature as C


def test_hutchinson_diagonal_and_trace_are_close_to_exact(model_problem):
    """Rademacher probes: Var[v_j (Hv)_j] = sum_{k != j} H_jk^2, Var[v^T H v] =
    2 sum_{j != k} H_jk^2. With m probes the standard error is sqrt(Var/m); we allow 4 standard
    errors (a fixed seed makes the test deterministic; 4 sigma keeps it meaningful)."""
    model, loss_fn, data = model_problem
    obj = C.objective(model, loss_fn, data)
    H = dense_hessian(obj.f, obj.x0)
    off = H - torch.diag(torch.diag(H))
    m = 2000
    diag = C.hutchinson_diagonal(obj, probes=m, seed=0)
    se = ((off**2).sum(1) / m).sqrt()
    assert bool(((diag - torch.diag(H)).abs() <= 4 * se + 1e-12).all())
    trace = C.hutchinson_trace(obj, probes=m, seed=1)
    se_trace = math.sqrt(2 * float((off**2).sum()) / m)
    assert abs(trace - float(torch.trace(H))) <= 4 * se_trace
    # and the estimate is not trivially loose: the standard error is small against the trace
    assert se_trace < 0.2 * float(torch.diag(H).abs().sum())
