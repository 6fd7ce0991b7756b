"""Read a Keras-style `mnist.npz` safely: `read_npz(path)`, or `read_npz_source(file, name)`
for a file object (a download in memory).

    x_train, y_train, x_test, y_test = read_npz("~/.keras/datasets/mnist.npz")

An npz is a zip of `.npy` files. Nothing is unpickled, and every size is checked against
MNIST's before anything is unpacked: the zip's list of members, each member's unpacked size and
each array's header (explorer.data.files says why). Every problem raises `MnistFileError`.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from explorer.data.files import (
    IMAGE_BYTES,
    IMAGE_SIDE,
    MAX_MNIST_IMAGES,
    MnistFileError,
    check_file,
    os_error_cause,
    out_of_memory,
    read_exactly,
)

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
# Labels in an npz may be any integer type; the widest, int64, takes 8 bytes per label.
MAX_LABEL_BYTES = 8
# np.load refuses longer .npy headers too; MNIST's are 128 bytes.
NPY_HEADER_MAX_BYTES = 10_000
# Opening a zip file parses its whole list of members (the "central directory") into Python
# objects, about 550 bytes each. MNIST's lists four members in under 1 KB; a list of millions
# would cost gigabytes and minutes before any other check could run.
MAX_ZIP_DIRECTORY_BYTES = 64 * 1024
_ZIP_ENCRYPTED_FLAG = 0x1


def read_npz(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Read `(x_train, y_train, x_test, y_test)` from a Keras-style `mnist.npz`.

    Never unpickles (arrays of Python objects are refused). Raises `MnistFileError` naming the
    file if it is missing, unreadable, empty, damaged, lacks one of the four arrays, or holds
    more than MNIST.
    """
    path = Path(path)
    return _read_npz_path(path, str(path))


def read_npz_source(source, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Like `read_npz`, for a path or a seekable binary file object (e.g. `io.BytesIO`); `name`
    is for messages."""
    if isinstance(source, str | os.PathLike):
        return _read_npz_path(Path(source), name)
    return _read_npz_guarded(source, name)


def _read_npz_path(path: Path, name: str):
    check_file(path, "npz file")
    try:
        with open(path, "rb") as stream:
            return _read_npz_guarded(stream, name)
    except OSError as error:  # from open itself: reading's own errors are explained inside
        raise MnistFileError(f"npz file {name} {os_error_cause(error)}") from error


def _read_npz_guarded(stream, name: str):
    """`_read_npz_stream`, with every failure of the libraries below it turned into an
    `MnistFileError` naming the file."""
    try:
        return _read_npz_stream(stream, name)
    except MnistFileError:
        raise
    except MemoryError:
        pass  # raised below, once this block has let go of the failed read's memory
    except OSError as error:
        raise MnistFileError(f"npz file {name} {os_error_cause(error)}") from error
    except (
        EOFError,
        zipfile.BadZipFile,
        zlib.error,
        struct.error,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as error:
        raise MnistFileError(
            f"npz file {name} is damaged or is not a NumPy .npz file ({type(error).__name__}: "
            f"{error})"
        ) from error
    raise out_of_memory("npz file", name)


def _read_npz_stream(stream, name: str):
    directory_size = _zip_directory_size(stream)
    if directory_size is None:
        raise MnistFileError(f"npz file {name} is not an .npz archive (it is not a zip file)")
    if directory_size > MAX_ZIP_DIRECTORY_BYTES:
        raise MnistFileError(
            f"npz file {name} lists far more members than an MNIST .npz (its list takes "
            f"{directory_size:,} bytes); it is not MNIST, and it is not opened because that "
            "could fill the memory"
        )
    stream.seek(0)
    with zipfile.ZipFile(stream) as archive:
        # NumPy names each array's member "<key>.npy".
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        missing = [key for key in NPZ_KEYS if key not in members]
        if missing:
            raise MnistFileError(
                f"npz file {name} is missing the arrays {', '.join(missing)} "
                f"(it holds: {', '.join(members) or 'nothing'})"
            )
        return tuple(_read_npz_member(archive, members[key], key, name) for key in NPZ_KEYS)


def _zip_directory_size(stream) -> int | None:
    """How many bytes the zip's list of members takes, as `zipfile.ZipFile` will read it; None
    if `stream` is not a zip file. `zipfile` keeps the end-record reader that ZipFile itself uses
    private; calling it asks this Python's own zipfile, zip64 records included."""
    end_record = zipfile._EndRecData(stream)
    return None if end_record is None else end_record[zipfile._ECD_SIZE]


def _read_npz_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, name: str):
    """Read one array, checking the zip's and the .npy header's sizes before unpacking."""
    is_images = key.startswith("x_")
    if is_images:
        limit_bytes = MAX_MNIST_IMAGES * IMAGE_BYTES
        limit = f"the {MAX_MNIST_IMAGES:,} images of {IMAGE_SIDE}x{IMAGE_SIDE} uint8 pixels"
    else:
        limit_bytes = MAX_MNIST_IMAGES * MAX_LABEL_BYTES
        limit = f"the {MAX_MNIST_IMAGES:,} labels"
    if info.file_size > limit_bytes + NPY_HEADER_MAX_BYTES:
        raise MnistFileError(
            f"npz file {name}: '{key}' unpacks to {info.file_size:,} bytes, more than {limit} "
            "MNIST has at most; it is not MNIST, and it is not unpacked because it could fill "
            "the memory"
        )
    if info.flag_bits & _ZIP_ENCRYPTED_FLAG:
        raise MnistFileError(
            f"npz file {name}: '{key}' is encrypted (password-protected); save the arrays with "
            "numpy.savez or numpy.savez_compressed instead"
        )
    # Only deflate lets us bound how much one read unpacks; bzip2 or lzma can unpack gigabytes
    # from a few kilobytes at once. NumPy writes stored or deflated members.
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise MnistFileError(
            f"npz file {name}: '{key}' is packed with zip method {info.compress_type}; only "
            "the methods numpy.savez and numpy.savez_compressed use (stored, deflated) are read"
        )
    with archive.open(info) as member:
        shape, fortran_order, dtype = _read_npy_header(member, key, name)
        _check_npy_header(shape, dtype, key, name, limit)
        data_bytes = math.prod(shape) * dtype.itemsize
        body = read_exactly(member, data_bytes)
        if len(body) < data_bytes:
            raise MnistFileError(
                f"npz file {name}: '{key}' is truncated: its header says shape {shape} "
                f"({data_bytes:,} bytes) but it holds only {len(body):,} bytes"
            )
        # Reading one byte more also makes zipfile verify the member's checksum.
        if member.read(1):
            raise MnistFileError(
                f"npz file {name}: '{key}' holds more data than its header says (shape {shape})"
            )
    return np.frombuffer(body, dtype=dtype).reshape(shape, order="F" if fortran_order else "C")


def _read_npy_header(member, key: str, name: str):
    """Return `(shape, fortran_order, dtype)` from the .npy header at the start of `member`."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(member, max_header_size=NPY_HEADER_MAX_BYTES)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(member, max_header_size=NPY_HEADER_MAX_BYTES)
    except ValueError as error:
        raise MnistFileError(
            f"npz file {name}: '{key}' is not a NumPy array, or its header is damaged ({error})"
        ) from error
    raise MnistFileError(
        f"npz file {name}: '{key}' uses .npy format version {version[0]}.{version[1]}, which "
        "MNIST arrays never need; save it again with numpy.savez"
    )


def _check_npy_header(shape, dtype: np.dtype, key: str, name: str, limit: str) -> None:
    if dtype.hasobject:
        raise MnistFileError(
            f"npz file {name} holds '{key}' as an array of Python objects (pickled data); "
            "it is refused because unpickling can run arbitrary code"
        )
    if any(side < 0 for side in shape):
        raise MnistFileError(f"npz file {name}: '{key}' has a damaged header (shape {shape})")
    if key.startswith("x_"):
        if dtype != np.uint8:
            raise MnistFileError(
                f"npz file {name}: '{key}' holds {dtype} values, but MNIST images must be "
                "uint8 (pixel values 0..255)"
            )
        too_many = math.prod(shape) > MAX_MNIST_IMAGES * IMAGE_BYTES
    else:
        if dtype.kind not in "iu":
            raise MnistFileError(
                f"npz file {name}: '{key}' holds {dtype} values, but MNIST labels must be whole "
                "numbers 0..9"
            )
        too_many = math.prod(shape) > MAX_MNIST_IMAGES
    if too_many:
        raise MnistFileError(
            f"npz file {name}: '{key}' has shape {shape}, more than {limit} MNIST has at most; "
            "it is not MNIST, and it is not unpacked because it could fill the memory"
        )
