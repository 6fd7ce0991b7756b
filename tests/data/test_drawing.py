"""explorer.data.drawing: drawings and photos prepared as MNIST's digits were."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from explorer.data.drawing import (
    EMPTY_MESSAGE,
    MAX_POINTS,
    MAX_STROKES,
    checked_strokes,
    image_to_mnist,
    prepare_digit,
    strokes_to_canvas,
)
from testkit.pictures import PEAK_MEMORY_OF_READING, write_blank_png

SEVEN = [[(60, 50), (220, 50), (110, 240)], [(100, 150), (180, 150)]]


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    weights = digit.astype(float)
    rows, columns = np.indices(digit.shape)
    return (rows * weights).sum() / weights.sum(), (columns * weights).sum() / weights.sum()


def ink_box(digit: np.ndarray) -> tuple[int, int]:
    rows, columns = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return rows[-1] - rows[0] + 1, columns[-1] - columns[0] + 1


def test_a_centred_square_fills_the_box_at_the_centre():
    canvas = np.zeros((280, 280), dtype=np.uint8)
    canvas[100:180, 100:180] = 255
    digit = prepare_digit(canvas)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert ink_box(digit) == (20, 20)
    assert digit.max() == 255 and (digit[digit > 0] == 255).all()  # a flat square stays flat
    row, column = centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(column - 14) <= 0.5


def test_the_same_square_shifted_and_scaled_gives_the_same_digit():
    small = np.zeros((280, 280), dtype=np.uint8)
    small[10:50, 200:240] = 255
    large = np.zeros((300, 500), dtype=np.float32)  # another size, floats
    large[150:270, 20:140] = 1.0
    assert np.array_equal(prepare_digit(small), prepare_digit(large))


def test_a_shape_drawn_twice_as_large_elsewhere_gives_nearly_the_same_digit():
    shape = np.zeros((60, 40), dtype=np.uint8)
    shape[:, :12] = 255  # an L: its centre of mass is off its box's centre
    shape[-12:, :] = 255
    first = np.zeros((280, 280), dtype=np.uint8)
    first[30:90, 150:190] = shape
    second = np.zeros((280, 280), dtype=np.uint8)
    second[120:240, 10:90] = np.kron(shape, np.ones((2, 2), dtype=np.uint8))
    a, b = prepare_digit(first).astype(int), prepare_digit(second).astype(int)
    assert np.abs(a - b).max() <= 8  # resampling from another size: a few grey levels
    assert ink_box(prepare_digit(first)) == (20, 13)  # 60:40 kept as 20:13
    row, column = centre_of_mass(prepare_digit(first))
    assert abs(row - 14) <= 0.5 and abs(column - 14) <= 0.5


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((280, 280), dtype=np.uint8),
        np.zeros((280, 280), dtype=np.float64),
        np.full((280, 280), 3, dtype=np.uint8),  # a stray smudge is not a digit
        np.zeros((280, 280, 4), dtype=np.uint8),
        np.zeros((0, 0)),
    ],
    ids=["uint8", "float", "faint", "rgba", "no pixels"],
)
def test_an_empty_canvas_asks_for_a_digit(canvas):
    with np.errstate(all="raise"), pytest.raises(ValueError, match=r"^Draw a digit first"):
        prepare_digit(canvas)
    assert EMPTY_MESSAGE.startswith("Draw a digit first")


@pytest.mark.parametrize("vertical", [True, False])
def test_a_thin_line_still_works(vertical):
    canvas = np.zeros((280, 280), dtype=np.uint8)
    if vertical:
        canvas[40:240, 137] = 255  # a "1" one pixel wide
    else:
        canvas[140, 40:240] = 255
    digit = prepare_digit(canvas)
    assert ink_box(digit) == ((20, 1) if vertical else (1, 20))
    assert digit.max() == 255
    row, column = centre_of_mass(digit)
    assert abs(row - 14) <= 0.5 and abs(column - 14) <= 0.5


def test_rgba_from_a_drawing_widget_and_strokes():
    canvas = strokes_to_canvas(SEVEN)
    assert canvas.shape == (280, 280) and canvas.dtype == np.uint8 and canvas.max() == 255
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., :3] = canvas[..., None]
    rgba[..., 3] = np.where(canvas > 0, 255, 0)  # transparent where nothing was drawn
    assert np.array_equal(prepare_digit(rgba), prepare_digit(canvas))
    assert strokes_to_canvas([[(140, 140)]]).max() == 255  # a single tap is a dot


@pytest.mark.parametrize(
    ("canvas", "message"),
    [
        (np.full((10, 10), 200.0), "floats must hold 0..1"),
        (np.full((10, 10), -1), "whole numbers must hold 0..255"),
        (np.zeros((2, 10, 10)), "2-D grayscale"),
        (np.full((10, 10), "x"), "must hold numbers"),
    ],
)
def test_what_is_not_a_canvas_is_explained(canvas, message):
    with pytest.raises(ValueError, match=message):
        prepare_digit(canvas)


# -- pictures ----------------------------------------------------------------------------------


def photo(dark_on_light: bool) -> np.ndarray:
    """A 400×300 "photo" of a 7: grey ink on grey paper, with a little noise."""
    ink = strokes_to_canvas([[(x + 40, y) for x, y in s] for s in SEVEN], size=300)
    ink = np.pad(ink, ((0, 0), (0, 100)))[:, :400].astype(float) / 255
    noise = np.random.default_rng(0).normal(0, 4, ink.shape)
    paper, pen = (225.0, 40.0) if dark_on_light else (30.0, 210.0)
    return np.clip(paper + (pen - paper) * ink + noise, 0, 255).astype(np.uint8)


def test_light_on_dark_and_dark_on_light_photos_give_the_same_digit(tmp_path):
    dark_on_light = photo(True)
    light_on_dark = 255 - dark_on_light
    Image.fromarray(dark_on_light).save(tmp_path / "paper.png")
    Image.fromarray(light_on_dark).convert("RGB").save(tmp_path / "board.png")
    from_paper = image_to_mnist(tmp_path / "paper.png")
    from_board = image_to_mnist(str(tmp_path / "board.png"))
    assert from_paper.shape == (28, 28) and from_paper.dtype == np.uint8
    assert np.array_equal(from_paper, from_board)
    # ... and look like the clean drawing of the same 7, noise and grey paper gone.
    clean = prepare_digit(strokes_to_canvas(SEVEN))
    assert ink_box(from_paper) == ink_box(clean)
    assert np.abs(from_paper.astype(int) - clean.astype(int)).mean() < 2
    # Another paper and pen, light on dark: the same digit up to a few grey levels.
    other = image_to_mnist(Image.fromarray(photo(False)))
    assert np.abs(other.astype(int) - from_paper.astype(int)).mean() < 2


def test_a_28_by_28_image_is_used_as_it_is(tmp_path, sample_data):
    digit = sample_data.x_test[0]
    Image.fromarray(digit).save(tmp_path / "digit.png")
    assert np.array_equal(image_to_mnist(tmp_path / "digit.png"), digit)
    Image.fromarray(255 - digit).save(tmp_path / "inverted.png")  # black on white: inverted
    assert np.array_equal(image_to_mnist(tmp_path / "inverted.png"), digit)


def test_a_dark_digit_on_a_transparent_background(tmp_path):
    ink = strokes_to_canvas(SEVEN)
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # black ink, alpha = ink
    rgba[..., 3] = ink
    Image.fromarray(rgba).save(tmp_path / "seven.png")
    assert np.array_equal(image_to_mnist(tmp_path / "seven.png"), prepare_digit(ink))


def test_files_that_are_not_images_are_explained(tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(ValueError, match="is not an image that can be read"):
        image_to_mnist(tmp_path / "notes.png")
    with pytest.raises(ValueError, match="There is no file"):
        image_to_mnist(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="is a folder"):
        image_to_mnist(tmp_path)
    Image.new("L", (50, 40), 128).save(tmp_path / "grey.png")
    with pytest.raises(ValueError, match="one flat colour"):
        image_to_mnist(tmp_path / "grey.png")


class CountingStroke(list):
    """A stroke that counts how often its points are read."""

    reads = 0

    def __iter__(self):
        CountingStroke.reads += 1
        return super().__iter__()


def deeply_nested(depth: int) -> list:
    value: list = [0.5, 0.5]
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x", "not a list of strokes"),
        (None, "not a list of strokes"),
        ({"strokes": []}, "not a list of strokes"),
        (42, "not a list of strokes"),
        ([[[-5, None]]], "not two numbers from 0 to 1"),
        ([[[0.5, float("nan")]]], "not two numbers from 0 to 1"),
        ([[[0.5, float("inf")]]], "not two numbers from 0 to 1"),
        ([[[1.5, 0.5]]], "not two numbers from 0 to 1"),
        ([[[True, 0.5]]], "not two numbers from 0 to 1"),
        ([[["0.5", "0.5"]]], "not two numbers from 0 to 1"),
        ([[[0.5, 0.5, 0.5]]], "not a pair"),
        ([[0.5]], "not a pair"),
        (["stroke"], "a stroke is not a list"),
        ([[[0.1, 0.1]]] * 101, "101 strokes; at most 100"),
        ([[[0.5, 0.5]] * 200_000], "200000 points; at most 2000"),
        ([[[0.5, 0.5]] * 20] * 100, None),  # 2000 points in 100 strokes: the most accepted
        (deeply_nested(10_000), "not a pair"),
    ],
    ids=[
        "a string",
        "null",
        "an object",
        "a number",
        "[[[-5,null]]]",
        "NaN",
        "infinity",
        "beyond the canvas",
        "a bool",
        "strings",
        "three coordinates",
        "a bare number",
        "a stroke that is a string",
        "too many strokes",
        "one huge stroke",
        "the largest accepted",
        "deep",
    ],
)
def test_a_crafted_canvas_value_gets_a_message_not_a_crash(value, message):
    if message is None:
        strokes = checked_strokes(value)
        assert sum(len(stroke) for stroke in strokes) == MAX_POINTS
        return
    with pytest.raises(ValueError, match=re.escape(message)) as raised:
        checked_strokes(value)
    assert str(raised.value).startswith("The drawing could not be read: ")


def test_a_huge_value_is_refused_before_a_point_is_read():
    CountingStroke.reads = 0
    huge = CountingStroke([[0.5, 0.5]] * 200_000)
    with pytest.raises(ValueError, match="at most 2000"):
        checked_strokes([huge])
    assert CountingStroke.reads == 0


def test_strokes_from_the_canvas_are_kept_as_drawn():
    assert checked_strokes([[[0, 1], [0.25, 0.5]], [], [[1, 0]]]) == [
        [(0.0, 1.0), (0.25, 0.5)],
        [(1.0, 0.0)],
    ]
    assert checked_strokes([]) == []
    assert len(checked_strokes([[[0.1, 0.1]]] * MAX_STROKES)) == MAX_STROKES


def test_a_picture_over_40_megapixels_is_refused_before_it_is_decoded(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "huge.png"
    write_blank_png(path, 12_000, 12_000)  # 144 megapixels: 144 MB once decoded
    assert path.stat().st_size < 1_000_000
    child = subprocess.run(
        [sys.executable, "-c", PEAK_MEMORY_OF_READING, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    message, grown_megabytes = child.stdout.strip().rsplit("\n", 1)
    assert "12000 × 12000 pixels (144 megapixels), more than 40 megapixels" in message
    assert int(grown_megabytes) < 20  # decoding would have taken 144 MB


def test_a_picture_under_the_limit_is_read(tmp_path):
    path = tmp_path / "tall.png"
    write_blank_png(path, 100, 300)
    with pytest.raises(ValueError, match="one flat colour"):  # read, and found empty
        image_to_mnist(path)
