"""What the matrix preconditioners (Shampoo, SOAP) share: the per-dimension statistics of a
gradient tensor, their inverse roots and eigenbases, contraction of a tensor with one matrix
per dimension, and the merge of small dimensions.

The matrix functions are computed from a symmetric eigendecomposition (``torch.linalg.eigh``)
in the statistics' dtype, never iteratively, so that float64 runs are exact to rounding.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = [
    "contract",
    "eigenbasis",
    "inverse_root",
    "merge_small_dims",
    "preconditioned_shape",
    "statistic",
]


def merge_small_dims(shape: Sequence[int], max_dim: int) -> tuple[int, ...]:
    """``shape`` with neighbouring dimensions merged while their product stays at most
    ``max_dim`` (Anil et al. 2020's shape interpretation): ``(1, 2, 512, 1, 2048, 1, 3, 4)``
    with 1024 becomes ``(1024, 2048, 12)``. A shape that merges whole stays one dimension
    (the ``pytorch-optimizer`` package returns ``[1]`` there and cannot reshape to it)."""
    merged: list[int] = []
    product = 1
    for d in shape:
        product *= d
        if product > max_dim:
            merged.append(product // d)
            product = d
    merged.append(product)
    return tuple(merged)


def preconditioned_shape(
    shape: Sequence[int], *, max_dim: int, merge_dims: bool, precondition_1d: bool
) -> tuple[int, ...] | None:
    """The shape whose dimensions get one preconditioner each, or None for none: a tensor
    with a dimension above ``max_dim`` (0: no limit) and, unless ``precondition_1d``, a
    tensor of one dimension (after merging, with ``merge_dims``) take the fallback."""
    if max_dim and any(d > max_dim for d in shape):
        return None
    if merge_dims and max_dim:
        shape = merge_small_dims(shape, max_dim)
    if len(shape) == 0 or (len(shape) == 1 and not precondition_1d):
        return None
    return tuple(shape)


def statistic(x: Tensor, dim: int) -> Tensor:
    """G_(dim) G_(dim)^T: the outer product of ``x`` with itself over every other dimension,
    a ``[n, n]`` matrix for ``n = x.shape[dim]``."""
    others = [i for i in range(x.dim()) if i != dim]
    return torch.tensordot(x, x, dims=[others, others])


def contract(x: Tensor, matrices: Sequence[Tensor | None], *, transpose: bool = False) -> Tensor:
    """``x`` with its dimension i multiplied by ``matrices[i]`` (None: left alone):
    y[j1, .., jk] = sum x[i1, .., ik] M1[i1, j1] .. Mk[ik, jk], with ``transpose`` the
    matrices transposed (SOAP's projection back). Dimensions keep their order."""
    roll = (*range(1, x.dim()), 0)
    for m in matrices:
        if m is None:
            x = x.permute(roll)
        else:
            x = torch.tensordot(x, m, dims=[[0], [1 if transpose else 0]])
    return x


def inverse_root(matrix: Tensor, root: float, eps: float = 0.0, relative: bool = False) -> Tensor:
    """(A + e I)^(-1/root) of a symmetric positive semidefinite ``matrix`` A, through its
    eigendecomposition A = Q diag(lam) Q^T: Q diag((|lam| + e)^(-1/root)) Q^T, with
    e = ``eps``, or with ``relative`` e = ``eps`` max(lam) (a ridge relative to the
    largest eigenvalue). |lam| is A's singular values, as a root through the SVD takes."""
    lam, q = torch.linalg.eigh(matrix)
    lam = lam.abs()
    if eps:
        lam = lam + (eps * lam.max() if relative else eps)
    return (q * lam.pow(-1.0 / root).unsqueeze(-2)) @ q.mT


def eigenbasis(matrix: Tensor) -> Tensor:
    """The eigenvectors of a symmetric ``matrix`` as columns, by decreasing eigenvalue
    (SOAP's basis; a ridge of 1e-30 as its authors' code adds)."""
    eye = torch.eye(matrix.shape[0], device=matrix.device, dtype=matrix.dtype)
    _, q = torch.linalg.eigh(matrix + 1e-30 * eye)
    return torch.flip(q, dims=[1])
