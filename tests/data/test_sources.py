"""explorer.data.sources: where MNIST comes from, in order, with no download in any test."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from explorer.data import sources as data
from explorer.data.npz import NPZ_KEYS, read_npz
from explorer.data.sources import (
    DATA_SOURCES,
    SAMPLE_PATH,
    MnistData,
    fingerprint_arrays,
    load_mnist,
    stratified_subset,
)
from tests.data.mnist_files import (
    deny_reading,
    deny_searching,
    npy_member,
    small_arrays,
    write_idx_bomb_folder,
    write_idx_folder,
    write_npz,
    write_npz_bomb,
    write_sparse_idx,
    write_zip,
)

# Read before any fixture changes the environment: the optional full-MNIST check uses it.
FULL_MNIST_DIR = os.environ.get("EXPLORER_DATA_DIR", "")


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


# ---- broken inputs: every message names the file and the real cause -------------------------


def _message_about(path: Path, cause: str) -> str:
    """A pattern for a message naming `path` and then `cause` (a regular expression)."""
    return re.escape(str(path)) + ":? " + cause


@pytest.mark.parametrize("layout", ["npz", "idx"])
def test_unreadable_file_says_permission_denied(tmp_path, monkeypatch, layout):
    folder = tmp_path / "mnist"
    if layout == "npz":
        unreadable = write_npz(folder / "mnist.npz", small_arrays())
    else:
        unreadable = write_idx_folder(folder, small_arrays(), gz=True) / "t10k-images-idx3-ubyte.gz"
    deny_reading(monkeypatch, unreadable)
    with pytest.raises(ValueError, match=_message_about(unreadable, "cannot be read: permission")):
        load_mnist(folder)


@pytest.mark.parametrize("locked", ["file", "folder"])
def test_unreadable_file_says_permission_denied_for_real(tmp_path, locked):
    npz = write_npz(tmp_path / "mnist" / "mnist.npz", small_arrays())
    target = npz if locked == "file" else npz.parent
    target.chmod(0)
    try:
        try:
            npz.open("rb").close()
            pytest.skip("this user (root) reads files whatever their permissions; see above")
        except PermissionError:
            pass
        with pytest.raises(ValueError, match=_message_about(npz, "cannot be read: permission")):
            load_mnist(npz.parent)
    finally:
        target.chmod(0o700)


@pytest.mark.parametrize("loop", ["npz file", "IDX file", "data folder", "folder on the path"])
def test_symlink_loop_is_named(tmp_path, loop):
    folder = tmp_path / "mnist"
    write_idx_folder(folder, small_arrays(), gz=True)
    if loop == "npz file":
        looping = folder / "mnist.npz"
        looping.symlink_to(looping.name)  # a link to itself
    elif loop == "IDX file":
        looping = folder / "t10k-images-idx3-ubyte.gz"
        looping.unlink()
        looping.symlink_to(looping.name)
    elif loop == "data folder":
        folder = looping = tmp_path / "loop"
        looping.symlink_to(looping.name)
    else:
        (tmp_path / "loop").symlink_to("loop")
        folder = looping = tmp_path / "loop" / "mnist"
    with pytest.raises(ValueError, match=_message_about(looping, "is a symbolic link loop")):
        load_mnist(folder)


@pytest.mark.parametrize(
    "problem", ["npz is a folder", "IDX file is a device", "broken link", "folder is a file"]
)
def test_path_that_is_not_a_usable_file_is_named(tmp_path, problem):
    folder = write_idx_folder(tmp_path / "mnist", small_arrays(), gz=True)
    if problem == "npz is a folder":
        culprit, cause = folder / "mnist.npz", "is a folder, not a file"
        culprit.mkdir()
    elif problem == "IDX file is a device":
        (folder / "train-labels-idx1-ubyte.gz").unlink()
        culprit, cause = folder / "train-labels-idx1-ubyte", "is not a regular file"
        culprit.symlink_to(os.devnull)
    elif problem == "broken link":
        culprit, cause = folder / "mnist.npz", "is a broken symbolic link: it points to gone.npz"
        culprit.symlink_to("gone.npz")
    else:
        culprit, cause = folder / "t10k-labels-idx1-ubyte.gz", "is a file, not a folder"
        folder = culprit
    with pytest.raises(ValueError, match=_message_about(culprit, cause)):
        load_mnist(folder)


@pytest.mark.parametrize("problem", ["symbolic link loop", "permission denied", "folder"])
def test_broken_keras_cache_is_explained_in_a_note(tmp_path, monkeypatch, problem):
    cache = tmp_path / "keras" / "datasets" / "mnist.npz"
    cache.parent.mkdir(parents=True)
    if problem == "symbolic link loop":
        cache.symlink_to(cache.name)
    elif problem == "permission denied":
        deny_reading(monkeypatch, write_npz(cache, small_arrays()))
    else:
        cache.mkdir()
    loaded = load_mnist(keras_home=tmp_path / "keras")
    assert loaded.source == "sample"
    broken = [note for note in loaded.notes if note.startswith(f"Keras cache file {cache} is")]
    assert len(broken) == 1 and problem in broken[0]


def _encrypted_member(folder: Path, monkeypatch) -> Path:
    members = [npy_member(key, array) for key, array in zip(NPZ_KEYS, small_arrays(), strict=True)]
    members[0] = dataclasses.replace(members[0], flag_bits=0x1)
    return write_zip(folder / "mnist.npz", members)


def _unknown_compression(folder: Path, monkeypatch) -> Path:
    members = [npy_member(key, array) for key, array in zip(NPZ_KEYS, small_arrays(), strict=True)]
    members[2] = dataclasses.replace(members[2], compress_type=99)
    return write_zip(folder / "mnist.npz", members)


def _unsearchable_folder(folder: Path, monkeypatch) -> Path:
    deny_searching(monkeypatch, write_npz(folder / "mnist.npz", small_arrays()).parent)
    return folder / "mnist.npz"


@pytest.mark.parametrize(
    ("make_broken_folder", "cause"),
    [
        (_encrypted_member, "'x_train' is encrypted"),
        (_unknown_compression, "'x_test' is packed with zip method 99"),
        (_unsearchable_folder, "cannot be read: permission denied"),
    ],
    ids=["encrypted member", "unknown compression", "folder cannot be searched"],
)
def test_broken_folder_raises_only_value_error_naming_the_file(
    tmp_path, monkeypatch, make_broken_folder, cause
):
    # Every page view reads the folder again: anything but a ValueError shows a traceback.
    folder = tmp_path / "mnist"
    folder.mkdir()
    culprit = make_broken_folder(folder, monkeypatch)
    with pytest.raises(ValueError, match=_message_about(culprit, cause)):
        load_mnist(folder)


# Run in a child process whose memory is limited to what it uses already plus 24 MB: not enough
# for the 47 MB of MNIST's training images, so reading them raises MemoryError.
_LOAD_WITH_LITTLE_MEMORY = """
import json, resource, sys
from explorer.data.sources import load_mnist

with open("/proc/self/status") as status:
    in_use = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
_, hard_limit = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (in_use + 24 * 2**20, hard_limit))
try:
    load_mnist(sys.argv[1])
    outcome = ["accepted", "", False]
except BaseException as error:
    outcome = [type(error).__name__, str(error), isinstance(error, ValueError)]
print(json.dumps(outcome))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="limits memory the Linux way")
@pytest.mark.parametrize("layout", ["idx-raw", "idx-gz", "npz"])
def test_running_out_of_memory_becomes_value_error_naming_the_file(tmp_path, layout):
    # Full-size MNIST training images (60,000, all zero), written in milliseconds.
    folder = tmp_path / "mnist"
    if layout == "npz":
        culprit = write_npz_bomb(folder / "mnist.npz", images=60_000)
    else:
        culprit = write_idx_bomb_folder(folder, images=60_000) / "train-images-idx3-ubyte.gz"
        if layout == "idx-raw":  # read before the .gz next to it
            culprit = write_sparse_idx(culprit.with_suffix(""), 60_000)
    child = subprocess.run(
        [sys.executable, "-c", _LOAD_WITH_LITTLE_MEMORY, str(folder)],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    error_type, message, is_value_error = json.loads(child.stdout)
    assert is_value_error, f"{error_type}: {message}"
    assert re.search(
        _message_about(culprit, "could not be read: the computer ran out of memory"), message
    )


def test_unknown_home_folder_skips_the_keras_cache_with_a_note(monkeypatch):
    # As in containers with no HOME and no entry for the user in the user database.
    def no_home(cls):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setattr(Path, "home", classmethod(no_home))
    loaded = load_mnist()
    assert loaded.source == "sample"
    assert any("the home folder is unknown" in note for note in loaded.notes)


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


def test_download_with_unknown_home_folder_still_uses_the_data(tmp_path, monkeypatch):
    payload = write_npz(tmp_path / "served.npz", small_arrays()).read_bytes()
    monkeypatch.setattr(data.urllib.request, "urlopen", FakeNetwork(payload))
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(payload).hexdigest())
    monkeypatch.setattr(data, "_keras_cache_file", lambda keras_home: None)
    loaded = load_mnist(offline=False)
    assert loaded.source == "download"
    assert "Could not save the download: the home folder is unknown." in loaded.notes


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
