"""Writing MNIST files by hand, good and broken, for the tests of explorer.data."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from explorer.data.files import NPZ_KEYS


def small_arrays(train: int = 30, test: int = 20, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (
        rng.integers(0, 256, size=(train, 28, 28), dtype=np.uint8),
        (np.arange(train) % 10).astype(np.uint8),
        rng.integers(0, 256, size=(test, 28, 28), dtype=np.uint8),
        (np.arange(test) % 10).astype(np.uint8),
    )


def write_file(path: Path, payload: bytes, gz: bool) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def idx_images(images: np.ndarray, count=None, rows=28, cols=28, magic=2051) -> bytes:
    count = len(images) if count is None else count
    return struct.pack(">IIII", magic, count, rows, cols) + images.tobytes()


def idx_labels(labels: np.ndarray, count=None, magic=2049) -> bytes:
    count = len(labels) if count is None else count
    return struct.pack(">II", magic, count) + labels.astype(np.uint8).tobytes()


def write_idx_folder(folder: Path, arrays, gz: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train, x_test, y_test = arrays
    write_file(folder / "train-images-idx3-ubyte", idx_images(x_train), gz)
    write_file(folder / "train-labels-idx1-ubyte", idx_labels(y_train), gz)
    write_file(folder / "t10k-images-idx3-ubyte", idx_images(x_test), gz)
    write_file(folder / "t10k-labels-idx1-ubyte", idx_labels(y_test), gz)
    return folder


def write_npz(path: Path, arrays) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **dict(zip(NPZ_KEYS, arrays, strict=True)))
    return path


def assert_same_arrays(actual, expected):
    assert len(actual) == len(expected) == 4
    for got, want in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(got, want)
