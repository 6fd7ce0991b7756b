"""explorer.views.digits: PNG images through Pillow, and the HTML grids of digits."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from explorer.views.digits import digit_grid_html, digit_rows_html, png_bytes, png_data_uri

DIGITS = np.arange(4 * 28 * 28, dtype=np.uint32).reshape(4, 28, 28).astype(np.uint8)


def decode(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_png_round_trips_grayscale_and_rgb() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (9, 4, 3), dtype=np.uint8)
    for image in (DIGITS[0], rgb, DIGITS[1][::2, ::3]):
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(image)))), image)


def test_data_uri_holds_the_same_pixels() -> None:
    uri = png_data_uri(DIGITS[2])
    assert uri.startswith("data:image/png;base64,")
    assert np.array_equal(decode(uri), DIGITS[2])


def test_grid_has_one_cell_per_digit_with_its_verdict_and_picture() -> None:
    predicted, truth = np.array([1, 2, 3, 9]), np.array([1, 2, 3, 4])
    confidence = np.array([0.9, 0.8, 0.7, 0.6])
    html = digit_grid_html(DIGITS, predicted, truth, confidence, columns=2, caption="<b>x</b>")
    cells = re.findall(r'<div class="digit-cell"[^>]*data-correct="(\w+)"', html)
    assert cells == ["true", "true", "true", "false"]
    assert html.count("true: 4") == 1  # only the wrong one names its true label
    pictures = re.findall(r'src="(data:image/png;base64,[^"]+)"', html)
    assert np.array_equal(decode(pictures[3]), DIGITS[3])
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "repeat(2," in html


def test_empty_grid_says_so() -> None:
    assert "No digits to show" in digit_grid_html(DIGITS[:0], [], [], [])


def test_rows_mark_the_columns_where_runs_disagree_and_escape_run_names() -> None:
    truth = np.array([1, 2, 3, 4])
    rows = [
        ("A", np.array([1, 2, 3, 4]), np.ones(4)),
        ("<i>B</i>", np.array([1, 7, 3, 4]), np.ones(4)),
    ]
    html = digit_rows_html(DIGITS, truth, rows, columns=3)
    digits = re.findall(r'class="digit" data-position="(\d)"[^>]*data-disagree="(\w+)"', html)
    assert digits == [("0", "false"), ("1", "true"), ("2", "false"), ("3", "false")]
    assert html.count('class="digit-block"') == 2
    assert html.count("data-run=") == 8
    assert "&lt;i&gt;B&lt;/i&gt;" in html and "<i>B</i>" not in html
    assert html.count("✗") == 1  # B's wrong 7: marked, not only coloured red
