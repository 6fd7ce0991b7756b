"""Read MNIST files from disk and check that the arrays really are MNIST.

Use `read_mnist_folder(folder)` to get `(x_train, y_train, x_test, y_test)` from a folder
holding `mnist.npz` or Yann LeCun's four IDX files (`train-images-idx3-ubyte` and friends,
gzipped `.gz` or not). For single files: `read_npz(path)`, `read_idx(path, IMAGES_MAGIC)`,
`read_idx(path, LABELS_MAGIC)`. Images come back as `(n, 28, 28)` uint8, labels as `(n,)`.

Files may be damaged or hostile, so every problem raises `ValueError` naming the file, nothing is
ever unpickled, and an IDX header that claims more data than the file can hold is rejected before
any memory is allocated. (`explorer.data.sources` decides where to look; this module only reads.)
"""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIDE = 28
NPZ_FILE_NAME = "mnist.npz"
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
IDX_FILE_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

# Deflate cannot expand data by more than about 1032:1, so a gzip file of `s` bytes can never
# decompress to more than this bound; headers claiming more are lies we can reject up front.
GZIP_MAX_EXPANSION = 1032
GZIP_SLACK_BYTES = 1024
READ_CHUNK_BYTES = 4 * 1024 * 1024
_GZIP_SIGNATURE = b"\x1f\x8b"
_KIND_BY_MAGIC = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}


def read_idx(path: str | Path, expected_magic: int) -> np.ndarray:
    """Read one MNIST IDX file, gzipped or not, and return its array.

    `expected_magic` is `IMAGES_MAGIC` (2051, returns `(n, 28, 28)` uint8) or `LABELS_MAGIC`
    (2049, returns `(n,)` uint8 with values 0..9). Raises `ValueError` naming the file if it is
    missing, empty, damaged, truncated, of the wrong kind, or not MNIST-shaped.
    """
    if expected_magic not in _KIND_BY_MAGIC:
        raise ValueError(
            f"read_idx: expected_magic must be {IMAGES_MAGIC} (images) or {LABELS_MAGIC} "
            f"(labels), not {expected_magic!r}"
        )
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"IDX file {path} does not exist (or is not a file)")
    file_size = path.stat().st_size
    if file_size == 0:
        raise ValueError(f"IDX file {path} is empty")
    is_gzip = False
    try:
        with path.open("rb") as raw:
            is_gzip = raw.read(2) == _GZIP_SIGNATURE
        if is_gzip:
            with gzip.open(path, "rb") as stream:
                array = _read_idx_stream(stream, path, expected_magic, file_size, is_gzip=True)
        else:
            with path.open("rb") as stream:
                array = _read_idx_stream(stream, path, expected_magic, file_size, is_gzip=False)
    except (EOFError, zlib.error, OSError) as error:
        # gzip.BadGzipFile is an OSError; EOFError means the compressed stream stops early.
        problem = "is a damaged or truncated gzip file" if is_gzip else "could not be read"
        raise ValueError(f"IDX file {path} {problem} ({type(error).__name__}: {error})") from error
    if expected_magic == LABELS_MAGIC and array.size and int(array.max()) > 9:
        position = int(np.argmax(array > 9))
        raise ValueError(
            f"IDX file {path} holds label {int(array[position])} at position {position}; "
            "MNIST labels must be 0..9"
        )
    return array


def _read_idx_stream(stream, path: Path, expected_magic: int, file_size: int, *, is_gzip: bool):
    """Parse header and body from an open (possibly decompressing) binary stream."""
    kind = _KIND_BY_MAGIC[expected_magic]
    header_size = 16 if expected_magic == IMAGES_MAGIC else 8
    header = _read_exactly(stream, header_size)
    if len(header) < 4:
        raise ValueError(f"IDX file {path} is too short to be an IDX file ({len(header)} bytes)")
    (magic,) = struct.unpack(">I", header[:4])
    if magic != expected_magic:
        found = f" ({_KIND_BY_MAGIC[magic]})" if magic in _KIND_BY_MAGIC else ""
        raise ValueError(
            f"IDX file {path} has magic number {magic}{found}, but MNIST {kind} files start "
            f"with {expected_magic}; is it the wrong file or not an IDX file?"
        )
    if len(header) < header_size:
        raise ValueError(f"IDX file {path} is truncated inside its header")
    count = struct.unpack(">I", header[4:8])[0]
    if expected_magic == IMAGES_MAGIC:
        rows, cols = struct.unpack(">II", header[8:16])
        if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
            raise ValueError(
                f"IDX file {path} has the wrong image size: {rows}x{cols} pixels, "
                f"but MNIST images are {IMAGE_SIDE}x{IMAGE_SIDE}"
            )
    record_size = IMAGE_SIDE * IMAGE_SIDE if expected_magic == IMAGES_MAGIC else 1
    claimed_bytes = count * record_size

    # Check the claim against what the file could possibly hold before reading (allocating) it.
    if is_gzip:
        if claimed_bytes > GZIP_MAX_EXPANSION * file_size + GZIP_SLACK_BYTES:
            raise ValueError(
                f"IDX file {path} is corrupt: its header says {count:,} {kind}, far more than "
                f"a {file_size:,}-byte gzip file can hold"
            )
    elif claimed_bytes > file_size - header_size:
        held = (file_size - header_size) // record_size
        raise ValueError(
            f"IDX file {path} is truncated: header says {count} {kind} "
            f"but the file holds only {held}"
        )

    body = _read_exactly(stream, claimed_bytes)
    if len(body) < claimed_bytes:
        raise ValueError(
            f"IDX file {path} is truncated: header says {count} {kind} "
            f"but the file holds only {len(body) // record_size}"
        )
    # Reading one byte more also makes gzip verify its checksum at the end of the stream.
    if stream.read(1):
        raise ValueError(
            f"IDX file {path} holds more data than its header says ({count} {kind}); "
            "it is corrupt or not an MNIST file"
        )
    array = np.frombuffer(body, dtype=np.uint8)
    if expected_magic == IMAGES_MAGIC:
        return array.reshape(count, IMAGE_SIDE, IMAGE_SIDE)
    return array


def _read_exactly(stream, size: int) -> bytearray:
    """Read up to `size` bytes in chunks, so memory grows only as real data arrives."""
    buffer = bytearray()
    while len(buffer) < size:
        chunk = stream.read(min(READ_CHUNK_BYTES, size - len(buffer)))
        if not chunk:
            break
        buffer += chunk
    return buffer


def find_idx_file(folder: str | Path, name: str) -> Path | None:
    """Return `folder/name` or `folder/name.gz`, whichever exists (uncompressed first), or None."""
    folder = Path(folder)
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def read_idx_folder(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read the four MNIST IDX files from `folder` and return `(x_train, y_train, x_test, y_test)`.

    Each file may be gzipped (`train-images-idx3-ubyte.gz`) or not. Raises `ValueError` if the
    folder is missing, holds only some of the files, or any file is bad.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"MNIST folder {folder} does not exist (or is not a folder)")
    found = {name: find_idx_file(folder, name) for name in IDX_FILE_NAMES}
    missing = [f"{name}(.gz)" for name, path in found.items() if path is None]
    if len(missing) == len(IDX_FILE_NAMES):
        raise ValueError(
            f"folder {folder} holds no MNIST files: expected {NPZ_FILE_NAME} or the four IDX "
            "files " + ", ".join(f"{name}(.gz)" for name in IDX_FILE_NAMES)
        )
    if missing:
        raise ValueError(
            f"folder {folder} holds only some of the MNIST files: missing " + ", ".join(missing)
        )
    arrays = tuple(
        read_idx(found[name], IMAGES_MAGIC if "images" in name else LABELS_MAGIC)
        for name in IDX_FILE_NAMES
    )
    validate_mnist_arrays(*arrays, origin=f"MNIST folder {folder}")
    return arrays


def read_mnist_folder(
    folder: str | os.PathLike,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read `(x_train, y_train, x_test, y_test)` from `folder/mnist.npz` or its four IDX files.

    Raises `ValueError` naming the folder or file if anything is missing or broken.
    """
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ValueError(f"MNIST folder {folder} does not exist (or is not a folder)")
    if (folder / NPZ_FILE_NAME).is_file():
        return read_npz(folder / NPZ_FILE_NAME)
    return read_idx_folder(folder)


def read_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read `(x_train, y_train, x_test, y_test)` from a Keras-style `mnist.npz`.

    Never unpickles (arrays of Python objects are refused). Raises `ValueError` naming the file
    if it is missing, empty, damaged, or lacks one of the four arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"npz file {path} does not exist (or is not a file)")
    if path.stat().st_size == 0:
        raise ValueError(f"npz file {path} is empty")
    return read_npz_source(path, str(path))


def read_npz_source(source, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Like `read_npz`, for a path or binary file object (e.g. `io.BytesIO`); `name` is for
    messages."""
    # Checked first because np.load would call anything else "pickled data" and suggest
    # loading it unsafely, which is the wrong advice.
    if not zipfile.is_zipfile(source):
        raise ValueError(f"npz file {name} is not an .npz archive (it is not a zip file)")
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        with np.load(source, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise ValueError(
                    f"npz file {name} is missing the arrays {', '.join(missing)} "
                    f"(it holds: {', '.join(archive.files) or 'nothing'})"
                )
            return tuple(_read_npz_member(archive, key, name) for key in NPZ_KEYS)
    except (EOFError, OSError, zipfile.BadZipFile, zlib.error, MemoryError) as error:
        raise ValueError(f"npz file {name} is damaged ({type(error).__name__}: {error})") from error


def _read_npz_member(archive, key: str, name: str) -> np.ndarray:
    try:
        array = archive[key]
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise ValueError(
                f"npz file {name} holds '{key}' as an array of Python objects (pickled data); "
                "it is refused because unpickling can run arbitrary code"
            ) from error
        raise ValueError(f"npz file {name}: '{key}' is damaged ({error})") from error
    if not isinstance(array, np.ndarray):  # numpy hands back raw bytes for non-.npy members
        raise ValueError(f"npz file {name}: '{key}' is not a NumPy array")
    return array


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
