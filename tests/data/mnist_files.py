"""Writing MNIST files by hand, good and broken, for the tests of explorer.data."""

from __future__ import annotations

import builtins
import errno
import gzip
import io
import math
import os
import struct
import time
import tracemalloc
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.data.npz import NPZ_KEYS


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


# ---- bombs: small files that unpack to gigabytes, written in milliseconds -------------------

# 4,000,000 images of 28x28 zero pixels: 3.1 GB unpacked, about 3 MB deflated.
BOMB_IMAGES = 4_000_000
IMAGE_BYTES = 28 * 28
_ZERO_BLOCK_BYTES = 1 << 20
_CRC32_POLYNOMIAL = 0xEDB88320  # zlib's CRC-32, bit-reversed


def deflate_zeros(prefix: bytes, zero_count: int) -> list[bytes]:
    """Raw deflate data for `prefix` followed by `zero_count` zero bytes, as pieces to write.

    Compressing gigabytes takes seconds, so one 1 MiB block of zeros is compressed once and its
    bytes repeated: every piece ends with a full flush (byte-aligned, no references to earlier
    pieces), so the pieces simply follow each other. Deflate packs zeros about 1030:1.
    """

    def compressed(data: bytes, flush_mode: int) -> bytes:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        return compressor.compress(data) + compressor.flush(flush_mode)

    whole_blocks, rest = divmod(zero_count, _ZERO_BLOCK_BYTES)
    block = compressed(bytes(_ZERO_BLOCK_BYTES), zlib.Z_FULL_FLUSH)
    return [
        compressed(prefix, zlib.Z_FULL_FLUSH),
        *[block] * whole_blocks,
        compressed(bytes(rest), zlib.Z_FINISH),
    ]


def _multiply_modulo_crc_polynomial(a: int, b: int) -> int:
    # Polynomials over GF(2) in CRC-32's bit-reversed order (zlib's multmodp).
    product, mask = 0, 1 << 31
    while a:
        if a & mask:
            product ^= b
            a ^= mask
        mask >>= 1
        b = (b >> 1) ^ _CRC32_POLYNOMIAL if b & 1 else b >> 1
    return product


def crc32_with_zeros(data_crc: int, zero_count: int) -> int:
    """`zlib.crc32` of some data followed by `zero_count` zero bytes, given the data's crc32.

    Feeding gigabytes of zeros to zlib.crc32 takes a second; appending n zero bytes multiplies
    the CRC register by x^(8n) modulo the CRC polynomial, which takes microseconds.
    """
    power, square, exponent = 1 << 31, 1 << 30, 8 * zero_count  # x^0, x^1, the bits to append
    while exponent:
        if exponent & 1:
            power = _multiply_modulo_crc_polynomial(square, power)
        square = _multiply_modulo_crc_polynomial(square, square)
        exponent >>= 1
    return _multiply_modulo_crc_polynomial(power, data_crc ^ 0xFFFFFFFF) ^ 0xFFFFFFFF


def write_gzip_with_zeros(path: Path, prefix: bytes, zero_count: int) -> Path:
    """Write a valid gzip file of `prefix` followed by `zero_count` zero bytes."""
    crc = crc32_with_zeros(zlib.crc32(prefix), zero_count)
    with path.open("wb") as stream:
        stream.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")  # deflate, no name, no time
        stream.writelines(deflate_zeros(prefix, zero_count))
        stream.write(struct.pack("<II", crc, (len(prefix) + zero_count) & 0xFFFFFFFF))
    return path


def write_idx_bomb(path: Path, images: int = BOMB_IMAGES, claimed_images=None) -> Path:
    """A gzipped IDX images file of `images` zero images whose header claims `claimed_images`
    (by default the truth). With the default 4,000,000 images: 3 MB holding 3.1 GB."""
    header = struct.pack(
        ">IIII", 2051, images if claimed_images is None else claimed_images, 28, 28
    )
    return write_gzip_with_zeros(path, header, images * IMAGE_BYTES)


def write_idx_bomb_folder(folder: Path, images: int = BOMB_IMAGES) -> Path:
    """An IDX folder whose training files are a bomb of `images` images and as many labels
    (all zero, so the pair agrees), with ordinary test files: it unpacks to 3.1 GB of MNIST."""
    folder.mkdir(parents=True, exist_ok=True)
    _, _, x_test, y_test = small_arrays()
    write_idx_bomb(folder / "train-images-idx3-ubyte.gz", images)
    write_gzip_with_zeros(
        folder / "train-labels-idx1-ubyte.gz", idx_labels(np.zeros(0), images), images
    )
    write_file(folder / "t10k-images-idx3-ubyte", idx_images(x_test), gz=True)
    write_file(folder / "t10k-labels-idx1-ubyte", idx_labels(y_test), gz=True)
    return folder


def write_sparse_idx(path: Path, claimed_images: int) -> Path:
    """A raw IDX images file whose header claims `claimed_images` and whose size matches that
    claim, but sparse: the file system stores no blocks for it, so it costs no disk space."""
    with path.open("wb") as stream:
        stream.write(struct.pack(">IIII", 2051, claimed_images, 28, 28))
        stream.truncate(16 + claimed_images * IMAGE_BYTES)
    return path


@dataclass(frozen=True)
class ZipMember:
    """One member for `write_zip`: its data as pieces (already compressed with
    `compress_type`), and what the zip headers claim about it."""

    name: str
    pieces: list[bytes]
    crc: int
    file_size: int  # the unpacked size the headers claim
    compress_type: int = zipfile.ZIP_DEFLATED
    flag_bits: int = 0  # bit 0 set means encrypted


def write_zip(path: Path, members: list[ZipMember]) -> Path:
    """Write a zip archive by hand, so its headers can claim anything (zipfile checks them)."""
    directory = []
    with path.open("wb") as stream:
        for member in members:
            offset, name = stream.tell(), member.name.encode()
            compress_size = sum(map(len, member.pieces))
            assert max(offset, compress_size, member.file_size) < 1 << 32, "would need zip64"
            common = (member.flag_bits, member.compress_type, 0, 0x21, member.crc)  # 1980-01-01
            sizes = (compress_size, member.file_size, len(name))
            stream.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 20, 0, *common, *sizes, 0))
            stream.write(name)
            stream.writelines(member.pieces)
            entry = (b"PK\x01\x02", 20, 3, 20, 0, *common, *sizes, 0, 0, 0, 0, 0o644 << 16, offset)
            directory.append(struct.pack("<4s4B4HL2L5H2L", *entry) + name)
        start = stream.tell()
        stream.writelines(directory)
        size = stream.tell() - start
        count = len(members)
        stream.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, size, start, 0))
    return path


def npy_member(key: str, array: np.ndarray) -> ZipMember:
    """`array` as the deflated member `key.npy`, as np.savez_compressed writes it."""
    stream = io.BytesIO()
    np.lib.format.write_array(stream, np.asarray(array), allow_pickle=False)
    data = stream.getvalue()
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    pieces = [compressor.compress(data) + compressor.flush()]
    return ZipMember(f"{key}.npy", pieces, zlib.crc32(data), len(data))


def zeros_npy_member(key: str, shape: tuple[int, ...], claimed_file_size=None) -> ZipMember:
    """A deflated member `key.npy` holding uint8 zeros of `shape`, written in milliseconds
    however large; the zip headers claim `claimed_file_size` unpacked bytes (default: the truth)."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        stream, {"descr": "|u1", "fortran_order": False, "shape": shape}
    )
    header, zero_count = stream.getvalue(), math.prod(shape)
    claimed = len(header) + zero_count if claimed_file_size is None else claimed_file_size
    # A lying header gets the checksum of the bytes it claims, as a careful attacker would write.
    crc = crc32_with_zeros(zlib.crc32(header), claimed - len(header))
    return ZipMember(f"{key}.npy", deflate_zeros(header, zero_count), crc, claimed)


def write_npz_bomb(path: Path, images: int = BOMB_IMAGES, zip_header_lies=False) -> Path:
    """An mnist.npz whose x_train holds `images` zero images and y_train as many labels, with
    ordinary test arrays. With the default 4,000,000 images: 3 MB holding 3.1 GB. If
    `zip_header_lies`, the zip headers claim x_train unpacks to only 1,000 bytes."""
    _, _, x_test, y_test = small_arrays()
    members = [
        zeros_npy_member("x_train", (images, 28, 28), 1000 if zip_header_lies else None),
        zeros_npy_member("y_train", (images,)),
        npy_member("x_test", x_test),
        npy_member("y_test", y_test),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_zip(path, members)


# What reading a bomb (a small file that unpacks to gigabytes) may take before it is refused.
PEAK_MEMORY_LIMIT_BYTES = 200 * 1024 * 1024
# Refusing a bomb takes milliseconds; reading one took 15 seconds. Generous for a busy machine.
SECONDS_LIMIT = 3


class MemoryAndTime:
    """Measure a `with` block: `peak_bytes` of memory it allocated (tracemalloc sees NumPy's
    arrays too) and the `seconds` it took."""

    def __enter__(self) -> MemoryAndTime:
        tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exception_info) -> None:
        self.seconds = time.perf_counter() - self.started
        self.peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


# ---- permission denied, for tests that may run as root (whom chmod does not stop) -------------


def _refusing(real, refused):
    def call(path, *args, **kwargs):
        if isinstance(path, str | bytes | os.PathLike) and refused(Path(os.fsdecode(path))):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real(path, *args, **kwargs)

    return call


def deny_reading(monkeypatch, file: Path) -> None:
    """Make opening `file` fail with PermissionError, as after `chmod 000 file` for a user who
    is not root: the file can still be seen, but not opened."""
    monkeypatch.setattr(builtins, "open", _refusing(builtins.open, lambda path: path == file))


def deny_searching(monkeypatch, folder: Path) -> None:
    """Make looking at anything inside `folder` fail with PermissionError, as after
    `chmod 000 folder` for a user who is not root: the folder itself can still be seen."""
    for name in ("stat", "lstat"):
        monkeypatch.setattr(
            os, name, _refusing(getattr(os, name), lambda path: folder in path.parents)
        )
    monkeypatch.setattr(
        builtins, "open", _refusing(builtins.open, lambda path: folder in path.parents)
    )
