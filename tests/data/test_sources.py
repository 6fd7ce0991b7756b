"""explorer.data.sources: where MNIST comes from, in order, with no download in any test."""

from __future__ import annotations

import hashlib
import io
import os
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from explorer.data import sources as data
from explorer.data.files import read_npz
from explorer.data.sources import (
    DATA_SOURCES,
    SAMPLE_PATH,
    MnistData,
    fingerprint_arrays,
    load_mnist,
    stratified_subset,
)
from tests.data.mnist_files import (
    small_arrays,
    write_idx_folder,
    write_npz,
)

# Read before any fixture changes the environment: the optional full-MNIST check uses it.
FULL_MNIST_DIR = os.environ.get("EXPLORER_DATA_DIR", "")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No data folder from the environment and an empty Keras home, so only fixtures are used."""
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))


def test_explicit_folder_wins_over_environment_and_cache(tmp_path, monkeypatch):
    explicit = write_npz(tmp_path / "explicit" / "mnist.npz", small_arrays(seed=1)).parent
    monkeypatch.setenv(
        "EXPLORER_DATA_DIR", str(write_idx_folder(tmp_path / "env", small_arrays(seed=2), gz=True))
    )
    write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", small_arrays(seed=3))
    loaded = load_mnist(explicit, keras_home=tmp_path / "keras")
    assert loaded.fingerprint == fingerprint_arrays(*small_arrays(seed=1))
    assert loaded.location == str(explicit)


def test_environment_folder_is_used(tiny_mnist_dir, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tiny_mnist_dir))
    loaded = load_mnist()
    assert loaded.source == "data-dir" and loaded.location == str(tiny_mnist_dir)
    assert len(loaded.x_train) == 20


def test_offline_without_data_falls_back_to_sample(tmp_path):
    loaded = load_mnist(keras_home=tmp_path / "no_keras")
    assert loaded.source == "sample" and loaded.is_sample
    assert loaded.location == str(SAMPLE_PATH)
    assert any("Download skipped" in note for note in loaded.notes)
    assert any("No Keras cache file" in note for note in loaded.notes)
    assert loaded.describe().startswith("Bundled sample (6,000 train / 1,000 test)")


@pytest.mark.parametrize("via_environment", [False, True])
def test_keras_cache_is_used(tmp_path, monkeypatch, via_environment):
    cache = write_npz(tmp_path / "keras" / "datasets" / "mnist.npz", small_arrays())
    if via_environment:
        monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
        loaded = load_mnist()
    else:
        loaded = load_mnist(keras_home=tmp_path / "keras")
    assert loaded.source == "keras-cache" and loaded.location == str(cache)
    assert "from the Keras cache" in loaded.describe()


def test_broken_keras_cache_falls_through_with_note(tmp_path):
    cache = tmp_path / "keras" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    cache.write_bytes(b"broken")
    loaded = load_mnist(keras_home=tmp_path / "keras")
    assert loaded.source == "sample"
    assert any(note.startswith(f"Keras cache file {cache} is broken") for note in loaded.notes)


class FakeNetwork:
    """Stands in for urllib.request.urlopen: returns `payload` or raises `error`."""

    def __init__(self, payload: bytes = b"", error: Exception | None = None):
        self.payload, self.error, self.calls = payload, error, []

    def __call__(self, url, timeout=None):
        self.calls.append((url, timeout))
        if self.error is not None:
            raise self.error
        return io.BytesIO(self.payload)


def test_download_is_verified_saved_atomically_and_used(tmp_path, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", small_arrays()).read_bytes()
    network = FakeNetwork(payload)
    monkeypatch.setattr(data.urllib.request, "urlopen", network)
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    loaded = load_mnist(offline=False, keras_home=tmp_path / "keras", download_timeout=3.5)
    assert network.calls == [(data.MNIST_URL, 3.5)]
    assert loaded.source == "download" and loaded.location == data.MNIST_URL
    cache_folder = tmp_path / "keras" / "datasets"
    assert [p.name for p in cache_folder.iterdir()] == ["mnist.npz"]  # no temporary file left
    assert (cache_folder / "mnist.npz").read_bytes() == payload
    assert load_mnist(keras_home=tmp_path / "keras").source == "keras-cache"


def test_download_with_unwritable_cache_still_uses_the_data(tmp_path, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", small_arrays()).read_bytes()
    monkeypatch.setattr(data.urllib.request, "urlopen", FakeNetwork(payload))
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    (tmp_path / "keras_is_a_file").write_text("not a folder")
    loaded = load_mnist(offline=False, keras_home=tmp_path / "keras_is_a_file")
    assert loaded.source == "download"
    assert any("Could not save the download" in note for note in loaded.notes)


def test_download_with_wrong_hash_falls_through(tmp_path, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", small_arrays()).read_bytes()
    monkeypatch.setattr(data.urllib.request, "urlopen", FakeNetwork(payload))
    loaded = load_mnist(offline=False, keras_home=tmp_path / "keras")
    assert loaded.source == "sample"
    assert any("failed" in note and "sha256" in note for note in loaded.notes)
    assert not (tmp_path / "keras" / "datasets" / "mnist.npz").exists()


@pytest.mark.parametrize(
    "error", [TimeoutError("timed out"), urllib.error.URLError("no route to host")]
)
def test_network_failure_falls_through_quickly(tmp_path, monkeypatch, error):
    monkeypatch.setattr(data.urllib.request, "urlopen", FakeNetwork(error=error))
    monkeypatch.delenv("EXPLORER_OFFLINE")
    started = time.monotonic()
    loaded = load_mnist(keras_home=tmp_path / "keras")
    assert time.monotonic() - started < 5
    assert loaded.source == "sample"
    assert any(note.startswith(f"Download of {data.MNIST_URL} failed") for note in loaded.notes)


# ---- the bundled sample, subsets, prepared data, fingerprints -------------------------------


def test_bundled_sample_is_balanced_uint8():
    x_train, y_train, x_test, y_test = read_npz(SAMPLE_PATH)
    assert x_train.shape == (6000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    np.testing.assert_array_equal(np.bincount(y_train, minlength=10), [600] * 10)
    np.testing.assert_array_equal(np.bincount(y_test, minlength=10), [100] * 10)


def test_stratified_subset_keeps_class_shares():
    labels = np.repeat(np.arange(10), [100, 200, 50, 50, 50, 50, 50, 50, 50, 3])
    chosen = stratified_subset(labels, 0.1, seed=1)
    assert chosen.dtype == np.int64 and (np.diff(chosen) > 0).all()
    np.testing.assert_array_equal(np.bincount(labels[chosen]), [10, 20, 5, 5, 5, 5, 5, 5, 5, 1])
    np.testing.assert_array_equal(chosen, stratified_subset(labels, 0.1, seed=1))
    assert not np.array_equal(chosen, stratified_subset(labels, 0.1, seed=2))
    np.testing.assert_array_equal(stratified_subset(labels, 1.0, seed=1), np.arange(len(labels)))


@pytest.mark.parametrize("fraction", [0, -0.5, 1.5, float("nan"), "half"])
def test_stratified_subset_rejects_bad_fraction(fraction):
    with pytest.raises(ValueError, match="fraction must be"):
        stratified_subset(np.arange(10), fraction, seed=0)


def test_mnist_data_made_by_hand_works():
    arrays = small_arrays()
    made = MnistData(
        *arrays, source="sample", location="x", fingerprint=fingerprint_arrays(*arrays)
    )
    assert made.is_sample and made.notes == ()
    np.testing.assert_array_equal(made.class_counts_test, [2] * 10)
    assert set(DATA_SOURCES) == {"data-dir", "keras-cache", "download", "sample"}


def test_fingerprint_changes_with_one_pixel_and_with_shape():
    arrays = small_arrays()
    copies = [array.copy() for array in arrays]
    assert fingerprint_arrays(*arrays) == fingerprint_arrays(*copies)
    copies[2][5, 10, 10] ^= 1
    assert fingerprint_arrays(*arrays) != fingerprint_arrays(*copies)
    x_train = arrays[0]
    assert fingerprint_arrays(x_train) != fingerprint_arrays(x_train.reshape(-1, 784))


@pytest.mark.skipif(
    not (FULL_MNIST_DIR and Path(FULL_MNIST_DIR).is_dir()),
    reason="set EXPLORER_DATA_DIR to a folder with full MNIST to run",
)
def test_full_mnist_from_environment_folder():
    loaded = load_mnist(FULL_MNIST_DIR)
    assert (len(loaded.x_train), len(loaded.x_test)) == (60_000, 10_000)
    np.testing.assert_array_equal(
        loaded.class_counts_test, [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    assert loaded.describe().startswith("Full MNIST (60,000 train / 10,000 test) from folder")
