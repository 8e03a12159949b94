"""ravine.curvature.flat: a list of tensors as one flat vector and back."""

from __future__ import annotations

import pytest
import torch

from ravine import curvature as C


def test_flatten_roundtrip():
    ts = [torch.randn(2, 3), torch.randn(4)]
    back = C.unflatten(C.flatten(ts), ts)
    assert all(torch.equal(a, b) for a, b in zip(ts, back, strict=True))
    with pytest.raises(ValueError, match="entries"):
        C.unflatten(torch.zeros(5), ts)
