"""A drawing or a photo of a digit, prepared the way MNIST's digits were (NumPy and Pillow only).

    digit = prepare_digit(canvas)                  # white ink on black, any size -> (28, 28) uint8
    digit = image_to_mnist("seven.jpg")            # any image Pillow reads, either polarity
    canvas = strokes_to_canvas([[(40, 30), (200, 30), (90, 250)]])  # strokes -> 280x280 uint8
    strokes = checked_strokes(value_from_the_browser)  # ValueError unless strokes of 0..1 points

How MNIST was made (LeCun, Cortes and Burges): each digit was scaled to fit a 20×20 box keeping
its aspect ratio, with anti-aliasing (hence the grey edges), then placed in a 28×28 field so
that its centre of mass is at the centre. In pixel indices that centre is row 14, column 14: the
mean centre of mass of the bundled sample's digits is (14.00, 14.01). A network trained on MNIST
expects exactly this; a digit drawn small in a corner of a canvas would otherwise look to it like
nothing it has seen.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

SIDE = 28  # MNIST's field
BOX = 20  # the box a digit is scaled to fit
CENTRE = 14.0  # where its centre of mass goes, in pixel indices (row, column)
# Pixels brighter than this share of the brightest one count as ink for the bounding box, so
# the faint anti-aliased fringe of a stroke does not make the digit look bigger than it is.
INK_THRESHOLD = 0.1
# A canvas whose brightest pixel is below this (0..1) is empty: nothing to scale up.
MIN_INK = 0.05
# In a photo, ink fainter than this share of the darkest stroke is paper texture, not digit.
PHOTO_NOISE_FLOOR = 0.25
EMPTY_MESSAGE = "Draw a digit first: the canvas is empty."
CANVAS_SIDE = 280  # the page's drawing canvas: ten screen pixels per MNIST pixel
STROKE_WIDTH = 20  # a pen about two MNIST pixels wide once scaled down, as MNIST's strokes are
# What the page's canvas can send: a digit drawn by hand has a few strokes of a few hundred
# points (the canvas drops points closer than 0.3 % of its side). Drawing the most this allows
# costs about 25 ms of CPU (bench/README.md); a crafted value beyond it is refused first.
# A picture to predict may have at most this many pixels. A phone's photo has 12 to 48; 40 keeps
# nearly all of them and caps decoding near 160 MB (RGBA). Checked from the file's header, before
# anything is decoded: a 12,000 × 12,000 PNG of 140 KB would otherwise take 600 MB and seconds.
MAX_PICTURE_MEGAPIXELS = 40
MAX_STROKES = 100
MAX_POINTS = 2000
UNREADABLE = "The drawing could not be read: "


def prepare_digit(canvas: np.ndarray) -> np.ndarray:
    """A drawing of one digit as MNIST's (28, 28) uint8 array, white ink on black.

    `canvas` is white (or any light) ink on black, any size: a 2-D array, uint8 0..255 or
    floats 0..1, or (h, w, 3) / (h, w, 4) RGB(A) from a drawing widget (a transparent pixel
    is no ink). The ink's bounding box is scaled to fit 20×20 keeping its aspect ratio
    (Lanczos, anti-aliased), its brightest pixel becomes 255 (as in MNIST), and it is placed in
    28×28 with its centre of mass moved to (14, 14), by whole pixels and never past the edge.

    Raises ValueError(EMPTY_MESSAGE) for a canvas without ink, and ValueError for a canvas that
    is not an image (wrong shape, floats beyond 0..1).
    """
    ink = _ink(canvas)
    peak = float(ink.max()) if ink.size else 0.0
    if not peak >= MIN_INK:  # also catches an empty array
        raise ValueError(EMPTY_MESSAGE)
    ink /= peak
    marked = ink > INK_THRESHOLD
    rows = np.flatnonzero(marked.any(axis=1))
    columns = np.flatnonzero(marked.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, _round(width * scale)), max(1, _round(height * scale)))  # Pillow: (w, h)
    small = Image.fromarray(np.ascontiguousarray(crop)).resize(size, Image.Resampling.LANCZOS)
    small = np.asarray(small)
    small = np.clip(small, 0.0, None)  # Lanczos overshoots a little below 0 next to edges
    if not small.max() > 0:  # cannot happen for ink above INK_THRESHOLD; never divide by 0
        raise ValueError(EMPTY_MESSAGE)
    return _centred(small / small.max())


def image_to_mnist(source: str | os.PathLike | Image.Image) -> np.ndarray:
    """A picture of one digit (a file Pillow can read, or a PIL image) as MNIST's (28, 28) uint8.

    Colour becomes grey. MNIST is light ink on black: if the picture's border is mostly light
    (a dark digit on paper), it is inverted. A 28×28 picture is taken as it is, since it is
    already in MNIST's format (only inverted if need be); any other size is stretched so its
    background is 0 and its strongest stroke 1, and then prepared like a drawing
    (`prepare_digit`). Photos of a dark digit on plain paper work best.

    Raises ValueError, saying why, for a file that is missing or not an image, and for a
    picture of one flat colour.
    """
    name = "the image" if isinstance(source, Image.Image) else f"{os.fspath(source)!r}"
    image = _open(source, name)
    gray = _grayscale(image)
    if _median(_border(gray)) > 127.5:  # light background: a dark digit on paper
        gray = 255 - gray
    if gray.shape == (SIDE, SIDE):
        return gray
    background = _median(_border(gray))
    spread = float(gray.max()) - background
    if spread < 16:
        raise ValueError(f"No digit found in {name}: it is one flat colour.")
    ink = np.clip((gray.astype(np.float32) - background) / spread, 0.0, 1.0)
    ink = np.clip((ink - PHOTO_NOISE_FLOOR) / (1 - PHOTO_NOISE_FLOOR), 0.0, 1.0)
    return prepare_digit(ink)


def checked_strokes(value: object) -> list[list[tuple[float, float]]]:
    """The canvas's value as strokes of (x, y) points in 0..1, checked before any work.

    The value comes from the browser, so it may be anything a student crafts: it must be a list
    of at most MAX_STROKES strokes, each a list of [x, y] pairs of finite numbers in 0..1, with
    at most MAX_POINTS points in all. ValueError (a short message) otherwise. Sizes are checked
    before points are read, so refusing a huge value costs as little as accepting a small one.
    """
    if not isinstance(value, list | tuple):
        raise ValueError(UNREADABLE + "it is not a list of strokes.")
    if len(value) > MAX_STROKES:
        raise ValueError(UNREADABLE + f"it has {len(value)} strokes; at most {MAX_STROKES}.")
    if not all(isinstance(stroke, list | tuple) for stroke in value):
        raise ValueError(UNREADABLE + "a stroke is not a list of points.")
    total = sum(len(stroke) for stroke in value)
    if total > MAX_POINTS:
        raise ValueError(UNREADABLE + f"it has {total} points; at most {MAX_POINTS}.")
    strokes = []
    for stroke in value:
        points = []
        for point in stroke:
            if not (isinstance(point, list | tuple) and len(point) == 2):
                raise ValueError(UNREADABLE + "a point is not a pair [x, y].")
            x, y = point
            if not all(_is_fraction(coordinate) for coordinate in (x, y)):
                raise ValueError(UNREADABLE + "a point is not two numbers from 0 to 1.")
            points.append((float(x), float(y)))
        if points:
            strokes.append(points)
    return strokes


def _is_fraction(value: object) -> bool:
    """A finite number from 0 to 1 (not a bool: JSON's true is not a coordinate)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and 0.0 <= value <= 1.0


def strokes_to_canvas(
    strokes: Iterable[Sequence[Sequence[float]]],
    size: int = CANVAS_SIDE,
    width: int = STROKE_WIDTH,
) -> np.ndarray:
    """Pen strokes, each a list of (x, y) points in canvas pixels, drawn white on a black
    `size`×`size` canvas with a round pen `width` pixels wide: (size, size) uint8."""
    image = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(image)
    radius = width / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=width, joint="curve")
        for x, y in points:  # round ends, and a dot for a single tap
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)
    return np.asarray(image)


# -- helpers -----------------------------------------------------------------------------------


def _ink(canvas: np.ndarray) -> np.ndarray:
    """The canvas as a float32 (h, w) array of ink, 0..1 (a new array)."""
    array = np.asarray(canvas)
    if array.dtype == bool:
        array = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):
        if array.size and (array.min() < 0 or array.max() > 255):
            raise ValueError("A canvas of whole numbers must hold 0..255.")
        array = array.astype(np.float32) / 255
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
        if array.size and not (np.isfinite(array).all() and array.min() >= 0 and array.max() <= 1):
            raise ValueError("A canvas of floats must hold 0..1 (divide 0..255 values by 255).")
    else:
        raise ValueError(f"A canvas must hold numbers; got {array.dtype}.")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        ink = array[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # luminance
        return ink * array[..., 3] if array.shape[2] == 4 else ink
    if array.ndim != 2:
        raise ValueError(
            f"A canvas must be a 2-D grayscale array (or RGB/RGBA); got shape {array.shape}."
        )
    return array


def _centred(small: np.ndarray) -> np.ndarray:
    """`small` (at most 20×20, 0..1) in a 28×28 uint8 field, its centre of mass at (14, 14)."""
    height, width = small.shape
    total = float(small.sum())
    centre_row = float(small.sum(axis=1) @ np.arange(height)) / total
    centre_column = float(small.sum(axis=0) @ np.arange(width)) / total
    top = min(max(_round(CENTRE - centre_row), 0), SIDE - height)
    left = min(max(_round(CENTRE - centre_column), 0), SIDE - width)
    field = np.zeros((SIDE, SIDE), dtype=np.float32)
    field[top : top + height, left : left + width] = small
    return np.rint(field * 255).astype(np.uint8)


def _round(value: float) -> int:
    """Halves round up (Python's round() sends 4.5 to 4 but 5.5 to 6)."""
    return math.floor(value + 0.5)


def _open(source: str | os.PathLike | Image.Image, name: str) -> Image.Image:
    if isinstance(source, Image.Image):
        return ImageOps.exif_transpose(source)
    try:
        with warnings.catch_warnings():  # Pillow warns of a large picture; we refuse it below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)  # lazy: reads the header, decodes nothing yet
    except FileNotFoundError:
        raise ValueError(f"There is no file {name}.") from None
    except IsADirectoryError:
        raise ValueError(f"{name} is a folder, not an image.") from None
    except Image.DecompressionBombError:  # Pillow's own limit, far above ours
        raise ValueError(_too_large(name, "far more than")) from None
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise ValueError(f"{name} is not an image that can be read ({error}).") from None
    width, height = image.size
    if width * height > MAX_PICTURE_MEGAPIXELS * 1_000_000:
        image.close()
        size = f"{width} × {height} pixels ({width * height / 1e6:.0f} megapixels)"
        raise ValueError(_too_large(name, size + ", more than"))
    try:
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"{name} is not an image that can be read ({error}).") from None
    return ImageOps.exif_transpose(image)  # a phone's photo, the right way up


def _too_large(name: str, size: str) -> str:
    return (
        f"{name} is {size} {MAX_PICTURE_MEGAPIXELS} megapixels, the largest picture read. "
        "Scale it down first: a digit needs only a few hundred pixels a side."
    )


def _grayscale(image: Image.Image) -> np.ndarray:
    """(h, w) uint8. Transparent pixels take the colour that contrasts with the opaque ones
    (white behind dark ink, black behind light ink), so a digit on a transparent background
    keeps its polarity."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return np.asarray(image.convert("L"))
    rgba = image.convert("RGBA")
    alpha = np.asarray(rgba.getchannel("A"))
    gray = np.asarray(rgba.convert("L"))
    opaque = gray[alpha > 127]
    behind = 255 if opaque.size and _median(opaque) < 128 else 0
    backdrop = Image.new("RGBA", rgba.size, (behind, behind, behind, 255))
    return np.asarray(Image.alpha_composite(backdrop, rgba).convert("L"))


def _border(gray: np.ndarray) -> np.ndarray:
    """The pixels of the picture's outer frame, 1/20 of its shorter side wide (at least 1)."""
    frame = max(1, min(gray.shape) // 20)
    inner = np.ones(gray.shape, dtype=bool)
    inner[frame:-frame, frame:-frame] = False
    return gray[inner]


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else 0.0
