"""Pictures for tests and benchmarks, made without holding them in memory.

write_blank_png(path, 12_000, 12_000)   # 144 megapixels, a few hundred kilobytes on disk
subprocess.run([sys.executable, "-c", PEAK_MEMORY_OF_READING, str(path)], ...)
"""

from __future__ import annotations


def write_blank_png(path, width: int, height: int) -> None:
    """A black grayscale PNG of any size, written row by row: a few hundred kilobytes on disk
    for a picture that takes width × height bytes once decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    compressor = zlib.compressobj(9)
    row = bytes(width + 1)  # filter byte 0, then black pixels
    compressed = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", compressed)
        + chunk(b"IEND", b"")
    )


# Run as `python -c PEAK_MEMORY_OF_READING PICTURE`: prints the message image_to_mnist gives
# (if any), then how many megabytes its peak memory grew by while reading the picture.
PEAK_MEMORY_OF_READING = """
import resource, sys
from explorer.data.drawing import image_to_mnist
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    image_to_mnist(sys.argv[1])
except ValueError as error:
    print(error)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""
