"""Read MNIST's IDX files from disk, and check that arrays really are MNIST.

Use `read_idx_folder(folder)` to get `(x_train, y_train, x_test, y_test)` from a folder holding
Yann LeCun's four IDX files (`train-images-idx3-ubyte` and friends, gzipped `.gz` or not), or
`read_idx(path, IMAGES_MAGIC)` / `read_idx(path, LABELS_MAGIC)` for one file. Images come back
as `(n, 28, 28)` uint8, labels as `(n,)`. `explorer.data.npz` reads `mnist.npz` with the checks
kept here, and `explorer.data.sources.read_mnist_folder` reads whichever a folder holds.

Files may be damaged or hostile (a 3 MB gzip file can unpack to 3 GB), so:

- every problem raises `MnistFileError`, a `ValueError` whose message names the file and the
  real cause (missing, permission denied, symbolic link loop, not a file, damaged, too large);
  no `OSError` or `MemoryError` ever escapes;
- nothing is ever unpickled;
- sizes are checked against MNIST's before anything is read: no file may claim more than
  `MAX_MNIST_IMAGES` images or labels, an uncompressed IDX file must be exactly as long as its
  header says, and compressed data is unpacked only up to the size its header claims (plus one
  byte, to notice extra data). Reading one file therefore never takes much more memory than
  MNIST's largest array (55 MB).

(`explorer.data.sources` decides where to look; this module only reads.)
"""

from __future__ import annotations

import errno
import gzip
import os
import stat
import struct
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIDE = 28
IMAGE_BYTES = IMAGE_SIDE * IMAGE_SIDE
NPZ_FILE_NAME = "mnist.npz"
IDX_FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# MNIST has 60,000 training and 10,000 test images. No MNIST file holds more than both together,
# so a header claiming more is damaged or hostile (a "zip bomb") and is refused before reading.
MAX_MNIST_IMAGES = 70_000
READ_CHUNK_BYTES = 4 * 1024 * 1024
_GZIP_SIGNATURE = b"\x1f\x8b"
_KIND_BY_MAGIC = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}


class MnistFileError(ValueError):
    """A file or folder that cannot be used as MNIST; the message names it and says why.

    It is a `ValueError`, so `except ValueError` catches it.
    """


# ---- folders and files: say why a path cannot be used ----------------------------------------


def entry_exists(path: str | os.PathLike) -> bool:
    """True if anything at all is at `path`: a file, a folder, a broken or looping link, or
    something we may not look at.

    Use it instead of `Path.is_file()` to decide whether to read a path: reading then reports the
    real problem, where `is_file()` would say False (or raise) and the file would be reported
    missing.
    """
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:  # e.g. permission denied on a folder on the way: reading will say so
        return True
    return True


def os_error_cause(error: OSError) -> str:
    """Why a path cannot be used, in words to follow its name in a message."""
    if isinstance(error, PermissionError):
        return "cannot be read: permission denied (on it, or on a folder on its path)"
    if error.errno == errno.ELOOP:
        return (
            "is a symbolic link loop: it, or a folder on its path, is a link that leads back "
            "to itself"
        )
    if isinstance(error, FileNotFoundError):
        return "does not exist"
    if isinstance(error, NotADirectoryError):
        return "does not exist (a part of its path is a file, not a folder)"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be read ({error.strerror or error})"


def _status(path: Path, what: str) -> os.stat_result:
    """`path.stat()`, or `MnistFileError` saying why `path` cannot be used; `what` starts it."""
    try:
        return path.stat()
    except OSError as error:
        if isinstance(error, FileNotFoundError) and os.path.islink(path):
            try:
                target = f"it points to {os.readlink(path)}, which does not exist"
            except OSError:
                target = "what it points to does not exist"
            raise MnistFileError(f"{what} {path} is a broken symbolic link: {target}") from error
        raise MnistFileError(f"{what} {path} {os_error_cause(error)}") from error


def check_folder(folder: Path) -> None:
    mode = _status(folder, "MNIST folder").st_mode
    if stat.S_ISREG(mode):
        raise MnistFileError(f"MNIST folder {folder} is a file, not a folder")
    if not stat.S_ISDIR(mode):
        raise MnistFileError(f"MNIST folder {folder} is not a folder")


def check_file(path: Path, what: str) -> None:
    """Raise `MnistFileError` unless `path` is a regular file with something in it."""
    status = _status(path, what)
    if stat.S_ISDIR(status.st_mode):
        raise MnistFileError(f"{what} {path} is a folder, not a file")
    if not stat.S_ISREG(status.st_mode):
        # Reading a device or pipe could block forever or never end.
        raise MnistFileError(
            f"{what} {path} is not a regular file (it is a device, pipe or socket)"
        )
    if status.st_size == 0:
        raise MnistFileError(f"{what} {path} is empty")


def _is_regular_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def out_of_memory(what: str, path) -> MnistFileError:
    return MnistFileError(
        f"{what} {path} could not be read: the computer ran out of memory while reading it"
    )


def read_exactly(stream, size: int) -> bytearray:
    """Read `size` bytes, or fewer if the stream ends first (callers check the length).

    Reads in chunks, so a decompressing stream never unpacks more than one chunk at a time,
    and never more than `size` bytes in all.
    """
    buffer = bytearray(size)
    filled = 0
    with memoryview(buffer) as view:
        while filled < size:
            got = stream.readinto(view[filled : filled + READ_CHUNK_BYTES])
            if not got:
                break
            filled += got
    del buffer[filled:]
    return buffer


# ---- IDX files -------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike, expected_magic: int) -> np.ndarray:
    """Read one MNIST IDX file, gzipped or not, and return its array.

    `expected_magic` is `IMAGES_MAGIC` (2051, returns `(n, 28, 28)` uint8) or `LABELS_MAGIC`
    (2049, returns `(n,)` uint8 with values 0..9). Raises `MnistFileError` naming the file if it
    is missing, unreadable, empty, damaged, truncated, of the wrong kind, or not MNIST-sized.
    """
    if expected_magic not in _KIND_BY_MAGIC:
        raise ValueError(
            f"read_idx: expected_magic must be {IMAGES_MAGIC} (images) or {LABELS_MAGIC} "
            f"(labels), not {expected_magic!r}"
        )
    path = Path(path)
    check_file(path, "IDX file")
    try:
        return _read_idx_file(path, expected_magic)
    except MemoryError:
        pass  # raised below, once this block has let go of the failed read's memory
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        # Only gzip raises these; EOFError means the compressed stream stops early.
        raise MnistFileError(
            f"IDX file {path} is a damaged or truncated gzip file ({type(error).__name__}: {error})"
        ) from error
    except OSError as error:
        raise MnistFileError(f"IDX file {path} {os_error_cause(error)}") from error
    raise out_of_memory("IDX file", path)


def _read_idx_file(path: Path, expected_magic: int) -> np.ndarray:
    with open(path, "rb") as raw:
        is_gzip = raw.read(2) == _GZIP_SIGNATURE
        raw.seek(0)
        if is_gzip:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                array = _read_idx_stream(stream, path, expected_magic, size_on_disk=None)
        else:
            size_on_disk = os.fstat(raw.fileno()).st_size
            array = _read_idx_stream(raw, path, expected_magic, size_on_disk=size_on_disk)
    if expected_magic == LABELS_MAGIC and array.size and int(array.max()) > 9:
        position = int(np.argmax(array > 9))
        raise MnistFileError(
            f"IDX file {path} holds label {int(array[position])} at position {position}; "
            "MNIST labels must be 0..9"
        )
    return array


def _read_idx_stream(stream, path: Path, expected_magic: int, size_on_disk: int | None):
    """Parse header and body from an open binary stream, decompressing if it is gzip.

    `size_on_disk` is the file's size when it is not compressed; the header must then account
    for exactly every byte. Never reads more than the size the header claims, plus one byte.
    """
    kind = _KIND_BY_MAGIC[expected_magic]
    header_size = 16 if expected_magic == IMAGES_MAGIC else 8
    header = read_exactly(stream, header_size)
    if len(header) < 4:
        raise MnistFileError(
            f"IDX file {path} is too short to be an IDX file ({len(header)} bytes)"
        )
    (magic,) = struct.unpack(">I", header[:4])
    if magic != expected_magic:
        found = f" ({_KIND_BY_MAGIC[magic]})" if magic in _KIND_BY_MAGIC else ""
        raise MnistFileError(
            f"IDX file {path} has magic number {magic}{found}, but MNIST {kind} files start "
            f"with {expected_magic}; is it the wrong file or not an IDX file?"
        )
    if len(header) < header_size:
        raise MnistFileError(f"IDX file {path} is truncated inside its header")
    count = struct.unpack(">I", header[4:8])[0]
    if expected_magic == IMAGES_MAGIC:
        rows, cols = struct.unpack(">II", header[8:16])
        if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
            raise MnistFileError(
                f"IDX file {path} has the wrong image size: {rows}x{cols} pixels, "
                f"but MNIST images are {IMAGE_SIDE}x{IMAGE_SIDE}"
            )
    if count > MAX_MNIST_IMAGES:
        raise MnistFileError(
            f"IDX file {path} says it holds {count:,} {kind}, but MNIST has only "
            f"{MAX_MNIST_IMAGES:,} (60,000 to train and 10,000 to test); it is not an MNIST "
            "file, and it is not read because it could fill the memory"
        )
    record_size = IMAGE_BYTES if expected_magic == IMAGES_MAGIC else 1
    claimed_bytes = count * record_size
    if size_on_disk is not None and size_on_disk != header_size + claimed_bytes:
        if size_on_disk < header_size + claimed_bytes:
            held = (size_on_disk - header_size) // record_size
            raise MnistFileError(
                f"IDX file {path} is truncated: header says {count} {kind} "
                f"but the file holds only {held}"
            )
        raise MnistFileError(
            f"IDX file {path} holds more data than its header says ({count} {kind}): it is "
            f"{size_on_disk:,} bytes, not {header_size + claimed_bytes:,}; it is corrupt or not "
            "an MNIST file"
        )

    body = read_exactly(stream, claimed_bytes)
    if len(body) < claimed_bytes:
        raise MnistFileError(
            f"IDX file {path} is truncated: header says {count} {kind} "
            f"but the file holds only {len(body) // record_size}"
        )
    # Reading one byte more also makes gzip verify its checksum at the end of the stream.
    if stream.read(1):
        raise MnistFileError(
            f"IDX file {path} holds more data than its header says ({count} {kind}); "
            "it is corrupt or not an MNIST file"
        )
    array = np.frombuffer(body, dtype=np.uint8)
    if expected_magic == IMAGES_MAGIC:
        return array.reshape(count, IMAGE_SIDE, IMAGE_SIDE)
    return array


def find_idx_file(folder: str | os.PathLike, name: str) -> Path | None:
    """Return `folder/name` or `folder/name.gz`, or None if there is neither.

    A regular file is preferred, uncompressed first. If neither is one but something else is
    there (a folder, a broken or looping link, something we may not read), that path is
    returned, so that reading it says what is wrong instead of calling the file missing.
    """
    folder = Path(folder)
    candidates = [path for path in (folder / name, folder / f"{name}.gz") if entry_exists(path)]
    for candidate in candidates:
        if _is_regular_file(candidate):
            return candidate
    return candidates[0] if candidates else None


def read_idx_folder(
    folder: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the four MNIST IDX files from `folder` and return `(x_train, y_train, x_test, y_test)`.

    Each file may be gzipped (`train-images-idx3-ubyte.gz`) or not. Raises `MnistFileError` if
    the folder is missing, holds only some of the files, or any file is bad.
    """
    folder = Path(folder)
    check_folder(folder)
    found = {name: find_idx_file(folder, name) for name in IDX_FILE_NAMES}
    missing = [f"{name}(.gz)" for name, path in found.items() if path is None]
    if len(missing) == len(IDX_FILE_NAMES):
        raise MnistFileError(
            f"folder {folder} holds no MNIST files: expected {NPZ_FILE_NAME} or the four IDX "
            "files " + ", ".join(f"{name}(.gz)" for name in IDX_FILE_NAMES)
        )
    if missing:
        raise MnistFileError(
            f"folder {folder} holds only some of the MNIST files: missing " + ", ".join(missing)
        )
    arrays = tuple(
        read_idx(found[name], IMAGES_MAGIC if "images" in name else LABELS_MAGIC)
        for name in IDX_FILE_NAMES
    )
    validate_mnist_arrays(*arrays, origin=f"MNIST folder {folder}")
    return arrays


# ---- the arrays --------------------------------------------------------------------------------


def validate_mnist_arrays(x_train, y_train, x_test, y_test, origin: str) -> None:
    """Check four arrays look like MNIST; raise `ValueError` starting with `origin` if not.

    Images must be uint8 of shape (n, 28, 28); labels any integer dtype of shape (n,) with values
    0..9; each split needs at least one image and as many labels as images.
    """
    for split, images, labels in (("train", x_train, y_train), ("test", x_test, y_test)):
        image_name, label_name = f"x_{split}", f"y_{split}"
        if not isinstance(images, np.ndarray) or not isinstance(labels, np.ndarray):
            raise ValueError(f"{origin}: {image_name} and {label_name} must be NumPy arrays")
        if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(
                f"{origin}: {image_name} has shape {images.shape}, but MNIST images must have "
                f"shape (n, {IMAGE_SIDE}, {IMAGE_SIDE})"
            )
        if images.dtype != np.uint8:
            raise ValueError(
                f"{origin}: {image_name} has dtype {images.dtype}, but MNIST images must be "
                "uint8 (pixel values 0..255)"
            )
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"{origin}: {label_name} must be a 1-D array of whole numbers, not "
                f"{labels.dtype} with shape {labels.shape}"
            )
        if len(images) == 0:
            raise ValueError(f"{origin}: {image_name} holds no images")
        if len(images) != len(labels):
            raise ValueError(
                f"{origin}: the counts disagree: {image_name} holds {len(images)} images but "
                f"{label_name} holds {len(labels)} labels"
            )
        if labels.min() < 0 or labels.max() > 9:
            bad = labels[(labels < 0) | (labels > 9)][0]
            raise ValueError(f"{origin}: {label_name} holds label {bad}; labels must be 0..9")
