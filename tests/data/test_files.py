"""explorer.data.files: reading and checking MNIST files, good, broken and hostile."""

from __future__ import annotations

import gzip
import os
import re

import numpy as np
import pytest

from explorer.data.files import read_idx, read_idx_folder, validate_mnist_arrays
from explorer.data.npz import read_npz
from explorer.data.sources import (
    fingerprint_arrays,
    load_mnist,
)
from tests.data.mnist_files import (
    PEAK_MEMORY_LIMIT_BYTES,
    SECONDS_LIMIT,
    MemoryAndTime,
    assert_same_arrays,
    idx_images,
    idx_labels,
    small_arrays,
    write_file,
    write_idx_bomb,
    write_idx_bomb_folder,
    write_idx_folder,
    write_npz,
    write_sparse_idx,
)

# Read before any fixture changes the environment: the optional full-MNIST check uses it.
FULL_MNIST_DIR = os.environ.get("EXPLORER_DATA_DIR", "")


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


def test_the_data_folder_is_shown_with_the_home_folder_as_a_tilde(tmp_path, monkeypatch):
    """On a class server every student sees the data line: it names the folder, not the
    teacher's account."""
    home = tmp_path / "teacher"
    write_npz(home / "data" / "mnist" / "mnist.npz", small_arrays())
    monkeypatch.setenv("HOME", str(home))
    loaded = load_mnist(home / "data" / "mnist")
    assert loaded.describe().endswith("from folder ~/data/mnist")
    assert loaded.location == str(home / "data" / "mnist")  # the real path stays known
    write_npz(tmp_path / "teachers" / "mnist.npz", small_arrays())  # a neighbour, not the home
    assert load_mnist(tmp_path / "teachers").describe().endswith(str(tmp_path / "teachers"))


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


@pytest.mark.parametrize("gz", [True, False])
def test_extra_data_after_body_is_rejected(tmp_path, gz):
    x_train, *_ = small_arrays(train=2)
    path = write_file(tmp_path / "images", idx_images(x_train, count=1), gz)
    with pytest.raises(ValueError, match="more data than its header says"):
        read_idx(path, 2051)


def test_counts_that_disagree_are_rejected(tmp_path):
    x_train, y_train, x_test, y_test = small_arrays()
    folder = write_idx_folder(tmp_path / "mnist", (x_train, y_train[:-1], x_test, y_test), gz=True)
    with pytest.raises(ValueError, match="x_train holds 30 images but y_train holds 29 labels"):
        read_idx_folder(folder)


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize(
    ("magic", "count", "kind"), [(2051, 2_000_000_000, "images"), (2049, 70_001, "labels")]
)
def test_idx_header_claiming_more_than_mnist_is_rejected_before_reading(
    tmp_path, gz, magic, count, kind
):
    header = (
        idx_images(np.zeros(0, np.uint8), count)
        if magic == 2051
        else idx_labels(np.zeros(0), count)
    )
    path = write_file(tmp_path / kind, header, gz)
    with (
        MemoryAndTime() as measured,
        pytest.raises(
            ValueError,
            match=f"{kind}(.gz)? says it holds {count:,} {kind}, but MNIST has only 70,000",
        ),
    ):
        read_idx(path, magic)
    assert measured.peak_bytes < 1_000_000


def test_gzip_with_lying_header_reads_only_real_data(tmp_path):
    # Within the gzip size bound, so it is read; the short body is then reported as truncated.
    x_train, *_ = small_arrays(train=1)
    path = write_file(tmp_path / "images", idx_images(x_train, count=50), gz=True)
    with pytest.raises(ValueError, match="header says 50 images but the file holds only 1"):
        read_idx(path, 2051)


# ---- bombs: small files that unpack to gigabytes ------------------------------------------------
# Each was read to 3 GB or to a MemoryError before sizes were checked against MNIST's.


def test_gzip_idx_bomb_with_matching_labels_is_rejected_quickly_in_little_memory(tmp_path):
    folder = write_idx_bomb_folder(tmp_path / "mnist")
    images = folder / "train-images-idx3-ubyte.gz"
    assert images.stat().st_size < 4_000_000  # 3 MB, holding 3.1 GB
    message = rf"{re.escape(str(images))} says it holds 4,000,000 images, but MNIST has only"
    with MemoryAndTime() as measured, pytest.raises(ValueError, match=message):
        read_idx_folder(folder)
    assert measured.peak_bytes < PEAK_MEMORY_LIMIT_BYTES
    assert measured.seconds < SECONDS_LIMIT


def test_gzip_idx_is_unpacked_only_as_far_as_its_header_claims(tmp_path):
    # The header tells the truth about MNIST's size, but 3.1 GB of zeros follow.
    path = write_idx_bomb(tmp_path / "images.gz", claimed_images=60_000)
    with (
        MemoryAndTime() as measured,
        pytest.raises(ValueError, match=r"more data than its header says \(60000 images\)"),
    ):
        read_idx(path, 2051)
    assert measured.peak_bytes < PEAK_MEMORY_LIMIT_BYTES
    assert measured.seconds < SECONDS_LIMIT


def test_sparse_raw_idx_claiming_billions_is_rejected_before_reading(tmp_path):
    # 3.1 TB long, as its header says, but sparse: it takes no disk space.
    path = write_sparse_idx(tmp_path / "train-images-idx3-ubyte", 4_000_000_000)
    with (
        MemoryAndTime() as measured,
        pytest.raises(
            ValueError, match="says it holds 4,000,000,000 images, but MNIST has only 70,000"
        ),
    ):
        read_idx(path, 2051)
    assert measured.peak_bytes < PEAK_MEMORY_LIMIT_BYTES
    assert measured.seconds < SECONDS_LIMIT


def test_raw_idx_must_be_exactly_as_long_as_its_header_says(tmp_path):
    path = write_sparse_idx(tmp_path / "train-images-idx3-ubyte", 4_000_000_000)
    with path.open("r+b") as stream:  # now the header claims MNIST's size, the file is 3.1 TB
        stream.write(idx_images(np.zeros(0, np.uint8), 60_000))
    message = r"\(60000 images\): it is 3,136,000,000,016 bytes, not 47,040,016"
    with MemoryAndTime() as measured, pytest.raises(ValueError, match=message):
        read_idx(path, 2051)
    assert measured.peak_bytes < 1_000_000  # refused before reading the body


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
