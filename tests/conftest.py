"""Shared pytest fixtures. Tests never download: EXPLORER_OFFLINE=1 is set for every test.

Every test also gets its own empty EXPLORER_HOME and KERAS_HOME, so no test reads or writes the
user's run store or Keras cache. `FULL_MNIST_DIR` keeps EXPLORER_DATA_DIR as it was when the
tests started (CI points it at the full MNIST) for the tests that want the real data.
"""

from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import pytest

FULL_MNIST_DIR = os.environ.get("EXPLORER_DATA_DIR") or None


@pytest.fixture(autouse=True)
def offline_environment(monkeypatch, tmp_path_factory):
    """Keep every test off the network and away from the user's files."""
    monkeypatch.setenv("EXPLORER_OFFLINE", "1")
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)  # tests opt in via FULL_MNIST_DIR
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path_factory.mktemp("explorer-home")))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))
    from testkit.services import services_made

    # Services made by a test (the page's train in child processes) end with it; those of a
    # module-scoped fixture live on.
    with services_made():
        yield


@pytest.fixture(scope="session")
def sample_data():
    """The bundled MNIST sample (6,000 train / 1,000 test digits), read once per test session."""
    from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays, read_npz

    arrays = read_npz(SAMPLE_PATH)
    return MnistData(
        *arrays, source="sample", location=str(SAMPLE_PATH), fingerprint=fingerprint_arrays(*arrays)
    )


@pytest.fixture
def tiny_mnist_dir(tmp_path):
    """A folder holding the four MNIST IDX files, gzipped, with 20 train and 10 test images.

    Labels cycle 0..9; image `i` has every pixel equal to `i`, so values can be checked.
    """
    folder = tmp_path / "tiny_mnist"
    folder.mkdir()
    for prefix, count in (("train", 20), ("t10k", 10)):
        images = np.repeat(np.arange(count, dtype=np.uint8), 28 * 28).tobytes()
        labels = (np.arange(count) % 10).astype(np.uint8).tobytes()
        with gzip.open(folder / f"{prefix}-images-idx3-ubyte.gz", "wb") as stream:
            stream.write(struct.pack(">IIII", 2051, count, 28, 28) + images)
        with gzip.open(folder / f"{prefix}-labels-idx1-ubyte.gz", "wb") as stream:
            stream.write(struct.pack(">II", 2049, count) + labels)
    return folder
