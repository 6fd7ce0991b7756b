"""Digits as PNG images and as an HTML grid, with nothing but NumPy and zlib.

Use :func:`png_bytes` / :func:`png_data_uri` to turn a uint8 array into a PNG, and
:func:`digit_grid_html` to build a self-contained HTML snippet (inline styles, no scripts)
of digits with their predicted labels, e.g. for ``st.html(digit_grid_html(...))``.

Example::

    html = digit_grid_html(images[:20], predicted[:20], labels[:20], confidence[:20])
"""

from __future__ import annotations

import base64
import functools
import html
import math
import struct
import zlib
from collections.abc import Sequence

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour types: 0 = grayscale, 2 = RGB (truecolour).
COLOUR_TYPE_GRAY = 0
COLOUR_TYPE_RGB = 2
MAX_SCALE = 64
DIGIT_DISPLAY_SCALE = 3
RIGHT_COLOUR = "#1a7f37"
WRONG_COLOUR = "#d62728"


def _png_chunk(chunk_type: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, and the CRC-32 of type + data."""
    crc = zlib.crc32(chunk_type + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + chunk_type + data + struct.pack(">I", crc)


def png_bytes(image: np.ndarray, scale: int = 1) -> bytes:
    """Encode a uint8 image as PNG bytes.

    ``image`` is a 2-D ``(height, width)`` grayscale array or a ``(height, width, 3)`` RGB
    array, dtype uint8. ``scale`` (int, 1..64) enlarges it by repeating each pixel
    ``scale`` times in both directions (nearest neighbour, so digits stay crisp).
    Raises ValueError for any other dtype, shape or scale.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(f"image must have dtype uint8, got {image.dtype}")
    if image.ndim == 2:
        colour_type, channels = COLOUR_TYPE_GRAY, 1
    elif image.ndim == 3 and image.shape[2] == 3:
        colour_type, channels = COLOUR_TYPE_RGB, 3
    else:
        raise ValueError(f"image must be (h, w) or (h, w, 3), got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image must not be empty, got shape {image.shape}")
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)):
        raise ValueError(f"scale must be an int, got {scale!r}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between 1 and {MAX_SCALE}, got {scale}")
    pixels = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, width * channels)
    # Every scanline starts with its filter type; 0 means "no filter", the simplest valid one.
    filtered = np.hstack([np.zeros((height, 1), dtype=np.uint8), rows])
    # Bit depth 8, compression 0, filter method 0, no interlace.
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(np.ascontiguousarray(filtered).tobytes(), 9))
        + _png_chunk(b"IEND", b"")
    )


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    """``image`` as a ``data:image/png;base64,...`` URI, usable as an ``<img src>``.

    Remembered for the last few thousand images: the same test digits are drawn on every
    rerun of every session, and encoding one costs more than looking it up.
    """
    array = np.asarray(image)
    if array.dtype == np.uint8 and isinstance(scale, int):
        return _cached_uri(array.tobytes(), array.shape, scale)
    return _encode_uri(array, scale)


@functools.lru_cache(maxsize=4096)
def _cached_uri(raw: bytes, shape: tuple[int, ...], scale: int) -> str:
    return _encode_uri(np.frombuffer(raw, dtype=np.uint8).reshape(shape), scale)


def _encode_uri(image: np.ndarray, scale: int) -> str:
    encoded = base64.b64encode(png_bytes(image, scale)).decode("ascii")
    return f"data:image/png;base64,{encoded}"


def _confidence_fraction(value: object, position: int) -> float:
    """Return a confidence as a float in [0, 1], raising ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"confidence[{position}] must be a number, got {value!r}")
    fraction = float(value)
    if not math.isfinite(fraction) or not 0.0 <= fraction <= 1.0:
        raise ValueError(f"confidence[{position}] must be between 0 and 1, got {value!r}")
    return fraction


def _plain(label: object) -> object:
    """A label as a plain Python value: NumPy scalars become int/str (7, not np.int64(7))."""
    return label.item() if isinstance(label, np.generic) else label


def _attribute(text: str) -> str:
    """``text`` escaped for use inside a double-quoted HTML attribute."""
    return html.escape(text, quote=True)


def _digit_cell(
    index: int,
    image: np.ndarray,
    predicted: object,
    true_label: object,
    confidence: float,
    highlight_wrong: bool,
) -> str:
    """HTML for one digit: the image, the predicted label and (if wrong) the true label."""
    predicted_text = str(_plain(predicted))
    true_text = str(_plain(true_label))
    correct = bool(_plain(predicted) == _plain(true_label))
    title = f"predicted {predicted_text} ({confidence:.0%} confident), true {true_text}"
    border = "2px solid transparent"
    label_colour = "inherit"
    if highlight_wrong:
        border = f"2px solid {WRONG_COLOUR}" if not correct else border
        label_colour = RIGHT_COLOUR if correct else WRONG_COLOUR
    size = image.shape[1] * DIGIT_DISPLAY_SCALE
    cell_style = (
        f"border:{border};border-radius:6px;padding:4px;text-align:center;"
        "display:flex;flex-direction:column;align-items:center;min-width:0"
    )
    # The PNG stays at 28x28 (small HTML); the browser enlarges it without blurring.
    image_style = (
        f"width:{size}px;max-width:100%;height:auto;image-rendering:pixelated;"
        "background:#000;display:block"
    )
    parts = [
        f'<div class="digit-cell" data-index="{index}"'
        f' data-predicted="{_attribute(predicted_text)}"'
        f' data-true="{_attribute(true_text)}" data-correct="{"true" if correct else "false"}"'
        f' title="{_attribute(title)}" style="{cell_style}">',
        f'<img src="{png_data_uri(image)}" alt="{_attribute(title)}" width="{size}"'
        f' height="{image.shape[0] * DIGIT_DISPLAY_SCALE}" style="{image_style}">',
        f'<div class="digit-predicted" style="font-size:1.6em;font-weight:700;line-height:1.2;'
        f'color:{label_colour}">{html.escape(predicted_text)}</div>',
    ]
    if highlight_wrong and not correct:
        parts.append(
            f'<div class="digit-true" style="font-size:0.8em;color:{WRONG_COLOUR}">'
            f"true: {html.escape(true_text)}</div>"
        )
    parts.append("</div>")
    return "".join(parts)


def digit_grid_html(
    images: Sequence[np.ndarray] | np.ndarray,
    predicted: Sequence[object],
    true_labels: Sequence[object],
    confidence: Sequence[float],
    columns: int = 10,
    highlight_wrong: bool = True,
    caption: str | None = None,
) -> str:
    """An HTML grid of digits (white on black, like MNIST) with their predicted labels.

    ``images`` is an ``(n, 28, 28)`` uint8 array or a list of 2-D uint8 arrays;
    ``predicted``, ``true_labels`` and ``confidence`` (0..1, the probability of the
    predicted class) have one entry per image. Each cell is a ``div.digit-cell`` with
    ``data-predicted``, ``data-true`` and ``data-correct="true|false"`` and a hover title
    "predicted 7 (93% confident), true 7"; the container is ``div.digit-grid`` with
    ``columns`` columns. With ``highlight_wrong`` (default) wrong cells get a red border and
    a "true: 7" line and right labels are green; without it no cell gives the answer away
    (except in the hover title). ``caption`` is shown under the grid. The result is one line
    of HTML with inline styles only, all text escaped. Raises ValueError when the lengths
    disagree, a confidence is outside 0..1, or ``columns`` is not a positive int.
    """
    if isinstance(columns, bool) or not isinstance(columns, (int, np.integer)) or columns < 1:
        raise ValueError(f"columns must be an int >= 1, got {columns!r}")
    if isinstance(images, np.ndarray) and images.ndim not in (3, 4):
        raise ValueError(f"images must be a stack of 2-D images, got shape {images.shape}")
    lengths = {
        "images": len(images),
        "predicted": len(predicted),
        "true_labels": len(true_labels),
        "confidence": len(confidence),
    }
    if len(set(lengths.values())) != 1:
        described = ", ".join(f"{name}={length}" for name, length in lengths.items())
        raise ValueError(
            f"images, predicted, true_labels and confidence differ in length: {described}"
        )
    cells = [
        _digit_cell(
            index,
            np.asarray(images[index]),
            predicted[index],
            true_labels[index],
            _confidence_fraction(confidence[index], index),
            highlight_wrong,
        )
        for index in range(len(images))
    ]
    if not cells:
        cells = ['<div style="grid-column:1/-1;opacity:0.7">No digits to show.</div>']
    # minmax(0, 1fr) lets the columns shrink in a narrow Streamlit column instead of
    # overflowing; max-width stops them from growing far beyond the 3x digit size.
    grid_style = (
        f"display:grid;grid-template-columns:repeat({int(columns)},minmax(0,1fr));gap:6px;"
        f"max-width:{int(columns) * 100}px"
    )
    parts = [
        '<figure class="digit-grid-figure" style="margin:0">',
        f'<div class="digit-grid" style="{grid_style}">',
        *cells,
        "</div>",
    ]
    if caption is not None:
        parts.append(
            '<figcaption style="font-size:0.9em;opacity:0.8;margin-top:4px">'
            f"{html.escape(str(caption))}</figcaption>"
        )
    parts.append("</figure>")
    return "".join(parts)
