"""Find and load MNIST for the explorer, falling back step by step so the page always has data.

Use `load_mnist()` and read `.describe()` / `.notes` to tell the class where the data came from:

    data = load_mnist()                 # or load_mnist("path/to/folder")
    data.x_train, data.y_train          # (n, 28, 28) uint8 and (n,) uint8, read-only
    read_mnist_folder("path/to/folder") # the four arrays of one folder, npz or IDX files

Search order: an explicit folder (`data_dir` or env `EXPLORER_DATA_DIR`, holding `mnist.npz` or
the four IDX files), Keras' cache (`$KERAS_HOME/datasets/mnist.npz` or
`~/.keras/datasets/mnist.npz`), a time-limited download (skipped when env `EXPLORER_OFFLINE=1`),
and finally the small sample bundled with the package. This module needs only NumPy.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import math
import os
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data.files import (
    NPZ_FILE_NAME,
    MnistFileError,
    check_folder,
    entry_exists,
    read_idx_folder,
    validate_mnist_arrays,
)
from explorer.data.npz import read_npz, read_npz_source

DATA_SOURCES = ("data-dir", "keras-cache", "download", "sample")
DATA_DIR_ENV = "EXPLORER_DATA_DIR"
OFFLINE_ENV = "EXPLORER_OFFLINE"
SAMPLE_PATH = Path(__file__).parent / "sample" / "mnist_sample.npz"
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# The real file is about 11 MB; anything far larger is not MNIST and must not fill the memory.
MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
DOWNLOAD_CHUNK_BYTES = 1024 * 1024
# `download_timeout` bounds each network wait; the whole transfer gets this many times as long,
# so a trickling connection cannot hold the page forever either.
DOWNLOAD_TOTAL_TIME_FACTOR = 6
FULL_MNIST_SIZES = (60_000, 10_000)


def read_mnist_folder(
    folder: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read `(x_train, y_train, x_test, y_test)` from `folder/mnist.npz` or its four IDX files.

    Raises `MnistFileError` naming the folder or file if anything is missing or broken.
    """
    try:
        folder = Path(folder).expanduser()
    except RuntimeError as error:  # "~" or "~user" with no known home folder
        raise MnistFileError(f"MNIST folder {folder}: {error}") from error
    check_folder(folder)
    if entry_exists(folder / NPZ_FILE_NAME):
        return read_npz(folder / NPZ_FILE_NAME)
    return read_idx_folder(folder)


@dataclass(frozen=True, eq=False)
class MnistData:
    """MNIST images as uint8 for display, plus where they came from. Create with `load_mnist()`.

    `fingerprint` identifies the exact data (use it in cache keys); `notes` explain why earlier
    sources were skipped, for the page to show. Arrays are read-only because they are shared.
    """

    x_train: np.ndarray  # (n, 28, 28) uint8
    y_train: np.ndarray  # (n,) uint8 in 0..9
    x_test: np.ndarray  # (m, 28, 28) uint8
    y_test: np.ndarray  # (m,) uint8
    source: str  # one of DATA_SOURCES
    location: str  # folder, file or URL the data came from
    fingerprint: str  # fingerprint_arrays(x_train, y_train, x_test, y_test)
    notes: tuple[str, ...] = ()

    @property
    def is_sample(self) -> bool:
        """True when this is the small bundled sample rather than the full data set."""
        return self.source == "sample"

    @property
    def class_counts_test(self) -> np.ndarray:
        """How many test images each digit 0..9 has, as an array of length 10."""
        return np.bincount(self.y_test, minlength=10)

    def describe(self) -> str:
        """One line for the page, e.g. "Full MNIST (60,000 train / 10,000 test) from folder x"."""
        sizes = f"{len(self.x_train):,} train / {len(self.x_test):,} test"
        if self.is_sample:
            return f"Bundled sample ({sizes}) of MNIST, used because the full data was not found"
        full = (len(self.x_train), len(self.x_test)) == FULL_MNIST_SIZES
        where = {
            "data-dir": "from folder",
            "keras-cache": "from the Keras cache",
            "download": "downloaded from",
        }.get(self.source, "from")
        return f"{'Full MNIST' if full else 'MNIST'} ({sizes}) {where} {_shown(self.location)}"


def _shown(location: str) -> str:
    """`location` with the server user's home folder as "~": a class sees where the data is
    without the teacher's account name."""
    home = os.path.expanduser("~")
    if home not in ("", "~", "/") and (location == home or location.startswith(home + os.sep)):
        return "~" + location[len(home) :]
    return location


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    offline: bool | None = None,
    keras_home: str | os.PathLike | None = None,
    download_timeout: float = 10.0,
) -> MnistData:
    """Find MNIST (see the module docstring for the order) and return it as `MnistData`.

    `data_dir` (or env `EXPLORER_DATA_DIR`) names a folder you want used; if it is broken this
    raises `ValueError` instead of quietly using something else. `offline=None` reads env
    `EXPLORER_OFFLINE`. `keras_home` replaces `$KERAS_HOME` / `~/.keras`. `download_timeout` is
    in seconds. Raises `ValueError` (never `OSError` or `MemoryError`, whatever is on the disk)
    naming the file and the cause if the folder you named is broken, or if even the bundled
    sample cannot be read.
    """
    notes: list[str] = []
    if data_dir is not None and str(data_dir) != "":
        return _finish(read_mnist_folder(data_dir), "data-dir", str(Path(data_dir)), notes)
    env_folder = os.environ.get(DATA_DIR_ENV, "")
    if env_folder:
        try:
            arrays = read_mnist_folder(env_folder)
            return _finish(arrays, "data-dir", str(Path(env_folder)), notes)
        except ValueError as error:
            raise ValueError(f"{error} (this folder was set by {DATA_DIR_ENV})") from error
    notes.append(f"No data folder given (argument data_dir or environment {DATA_DIR_ENV}).")

    cache_file = _keras_cache_file(keras_home)
    if cache_file is None:
        notes.append("No Keras cache: the home folder is unknown (set KERAS_HOME to use one).")
    elif entry_exists(cache_file):  # even if broken, so that the note says how
        try:
            return _finish(read_npz(cache_file), "keras-cache", str(cache_file), notes)
        except ValueError as error:
            notes.append(f"Keras cache file {cache_file} is broken: {error}")
    else:
        notes.append(f"No Keras cache file at {cache_file}.")

    if _is_offline(offline):
        notes.append(f"Download skipped: offline mode ({OFFLINE_ENV}=1 or offline=True).")
    else:
        downloaded = _try_download(cache_file, download_timeout, notes)
        if downloaded is not None:
            return downloaded

    try:
        return _finish(read_npz(SAMPLE_PATH), "sample", str(SAMPLE_PATH), notes)
    except ValueError as error:
        raise ValueError(
            f"MNIST was not found, and the bundled sample cannot be read: {error}. "
            "Why the other sources were skipped: " + " ".join(notes)
        ) from error


def _keras_cache_file(keras_home: str | os.PathLike | None) -> Path | None:
    """Where Keras keeps mnist.npz, or None if there is no home folder to keep it in."""
    home = keras_home if keras_home is not None else os.environ.get("KERAS_HOME")
    try:
        return Path(home or Path.home() / ".keras").expanduser() / "datasets" / NPZ_FILE_NAME
    except RuntimeError:  # no HOME and no entry in the user database, as in some containers
        return None


def _finish(arrays, source: str, location: str, notes: list[str]) -> MnistData:
    x_train, y_train, x_test, y_test = arrays
    validate_mnist_arrays(x_train, y_train, x_test, y_test, origin=location)
    # Images are uint8 already (validated); labels may be any integer type and become uint8.
    images_and_labels = [_read_only(np.ascontiguousarray(a, dtype=np.uint8)) for a in arrays]
    return MnistData(
        *images_and_labels,
        source=source,
        location=location,
        fingerprint=fingerprint_arrays(*images_and_labels),
        notes=tuple(notes),
    )


def _is_offline(offline: bool | None) -> bool:
    if offline is not None:
        return bool(offline)
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _try_download(cache_file: Path | None, timeout: float, notes: list[str]) -> MnistData | None:
    """Download into the Keras cache (if there is one) and load it; on any failure add a note
    and return None."""
    try:
        payload = _download_mnist(timeout)
    except (OSError, ValueError, http.client.HTTPException) as error:
        notes.append(f"Download of {MNIST_URL} failed: {error}")
        return None
    try:
        arrays = None
        if cache_file is None:
            notes.append("Could not save the download: the home folder is unknown.")
        else:
            try:
                _save_atomically(cache_file, payload)
                arrays = read_npz(cache_file)
                notes.append(f"Downloaded MNIST and saved it to {cache_file}.")
            except OSError as error:
                notes.append(f"Could not save the download to {cache_file}: {error}")
        if arrays is None:
            # The checksum already matched, so the bytes in memory are still good to use.
            arrays = read_npz_source(io.BytesIO(payload), MNIST_URL)
        return _finish(arrays, "download", MNIST_URL, notes)
    except ValueError as error:
        notes.append(f"The downloaded file is unusable: {error}")
        return None


def _download_mnist(timeout: float) -> bytes:
    """Fetch mnist.npz and check its sha256; raises OSError or ValueError on any problem."""
    time_limit = DOWNLOAD_TOTAL_TIME_FACTOR * timeout
    deadline = time.monotonic() + time_limit
    payload = bytearray()
    with urllib.request.urlopen(MNIST_URL, timeout=timeout) as response:
        while chunk := response.read(DOWNLOAD_CHUNK_BYTES):
            payload += chunk
            if len(payload) > MAX_DOWNLOAD_BYTES:
                raise ValueError(f"the server sent more than {MAX_DOWNLOAD_BYTES:,} bytes")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the download took longer than {time_limit:g} seconds")
    digest = hashlib.sha256(payload).hexdigest()
    if digest != MNIST_SHA256:
        raise ValueError(f"the file's sha256 is {digest}, expected {MNIST_SHA256}")
    return bytes(payload)


def _save_atomically(target: Path, payload: bytes) -> None:
    # Write next to the target, then rename: readers never see a half-written cache file.
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        with temporary.open("wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """Hex sha256 over each array's dtype, shape and bytes; equal data gives an equal string."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape};".encode())
        digest.update(array.reshape(-1).view(np.uint8))
    return digest.hexdigest()


def stratified_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Sorted int64 indices of a random subset keeping each class's share, reproducible by `seed`.

    Each class present keeps `round(count * fraction)` items (at least one). `fraction` must be
    in (0, 1]; 1.0 returns every index. Use it as `x[stratified_subset(y, 0.1, seed=0)]`.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"stratified_subset: labels must be 1-D, not shape {labels.shape}")
    if isinstance(fraction, bool) or not isinstance(fraction, int | float | np.number):
        raise ValueError(f"stratified_subset: fraction must be a number, not {fraction!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"stratified_subset: fraction must be in (0, 1], not {fraction}")
    if fraction == 1:
        return np.arange(len(labels), dtype=np.int64)
    generator = np.random.default_rng(seed)
    chosen = [np.empty(0, dtype=np.int64)]
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        # Round half up (not Python's round-half-even) so the rule is easy to explain.
        keep = min(len(members), max(1, math.floor(len(members) * fraction + 0.5)))
        chosen.append(generator.choice(members, size=keep, replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64)
