"""Readers for datasets a user already has on disk: IDX files (MNIST, Fashion-MNIST) and the
CIFAR-10 python batches. Nothing is ever downloaded."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np

__all__ = ["find_idx", "load_cifar10", "load_idx_split", "read_idx"]

# IDX type codes (LeCun's format description): 0x08 ubyte, 0x09 byte, 0x0B short (int16),
# 0x0C int, 0x0D float, 0x0E double; multi-byte values are big-endian.
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped): magic 0x0000, a type byte, the number of
    dimensions, then each dimension as a big-endian uint32, then the data."""
    path = Path(path)
    with _open(path) as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path.name}: not an IDX file (bad magic number)")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path.name}: unknown IDX data type 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path.name}: truncated IDX header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[code]
    count = int(np.prod(shape)) if shape else 1
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path.name}: IDX header announces shape {shape} ({count * dtype.itemsize} bytes) "
            f"but {len(raw) - header} bytes follow"
        )
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def find_idx(directory: Path, stem: str) -> Path:
    """``directory/stem`` in any of the usual spellings (``-idx3-ubyte`` vs ``.idx3-ubyte``,
    with or without ``.gz``)."""
    candidates = []
    for name in (stem, stem.replace("-idx", ".idx")):
        candidates += [directory / name, directory / (name + ".gz")]
    for c in candidates:
        if c.exists():
            return c
    raise FileNotFoundError(
        f"no {stem}[.gz] in {directory}; expected the four MNIST-format IDX files "
        "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte)"
    )


def load_idx_split(directory: str | Path) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) from a directory of MNIST-format IDX files."""
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"path {str(directory)!r} is not a directory")
    xs = read_idx(find_idx(d, "train-images-idx3-ubyte"))
    ys = read_idx(find_idx(d, "train-labels-idx1-ubyte"))
    xt = read_idx(find_idx(d, "t10k-images-idx3-ubyte"))
    yt = read_idx(find_idx(d, "t10k-labels-idx1-ubyte"))
    return xs, ys, xt, yt


def _cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        d = pickle.load(f, encoding="bytes")
    data = d.get(b"data", d.get("data"))
    labels = d.get(b"labels", d.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path.name}: not a CIFAR-10 python batch (no 'data' and 'labels')")
    x = np.asarray(data, dtype=np.uint8).reshape(-1, 3, 32, 32)
    return x, np.asarray(labels, dtype=np.int64)


def load_cifar10(directory: str | Path) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) from the CIFAR-10 python version: pickled dicts
    ``data_batch_1`` .. ``data_batch_5`` and ``test_batch`` with ``data`` (N x 3072 uint8, the
    red, green, blue planes of 32 x 32 images) and ``labels``. Missing training batches are
    skipped, so a subset of them is a smaller problem."""
    d = Path(directory)
    if not d.is_dir():
        raise FileNotFoundError(f"path {str(directory)!r} is not a directory")
    train = [d / f"data_batch_{i}" for i in range(1, 6) if (d / f"data_batch_{i}").exists()]
    if not train:
        raise FileNotFoundError(f"no data_batch_1..5 in {directory} (CIFAR-10 python version)")
    if not (d / "test_batch").exists():
        raise FileNotFoundError(f"no test_batch in {directory} (CIFAR-10 python version)")
    parts = [_cifar_batch(p) for p in train]
    xt, yt = _cifar_batch(d / "test_batch")
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        xt,
        yt,
    )
