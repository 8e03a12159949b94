"""Training problems: built-in data sets, file loaders on tiny files written here, user
problems by reference, and the batching that makes full-batch, mini-batch and single-example
gradient descent."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest
import torch

from ravine import problems
from ravine.problems import batches
from ravine.problems.files import read_idx


def test_moons_digits_logreg_shapes_and_splits():
    m = problems.get("moons", n=100, hidden=4)
    assert m.x_train.shape == (80, 2) and m.x_val.shape == (20, 2)
    assert set(m.y_train.tolist()) == {0, 1}
    d = problems.get("digits_mlp", hidden=16)
    assert d.x_train.shape == (1437, 64) and d.x_val.shape == (360, 64)
    assert d.x_train.max() <= 1.0 and d.x_train.min() >= 0.0
    # stratified split: every class is in the validation set in proportion
    counts = torch.bincount(d.y_val, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        out = problems.get("digits_cnn").model()(d.x_val[:5])
    assert out.shape == (5, 10)
    lr = problems.get("logreg")
    assert lr.x_train.shape[1] == 30
    assert lr.x_train.mean(0).abs().max() < 1e-5  # standardised with training statistics
    assert lr.x_train.std(0, unbiased=False).sub(1).abs().max() < 1e-4
    wine = problems.get("logreg", dataset="wine")
    assert wine.model().out_features == 3
    with pytest.raises(ValueError, match="dataset"):
        problems.get("logreg", dataset="iris_plus")


def test_mnist1d_is_generated_locally_without_network(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("mnist1d tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    import requests

    monkeypatch.setattr(requests, "get", no_network)
    state = np.random.get_state()
    p = problems.get("mnist1d", n=100, hidden=8)
    assert p.x_train.shape == (80, 40) and p.x_val.shape == (20, 40)
    assert set(p.y_train.tolist()) <= set(range(10))
    after = np.random.get_state()
    assert after[0] == state[0] and np.array_equal(after[1], state[1])  # global RNG untouched
    with torch.random.fork_rng(devices=[]):
        assert p.model()(p.x_val).shape == (20, 10)


def write_idx(path, array: np.ndarray, code: int = 0x08, compress: bool = False):
    header = bytes([0, 0, code, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)


def test_idx_reader_and_mnist_loaders(tmp_path):
    rng = np.random.default_rng(0)
    xs = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    ys = rng.integers(0, 10, 12, dtype=np.uint8)
    xt = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    yt = rng.integers(0, 10, 5, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", xs)
    write_idx(tmp_path / "train-labels-idx1-ubyte", ys)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", xt, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", yt)
    assert np.array_equal(read_idx(tmp_path / "train-images-idx3-ubyte"), xs)
    assert np.array_equal(read_idx(tmp_path / "t10k-images-idx3-ubyte.gz"), xt)
    floats = np.array([[1.5, -2.0]], dtype=np.float32)
    write_idx(tmp_path / "f.idx", floats, code=0x0D)
    assert np.array_equal(read_idx(tmp_path / "f.idx"), floats)

    for name in ("mnist", "fashion_mnist"):
        p = problems.get(name, path=str(tmp_path), hidden=8, limit=10)
        assert p.x_train.shape == (10, 784) and p.x_val.shape == (5, 784)
        assert torch.allclose(
            p.x_train[0], torch.tensor(xs[0].reshape(-1) / 255.0, dtype=torch.float32)
        )
        assert p.y_val.tolist() == yt.tolist()
    cnn = problems.get("mnist", path=str(tmp_path), model="cnn", channels=4)
    assert cnn.model()(cnn.x_val).shape == (5, 10)

    (tmp_path / "bad").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="bad magic"):
        read_idx(tmp_path / "bad")
    (tmp_path / "short").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="announces shape"):
        read_idx(tmp_path / "short")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        problems.get("mnist", path=str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="not a directory"):
        problems.get("mnist", path=str(tmp_path / "missing"))


def test_cifar10_python_batches(tmp_path):
    rng = np.random.default_rng(1)
    x1 = rng.integers(0, 256, (6, 3072), dtype=np.uint8)
    x2 = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
    xt = rng.integers(0, 256, (3, 3072), dtype=np.uint8)
    for name, x in (("data_batch_1", x1), ("data_batch_2", x2), ("test_batch", xt)):
        with open(tmp_path / name, "wb") as f:
            pickle.dump({b"data": x, b"labels": list(range(len(x)))}, f)
    p = problems.get("cifar10", path=str(tmp_path), channels=4)
    assert p.x_train.shape == (10, 3072) and p.x_val.shape == (3, 3072)
    # the red plane comes first: pixel (0, 0) of channel 0 is column 0, of channel 1 column 1024
    assert p.x_train[6, 1024] == pytest.approx(x2[0, 1024] / 255.0)
    assert p.y_train.tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3]
    with torch.random.fork_rng(devices=[]):
        assert p.model()(p.x_val).shape == (3, 10)


def test_user_problem_reference_and_errors():
    p = problems.get("ravine.problems.builtin:moons", n=50)
    assert p.name == "moons" and p.n_train == 40
    with pytest.raises(ValueError, match="unknown problem"):
        problems.resolve("spirals")
    with pytest.raises(ValueError, match="cannot import"):
        problems.resolve("no_such_pkg_abc:fn")
    with pytest.raises(ValueError, match="has no function"):
        problems.resolve("ravine.problems.builtin:nothing")
    with pytest.raises(ValueError, match="unknown option 'size'"):
        problems.check_options("moons", {"size": 3})
    with pytest.raises(ValueError, match="needs option 'path'"):
        problems.check_options("mnist", {})


@pytest.mark.parametrize(
    ("batch_size", "expected"), [("full", [10]), (1, [1] * 10), (4, [4, 4, 2])]
)
def test_batches_cover_every_example_once(batch_size, expected):
    g = torch.Generator().manual_seed(0)
    bs = batches(10, batch_size, g)
    assert [len(b) for b in bs] == expected
    assert sorted(torch.cat(bs).tolist()) == list(range(10))
    again = batches(10, batch_size, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(bs, again, strict=True))


def test_ensemble_of_softmax_members_averages_probabilities():
    p = problems.get("moons", n=50)
    a, b = torch.randn(7, 2), torch.randn(7, 2)
    z = p.ensemble([a, b])
    expected = (torch.softmax(a, -1) + torch.softmax(b, -1)) / 2
    assert torch.allclose(z.exp(), expected, atol=1e-6)


def test_builtin_test_split_is_held_out_and_optional():
    import torch

    from ravine.problems import builtin

    plain, held = builtin.digits(), builtin.digits(test_fraction=0.2)
    assert plain.x_test is None and plain.y_test is None
    assert len(held.x_test) == 360  # scikit-learn rounds the held-out share up
    assert len(held.x_train) + len(held.x_val) + len(held.x_test) == 1797
    # no test example is also a training or validation example
    rest = torch.cat([held.x_train, held.x_val])
    assert not (torch.cdist(held.x_test, rest).min(dim=1).values == 0).all()
    wine = builtin.logreg("wine", test_fraction=0.2)
    assert len(wine.x_test) == 36 and abs(float(wine.x_train.mean())) < 1e-5
