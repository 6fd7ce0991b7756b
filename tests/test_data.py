"""Tests for explorer.data and explorer.idx: finding, reading and checking MNIST. No downloads."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import struct
import time
import tracemalloc
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from explorer import data
from explorer.data import (
    DATA_SOURCES,
    SAMPLE_PATH,
    MnistData,
    fingerprint_arrays,
    load_mnist,
    read_idx,
    read_idx_folder,
    read_npz,
    stratified_subset,
    validate_mnist_arrays,
)
from explorer.idx import NPZ_KEYS

# Read before any fixture changes the environment: the optional full-MNIST check uses it.
FULL_MNIST_DIR = os.environ.get("EXPLORER_DATA_DIR", "")


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    """No data folder from the environment and an empty Keras home, so only fixtures are used."""
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "empty_keras_home"))


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


# ---- readers on good files -------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trips_images_and_labels(tmp_path, gz):
    x_train, y_train, _, _ = small_arrays()
    images = read_idx(write_file(tmp_path / "images", idx_images(x_train), gz), 2051)
    labels = read_idx(write_file(tmp_path / "labels", idx_labels(y_train), gz), 2049)
    assert images.shape == (30, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (30,) and labels.dtype == np.uint8
    np.testing.assert_array_equal(images, x_train)
    np.testing.assert_array_equal(labels, y_train)


def test_tiny_mnist_dir_fixture_reads(tiny_mnist_dir):
    x_train, _, x_test, y_test = read_idx_folder(tiny_mnist_dir)
    assert x_train.shape == (20, 28, 28) and x_test.shape == (10, 28, 28)
    assert (x_train[7] == 7).all()
    np.testing.assert_array_equal(y_test, np.arange(10))


def test_read_npz_round_trips(tmp_path):
    arrays = small_arrays()
    assert_same_arrays(read_npz(write_npz(tmp_path / "mnist.npz", arrays)), arrays)


@pytest.mark.parametrize("layout", ["npz", "idx-gz", "idx-raw"])
def test_load_mnist_reads_folder_in_each_layout(tmp_path, layout):
    arrays = small_arrays()
    folder = tmp_path / "mnist"
    if layout == "npz":
        write_npz(folder / "mnist.npz", arrays)
    else:
        write_idx_folder(folder, arrays, gz=layout == "idx-gz")
    loaded = load_mnist(folder)
    assert loaded.source == "data-dir" and loaded.location == str(folder)
    assert_same_arrays((loaded.x_train, loaded.y_train, loaded.x_test, loaded.y_test), arrays)
    assert loaded.fingerprint == fingerprint_arrays(*arrays)
    assert not loaded.is_sample
    assert "MNIST (30 train / 20 test) from folder" in loaded.describe()


# ---- bad inputs ------------------------------------------------------------------------------


def test_empty_files_are_rejected(tmp_path):
    (tmp_path / "empty").write_bytes(b"")
    with pytest.raises(ValueError, match=r"empty.* is empty"):
        read_idx(tmp_path / "empty", 2051)
    with pytest.raises(ValueError, match=r"empty.* is empty"):
        read_npz(tmp_path / "empty")


def test_truncated_gzip_is_rejected(tmp_path):
    x_train, *_ = small_arrays()
    compressed = gzip.compress(idx_images(x_train))
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte\.gz is a damaged or truncated"):
        read_idx(path, 2051)


@pytest.mark.parametrize("gz", [True, False])
def test_body_shorter_than_header_is_truncated(tmp_path, gz):
    x_train, *_ = small_arrays(train=2)
    path = write_file(tmp_path / "images", idx_images(x_train, count=5), gz)
    with pytest.raises(
        ValueError, match="truncated: header says 5 images but the file holds only 2"
    ):
        read_idx(path, 2051)


def test_wrong_magic_is_rejected(tmp_path):
    _, y_train, *_ = small_arrays()
    path = write_file(tmp_path / "labels", idx_labels(y_train), gz=False)
    with pytest.raises(
        ValueError, match=r"labels has magic number 2049 \(labels\).*start with 2051"
    ):
        read_idx(path, 2051)


def test_wrong_image_size_is_rejected(tmp_path):
    images = np.zeros((3, 27, 28), dtype=np.uint8)
    path = write_file(tmp_path / "images", idx_images(images, rows=27), gz=True)
    with pytest.raises(ValueError, match="wrong image size: 27x28 pixels"):
        read_idx(path, 2051)


def test_label_out_of_range_is_rejected(tmp_path):
    path = write_file(tmp_path / "labels", idx_labels(np.array([1, 2, 10, 3])), gz=False)
    with pytest.raises(
        ValueError, match=r"holds label 10 at position 2; MNIST labels must be 0\.\.9"
    ):
        read_idx(path, 2049)


def test_extra_data_after_body_is_rejected(tmp_path):
    x_train, *_ = small_arrays(train=2)
    path = write_file(tmp_path / "images", idx_images(x_train, count=1), gz=True)
    with pytest.raises(ValueError, match="more data than its header says"):
        read_idx(path, 2051)


def test_counts_that_disagree_are_rejected(tmp_path):
    x_train, y_train, x_test, y_test = small_arrays()
    folder = write_idx_folder(tmp_path / "mnist", (x_train, y_train[:-1], x_test, y_test), gz=True)
    with pytest.raises(ValueError, match="x_train holds 30 images but y_train holds 29 labels"):
        read_idx_folder(folder)


@pytest.mark.parametrize(
    ("gz", "message"),
    [(False, "truncated: header says 2000000000 images"), (True, "far more than a")],
)
def test_huge_header_is_rejected_before_allocating(tmp_path, gz, message):
    path = write_file(tmp_path / "images", idx_images(np.zeros(0, np.uint8), 2_000_000_000), gz)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            read_idx(path, 2051)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_bytes < 1_000_000


def test_gzip_with_lying_header_reads_only_real_data(tmp_path):
    # Within the gzip size bound, so it is read; the short body is then reported as truncated.
    x_train, *_ = small_arrays(train=1)
    path = write_file(tmp_path / "images", idx_images(x_train, count=50), gz=True)
    with pytest.raises(ValueError, match="header says 50 images but the file holds only 1"):
        read_idx(path, 2051)


def test_npz_missing_keys_are_named(tmp_path):
    x_train, y_train, x_test, _ = small_arrays()
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test)
    with pytest.raises(ValueError, match=r"mnist\.npz is missing the arrays y_test"):
        read_npz(path)


def test_file_that_is_not_npz_is_rejected(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(ValueError, match=r"mnist\.npz is not an \.npz archive"):
        read_npz(path)


def _create_flag_file(path):
    Path(path).write_text("unpickled!")
    return 0


class Booby:
    """Unpickling this object would create a file: proof that something unpickled it."""

    def __init__(self, flag_path):
        self.flag_path = str(flag_path)

    def __reduce__(self):
        return (_create_flag_file, (self.flag_path,))


def test_npz_with_object_array_is_refused_without_unpickling(tmp_path):
    flag = tmp_path / "unpickled.flag"
    _, y_train, x_test, y_test = small_arrays()
    path = tmp_path / "mnist.npz"
    objects = np.array([Booby(flag), {"a": 1}], dtype=object)
    np.savez(path, x_train=objects, y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(ValueError, match=r"mnist\.npz holds 'x_train' as an array of Python obj"):
        read_npz(path)
    with pytest.raises(ValueError, match="Python objects"):
        load_mnist(tmp_path)
    assert not flag.exists()


def test_folder_with_only_some_files_names_the_missing_one(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist", small_arrays(), gz=True)
    (folder / "t10k-labels-idx1-ubyte.gz").unlink()
    message = r"holds only some of the MNIST files: missing t10k-labels-idx1-ubyte\(\.gz\)"
    with pytest.raises(ValueError, match=message):
        load_mnist(folder)


def test_explicit_folder_that_is_missing_or_empty_raises(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"holds no MNIST files: expected mnist\.npz"):
        load_mnist(tmp_path / "empty")


def test_broken_folder_from_environment_raises_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match=r"does not exist.*set by EXPLORER_DATA_DIR"):
        load_mnist()


def test_validate_mnist_arrays_explains_problems():
    x_train, y_train, x_test, y_test = small_arrays()
    with pytest.raises(ValueError, match="here: x_train has dtype float64, but MNIST images must"):
        validate_mnist_arrays(x_train / 255, y_train, x_test, y_test, origin="here")
    with pytest.raises(ValueError, match=r"x_test has shape \(20, 784\)"):
        validate_mnist_arrays(x_train, y_train, x_test.reshape(20, -1), y_test, origin="here")
    with pytest.raises(ValueError, match="y_test holds label -1"):
        validate_mnist_arrays(x_train, y_train, x_test, y_test.astype(int) - 1, origin="here")
    validate_mnist_arrays(x_train, y_train.astype(np.int64), x_test, y_test, origin="here")


# ---- the search order --------------------------------------------------------------------------


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


def test_prepared_data_is_scaled_and_cached(tiny_mnist_dir):
    loaded = load_mnist(tiny_mnist_dir)
    prepared = loaded.prepared()
    assert prepared is loaded.prepared()
    assert prepared.x_train.shape == (20, 784) and prepared.x_test.shape == (10, 784)
    assert prepared.x_train.dtype == np.float32 and prepared.x_train.flags.c_contiguous
    assert prepared.y_train.dtype == np.int32 and prepared.x_train.max() <= 1.0
    expected = loaded.x_train.reshape(20, 784).astype(np.float32) / 255
    np.testing.assert_array_equal(prepared.x_train, expected)
    np.testing.assert_array_equal(prepared.y_test, loaded.y_test)


def test_mnist_data_made_by_hand_works():
    arrays = small_arrays()
    made = MnistData(
        *arrays, source="sample", location="x", fingerprint=fingerprint_arrays(*arrays)
    )
    assert made.is_sample and made.notes == ()
    assert made.prepared().x_test.shape == (20, 784)
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
