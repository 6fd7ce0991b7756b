"""explorer.data.npz: reading mnist.npz, good, broken and hostile."""

from __future__ import annotations

import bz2
import dataclasses
import io
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from explorer.data.npz import NPZ_KEYS, read_npz
from explorer.data.sources import load_mnist
from tests.data.mnist_files import (
    PEAK_MEMORY_LIMIT_BYTES,
    SECONDS_LIMIT,
    MemoryAndTime,
    ZipMember,
    assert_same_arrays,
    npy_member,
    small_arrays,
    write_npz,
    write_npz_bomb,
    write_zip,
)


def test_read_npz_round_trips(tmp_path):
    arrays = small_arrays()
    assert_same_arrays(read_npz(write_npz(tmp_path / "mnist.npz", arrays)), arrays)


@pytest.mark.parametrize(
    ("zip_header_lies", "message"),
    [
        (False, r"'x_train' unpacks to 3,136,000,128 bytes, more than the 70,000 images"),
        # The zip headers claim 1,000 bytes, so only the .npy header tells the size.
        (True, r"'x_train' has shape \(4000000, 28, 28\), more than the 70,000 images"),
    ],
)
def test_npz_bomb_is_rejected_quickly_in_little_memory(tmp_path, zip_header_lies, message):
    path = write_npz_bomb(tmp_path / "mnist.npz", zip_header_lies=zip_header_lies)
    assert path.stat().st_size < 4_000_000  # 3 MB, holding 3.1 GB
    with MemoryAndTime() as measured, pytest.raises(ValueError, match=message):
        read_npz(path)
    assert measured.peak_bytes < PEAK_MEMORY_LIMIT_BYTES
    assert measured.seconds < SECONDS_LIMIT


def test_npz_member_packed_with_bzip2_is_refused_before_unpacking(tmp_path):
    # zipfile unpacks a bzip2 or lzma member without a size bound (a few KB can become GBs).
    arrays = small_arrays()
    members = [npy_member(key, array) for key, array in zip(NPZ_KEYS, arrays, strict=True)]
    stream = io.BytesIO()
    np.lib.format.write_array(stream, arrays[0])
    data = stream.getvalue()
    members[0] = ZipMember(
        "x_train.npy", [bz2.compress(data)], zlib.crc32(data), len(data), zipfile.ZIP_BZIP2
    )
    path = write_zip(tmp_path / "mnist.npz", members)
    with pytest.raises(ValueError, match=r"mnist\.npz: 'x_train' is packed with zip method 12"):
        read_npz(path)


def test_npz_listing_thousands_of_members_is_refused_before_opening(tmp_path):
    # Opening a zip parses its whole list of members: 100,000 cost 55 MB and 5 s.
    path = write_npz(tmp_path / "mnist.npz", small_arrays())
    with zipfile.ZipFile(path, "a") as archive:
        for number in range(2000):
            archive.writestr(f"padding{number}", b"")
    with (
        MemoryAndTime() as measured,
        pytest.raises(ValueError, match=r"mnist\.npz lists far more members than an MNIST \.npz"),
    ):
        read_npz(path)
    assert measured.peak_bytes < 1_000_000


def test_encrypted_npz_member_is_refused(tmp_path):
    arrays = small_arrays()
    members = [npy_member(key, array) for key, array in zip(NPZ_KEYS, arrays, strict=True)]
    members[1] = dataclasses.replace(members[1], flag_bits=0x1)
    path = write_zip(tmp_path / "mnist.npz", members)
    with pytest.raises(ValueError, match=r"mnist\.npz: 'y_train' is encrypted"):
        read_npz(path)


def test_hand_written_npz_reads_like_numpys(tmp_path):
    # The writer the bomb tests use makes archives the reader accepts.
    arrays = small_arrays()
    members = [npy_member(key, array) for key, array in zip(NPZ_KEYS, arrays, strict=True)]
    assert_same_arrays(read_npz(write_zip(tmp_path / "mnist.npz", members)), arrays)
    with np.load(write_npz_bomb(tmp_path / "small_bomb.npz", images=50)) as archive:
        assert archive["x_train"].shape == (50, 28, 28) and not archive["x_train"].any()


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
