"""explorer.views.network: first-layer weights as pictures, and hidden activations as data."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from explorer.inference import forward
from explorer.views.network import (
    NEGATIVE_RGB,
    POSITIVE_RGB,
    READING_GUIDE,
    activation_frame,
    diverging_colours,
    favourite_digits,
    strongest_units,
    weight_grid_html,
    weight_pictures,
)


def weights_with(kernel: np.ndarray, hidden2: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    units = kernel.shape[1]
    weights = [kernel.astype(np.float32), np.zeros(units, np.float32)]
    previous = units
    for width in ([hidden2] if hidden2 else []) + [10]:
        weights += [rng.normal(0, 0.3, (previous, width)).astype(np.float32)]
        weights += [rng.normal(0, 0.3, width).astype(np.float32)]
        previous = width
    return weights


def test_diverging_colours_are_blue_white_red_and_clipped():
    colours = diverging_colours(np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0]), limit=1.0)
    assert colours.dtype == np.uint8 and colours.shape == (7, 3)
    assert tuple(colours[0]) == tuple(colours[1]) == NEGATIVE_RGB
    assert tuple(colours[3]) == (255, 255, 255)
    assert tuple(colours[5]) == tuple(colours[6]) == POSITIVE_RGB
    assert tuple(colours[4]) == tuple(round((255 + c) / 2) for c in POSITIVE_RGB)
    assert (diverging_colours(np.ones((2, 2)), limit=0) == 255).all()


def test_pictures_show_the_strongest_neurons_first_on_one_shared_scale():
    kernel = np.zeros((784, 100), np.float32)
    for unit in range(100):
        kernel[:, unit] = (unit % 37) / 100  # norms: unit 36 and 73 largest, then 35 and 72...
    kernel[0, 5] = -9.0  # one pixel of neuron 5 is strongly negative
    pictures = weight_pictures(weights_with(kernel))
    assert pictures.layer_size == 100
    assert len(pictures.units) == 64 and pictures.images.shape == (64, 28, 28, 3)
    assert pictures.units[:2].tolist() == [36, 73]
    assert (np.diff(pictures.norms) <= 1e-6).all()
    expected_norms = np.linalg.norm(kernel[:, pictures.units], axis=0)
    np.testing.assert_allclose(pictures.norms, expected_norms, rtol=1e-6)
    assert pictures.limit == pytest.approx(9.0)  # the largest |weight| among those shown
    position = pictures.units.tolist().index(5)
    assert tuple(pictures.images[position][0, 0]) == NEGATIVE_RGB  # pixel 0 is row 0, column 0
    assert pictures.images.dtype == np.uint8
    assert strongest_units(kernel, 3).tolist() == [36, 73, 35]


def test_a_layer_smaller_than_the_limit_shows_every_neuron():
    kernel = np.random.default_rng(0).normal(0, 0.1, (784, 5)).astype(np.float32)
    pictures = weight_pictures(weights_with(kernel, hidden2=3), count=64)
    assert sorted(pictures.units.tolist()) == [0, 1, 2, 3, 4]


def test_grid_html_has_a_cell_per_neuron_and_escapes_its_caption():
    kernel = np.random.default_rng(0).normal(0, 0.1, (784, 12)).astype(np.float32)
    pictures = weight_pictures(weights_with(kernel), count=10)
    page = weight_grid_html(pictures, columns=5, caption="<script>x</script>")
    units = re.findall(r'class="weight-cell" data-unit="(\d+)"', page)
    assert [int(unit) for unit in units] == [int(unit) + 1 for unit in pictures.units]
    assert "repeat(5," in page and "of 12: weight length" in page
    assert "&lt;script&gt;" in page and "<script>" not in page
    first = re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1)
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(first))))
    assert np.array_equal(decoded, pictures.images[0])
    assert "No neurons to show" in weight_grid_html(weight_pictures(weights_with(kernel), 0))
    assert "red" in READING_GUIDE and "blue" in READING_GUIDE


def test_activation_frame_lists_every_hidden_neuron_of_one_input():
    kernel = np.random.default_rng(0).normal(0, 0.1, (784, 6)).astype(np.float32)
    digits = np.random.default_rng(1).integers(0, 256, (2, 28, 28), dtype=np.uint8)
    result = forward(weights_with(kernel, hidden2=4), "tanh", digits)
    frame = activation_frame(result, index=1)
    assert list(frame.columns) == ["layer", "unit", "units", "activation"]
    assert frame["layer"].tolist() == ["Hidden layer 1"] * 6 + ["Hidden layer 2"] * 4
    assert frame["unit"].tolist() == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4]
    np.testing.assert_allclose(frame["activation"][:6], result.hidden[0][1], rtol=1e-6)
    np.testing.assert_allclose(frame["activation"][6:], result.hidden[1][1], rtol=1e-6)


def test_favourite_digits_average_the_digits_that_excite_each_neuron_most():
    """Neuron 0 weighs only the top-left pixel, neuron 1 only the bottom-right one: each one's
    favourite picture is the mean of the two digits with the most ink there."""
    kernel = np.zeros((784, 2))
    kernel[0, 0], kernel[783, 1] = 1.0, 1.0
    images = np.zeros((4, 28, 28), np.uint8)
    images[:, 0, 0] = [200, 0, 100, 50]  # neuron 0: digits 0 (200) and 2 (100)
    images[:, 27, 27] = [0, 255, 10, 101]  # neuron 1: digits 1 (255) and 3 (101)
    images[:, 14, 14] = [10, 20, 30, 40]  # ink elsewhere, averaged along
    liked = favourite_digits(weights_with(kernel), np.array([0, 1]), images, top=2)
    assert liked.shape == (2, 28, 28) and liked.dtype == np.uint8
    assert liked[0, 0, 0] == 150 and liked[0, 14, 14] == 20  # (200 + 100) / 2, (10 + 30) / 2
    assert liked[1, 27, 27] == 178 and liked[1, 14, 14] == 30  # (255 + 101) / 2, (20 + 40) / 2
    # The order of `units` is kept: asking for neuron 1 first gives its picture first.
    swapped = favourite_digits(weights_with(kernel), np.array([1, 0]), images, top=2)
    assert np.array_equal(swapped, liked[::-1])
