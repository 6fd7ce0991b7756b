"""Tests for explorer.images: PNG encoding (checked by two decoders) and the digit grid HTML."""

from __future__ import annotations

import base64
import io
import re
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from explorer.images import digit_grid_html, png_bytes, png_data_uri

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def decode_png(data: bytes) -> tuple[dict, np.ndarray, list[bytes]]:
    """A minimal PNG decoder for 8-bit gray/RGB, unfiltered, non-interlaced images.

    Checks the signature and every chunk's CRC; returns (header fields, pixels, chunk types).
    """
    assert data[:8] == PNG_SIGNATURE
    position = 8
    chunk_types = []
    header = {}
    compressed = b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk_type = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(chunk_type + body) & 0xFFFFFFFF, f"bad CRC in {chunk_type!r}"
        chunk_types.append(chunk_type)
        if chunk_type == b"IHDR":
            fields = struct.unpack(">IIBBBBB", body)
            names = ("width", "height", "bit_depth", "colour_type", "compression")
            header = dict(zip((*names, "filter", "interlace"), fields, strict=True))
        elif chunk_type == b"IDAT":
            compressed += body
        position += 12 + length
    assert position == len(data), "trailing bytes after the last chunk"
    channels = {0: 1, 2: 3}[header["colour_type"]]
    raw = np.frombuffer(zlib.decompress(compressed), dtype=np.uint8)
    rows = raw.reshape(header["height"], 1 + header["width"] * channels)
    assert np.all(rows[:, 0] == 0), "only filter type 0 is expected"
    pixels = rows[:, 1:].reshape(header["height"], header["width"], channels)
    return header, (pixels[:, :, 0] if channels == 1 else pixels), chunk_types


def random_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def test_grayscale_png_round_trips_through_own_decoder() -> None:
    image = random_image((28, 20))
    header, pixels, chunk_types = decode_png(png_bytes(image))
    assert chunk_types == [b"IHDR", b"IDAT", b"IEND"]
    assert header == {
        "width": 20,
        "height": 28,
        "bit_depth": 8,
        "colour_type": 0,
        "compression": 0,
        "filter": 0,
        "interlace": 0,
    }
    np.testing.assert_array_equal(pixels, image)


def test_rgb_png_round_trips_through_own_decoder() -> None:
    image = random_image((5, 7, 3), seed=1)
    header, pixels, _ = decode_png(png_bytes(image))
    assert (header["width"], header["height"], header["colour_type"]) == (7, 5, 2)
    np.testing.assert_array_equal(pixels, image)


@pytest.mark.parametrize(("shape", "mode"), [((28, 28), "L"), ((9, 4, 3), "RGB")])
def test_png_decodes_identically_with_pillow(shape: tuple[int, ...], mode: str) -> None:
    image = random_image(shape, seed=2)
    decoded = Image.open(io.BytesIO(png_bytes(image)))
    decoded.load()
    assert decoded.format == "PNG"
    assert decoded.mode == mode
    assert decoded.size == (shape[1], shape[0])
    np.testing.assert_array_equal(np.asarray(decoded), image)


def test_scale_repeats_every_pixel_as_a_block() -> None:
    image = np.array([[0, 255], [10, 200]], dtype=np.uint8)
    header, pixels, _ = decode_png(png_bytes(image, scale=3))
    assert (header["width"], header["height"]) == (6, 6)
    expected = np.array(
        [
            [0, 0, 0, 255, 255, 255],
            [0, 0, 0, 255, 255, 255],
            [0, 0, 0, 255, 255, 255],
            [10, 10, 10, 200, 200, 200],
            [10, 10, 10, 200, 200, 200],
            [10, 10, 10, 200, 200, 200],
        ],
        dtype=np.uint8,
    )
    np.testing.assert_array_equal(pixels, expected)
    with Image.open(io.BytesIO(png_bytes(image, scale=3))) as decoded:
        np.testing.assert_array_equal(np.asarray(decoded), expected)


def test_png_of_a_non_contiguous_view_is_correct() -> None:
    image = random_image((10, 12), seed=3)[::2, ::3]
    _, pixels, _ = decode_png(png_bytes(image))
    np.testing.assert_array_equal(pixels, image)


@pytest.mark.parametrize(
    ("image", "scale", "message"),
    [
        (np.zeros((4, 4), dtype=np.float32), 1, "uint8"),
        (np.zeros((4, 4), dtype=np.int64), 1, "uint8"),
        (np.zeros((4, 4, 4), dtype=np.uint8), 1, "shape"),
        (np.zeros((4,), dtype=np.uint8), 1, "shape"),
        (np.zeros((0, 4), dtype=np.uint8), 1, "empty"),
        (np.zeros((4, 4), dtype=np.uint8), 0, "scale"),
        (np.zeros((4, 4), dtype=np.uint8), 2.0, "scale"),
        ([[0, 1], [2, 3]], 1, "numpy array"),
    ],
)
def test_png_bytes_rejects_bad_input(image: object, scale: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        png_bytes(image, scale=scale)  # type: ignore[arg-type]


def test_png_data_uri_wraps_the_png_in_base64() -> None:
    image = random_image((3, 3), seed=4)
    uri = png_data_uri(image, scale=2)
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]) == png_bytes(image, scale=2)


def cells_of(markup: str) -> list[str]:
    """The opening tags of every digit cell in the grid HTML."""
    return re.findall(r'<div class="digit-cell"[^>]*>', markup)


def attribute_of(tag: str, name: str) -> str:
    match = re.search(rf'{name}="([^"]*)"', tag)
    assert match is not None, f"{name} missing in {tag}"
    return match.group(1)


def test_digit_grid_has_one_cell_per_image_with_correctness_attributes() -> None:
    images = np.stack([random_image((28, 28), seed=seed) for seed in range(4)])
    markup = digit_grid_html(
        images,
        predicted=np.array([7, 2, 1, 4]),
        true_labels=[7, 3, 1, 9],
        confidence=[0.934, 0.5, 1.0, 0.0],
        columns=2,
    )
    cells = cells_of(markup)
    assert len(cells) == 4
    assert [attribute_of(cell, "data-predicted") for cell in cells] == ["7", "2", "1", "4"]
    assert [attribute_of(cell, "data-true") for cell in cells] == ["7", "3", "1", "9"]
    assert [attribute_of(cell, "data-correct") for cell in cells] == [
        "true",
        "false",
        "true",
        "false",
    ]
    assert attribute_of(cells[0], "title") == "predicted 7 (93% confident), true 7"
    assert 'class="digit-grid"' in markup
    assert "repeat(2," in markup
    assert markup.count("<img ") == 4
    assert markup.count("image-rendering:pixelated") == 4
    assert "<script" not in markup
    assert "\n" not in markup


def test_wrong_predictions_show_the_true_label_and_a_red_border() -> None:
    images = [random_image((28, 28), seed=seed) for seed in range(2)]
    markup = digit_grid_html(images, [5, 8], [5, 3], [0.9, 0.6])
    assert markup.count("true: ") == 1
    assert "true: 3" in markup
    assert markup.count("2px solid #d62728") == 1
    assert markup.count("color:#1a7f37") == 1


def test_without_highlighting_no_cell_gives_the_answer_away() -> None:
    images = [random_image((28, 28), seed=seed) for seed in range(2)]
    markup = digit_grid_html(images, [5, 8], [5, 3], [0.9, 0.6], highlight_wrong=False)
    assert "true: " not in markup
    assert "#d62728" not in markup
    assert "#1a7f37" not in markup
    assert [attribute_of(cell, "data-correct") for cell in cells_of(markup)] == ["true", "false"]


def test_images_in_the_grid_are_the_encoded_digits() -> None:
    image = random_image((28, 28), seed=5)
    markup = digit_grid_html([image], [1], [1], [0.99])
    source = re.search(r'<img src="data:image/png;base64,([^"]+)"', markup)
    assert source is not None
    _, pixels, _ = decode_png(base64.b64decode(source.group(1)))
    np.testing.assert_array_equal(pixels, image)


def test_labels_and_caption_are_html_escaped() -> None:
    image = random_image((28, 28))
    markup = digit_grid_html(
        [image], ['<b>"x"</b>'], ["<i>&</i>"], [0.5], caption="<script>alert(1)</script>"
    )
    assert "<b>" not in markup
    assert "<i>" not in markup
    assert "<script>" not in markup
    assert "&lt;b&gt;&quot;x&quot;&lt;/b&gt;" in markup
    assert "true: &lt;i&gt;&amp;&lt;/i&gt;" in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</figcaption>" in markup


def test_empty_grid_says_so() -> None:
    markup = digit_grid_html(np.zeros((0, 28, 28), dtype=np.uint8), [], [], [])
    assert cells_of(markup) == []
    assert "No digits to show." in markup


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"predicted": [1]}, "differ in length"),
        ({"true_labels": [1, 2, 3]}, "true_labels=3"),
        ({"confidence": [0.5, 1.5]}, "between 0 and 1"),
        ({"confidence": [0.5, float("nan")]}, "between 0 and 1"),
        ({"columns": 0}, "columns"),
        ({"images": np.zeros((28, 28), dtype=np.uint8)}, "stack"),
        ({"images": [np.zeros((28, 28), dtype=np.float64)] * 2}, "uint8"),
    ],
)
def test_digit_grid_rejects_bad_input(arguments: dict, message: str) -> None:
    defaults = {
        "images": [np.zeros((28, 28), dtype=np.uint8)] * 2,
        "predicted": [1, 2],
        "true_labels": [1, 2],
        "confidence": [0.5, 0.5],
    }
    with pytest.raises(ValueError, match=message):
        digit_grid_html(**{**defaults, **arguments})
