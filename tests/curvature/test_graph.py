"""Products on an autograd graph (ravine.curvature.graph) against dense Hessians by hand."""

from __future__ import annotations

import torch

from ravine.curvature import hvp_graph, rademacher


def test_hvp_graph_is_zero_where_a_gradient_has_no_graph():
    # L = a^2 b + 3 c: H v for (a, b) by hand; c enters linearly, so its gradient (3) has no
    # graph and its block of H is zero; d does not enter at all (gradient None).
    a, b, c, d = (torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (2, 5, 1, 4))
    loss = (a * a * b + 3 * c).sum()
    params = [a, b, c, d]
    grads = list(torch.autograd.grad(loss, params, create_graph=True, allow_unused=True))
    v = [torch.tensor([0.5], dtype=torch.float64), torch.tensor([-1.0], dtype=torch.float64)]
    v += [torch.ones(1, dtype=torch.float64)] * 2
    hv = hvp_graph(grads, params, v)
    # H of a^2 b over (a, b): [[2b, 2a], [2a, 0]] = [[10, 4], [4, 0]]
    assert torch.equal(hv[0], torch.tensor([10 * 0.5 + 4 * -1.0], dtype=torch.float64))
    assert torch.equal(hv[1], torch.tensor([4 * 0.5], dtype=torch.float64))
    assert torch.equal(hv[2], torch.zeros(1, dtype=torch.float64))
    assert torch.equal(hv[3], torch.zeros(1, dtype=torch.float64))


def test_rademacher_probes_are_signs_in_each_tensors_dtype_with_identity_second_moment():
    like = [torch.zeros(400, 3, dtype=torch.float64), torch.zeros(7, dtype=torch.float32)]
    us = rademacher(like, torch.Generator().manual_seed(0))
    assert [u.dtype for u in us] == [torch.float64, torch.float32]
    assert [u.shape for u in us] == [p.shape for p in like]
    assert all(set(u.unique().tolist()) <= {-1.0, 1.0} for u in us)
    second = us[0].T @ us[0] / 400  # E[u u^T] = I, within sampling error
    assert torch.allclose(second, torch.eye(3, dtype=torch.float64), atol=0.15)
    again = rademacher(like, torch.Generator().manual_seed(0))
    assert all(torch.equal(u, w) for u, w in zip(us, again, strict=True))
