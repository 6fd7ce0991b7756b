"""explorer.inference: the NumPy forward pass against Keras, its inputs and its checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.inference import as_input, forward, layer_pairs

RNG = np.random.default_rng(0)


def random_weights(*widths: int) -> list[np.ndarray]:
    weights = []
    for inputs, units in itertools.pairwise(widths):
        weights += [RNG.normal(0, 0.1, (inputs, units)).astype(np.float32)]
        weights += [RNG.normal(0, 0.1, units).astype(np.float32)]
    return weights


@pytest.mark.parametrize("hidden2", [8, 0], ids=["two hidden layers", "hidden2=0"])
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_equals_keras_predict(activation, hidden2, sample_data):
    from explorer.training.steps import build_model

    config = TrainingConfig(hidden1=24, hidden2=hidden2, activation=activation, seed=1)
    model = build_model(config)
    # Keras starts biases at zero: random ones make sure they are added in the right place.
    weights = [
        array if array.ndim == 2 else RNG.normal(0, 0.5, array.shape).astype(np.float32)
        for array in model.get_weights()
    ]
    model.set_weights(weights)
    pixels = sample_data.x_test[:200]
    expected = model.predict(pixels.reshape(200, -1).astype(np.float32) / 255, verbose=0)

    result = forward(weights, activation, pixels)

    np.testing.assert_allclose(result.probabilities, expected, rtol=0, atol=1e-5)
    np.testing.assert_array_equal(result.predictions, expected.argmax(axis=1))
    assert result.probabilities.dtype == np.float32
    assert [layer.shape for layer in result.hidden] == [(200, 24)] + (
        [(200, hidden2)] if hidden2 else []
    )
    # The hidden activations are those of Keras' own layers.
    dense = [layer for layer in model.layers if layer.weights]
    first = dense[0](pixels.reshape(200, -1).astype(np.float32) / 255)
    np.testing.assert_allclose(result.hidden[0], np.asarray(first), atol=1e-5)


def test_every_input_form_gives_the_same_answer():
    weights = random_weights(784, 16, 10)
    digits = RNG.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    expected = forward(weights, "relu", digits).probabilities
    for pixels in (digits.reshape(3, 784), digits / 255.0, (digits / 255).astype(np.float32)):
        np.testing.assert_allclose(forward(weights, "relu", pixels).probabilities, expected, 1e-6)
    one = forward(weights, "relu", digits[1]).probabilities
    assert one.shape == (1, 10)
    np.testing.assert_allclose(one[0], expected[1], rtol=1e-6)
    np.testing.assert_allclose(forward(weights, "relu", digits[1].ravel()).probabilities, one)
    np.testing.assert_allclose(expected.sum(axis=1), 1, rtol=1e-6)


def test_extreme_logits_neither_overflow_nor_warn():
    weights = random_weights(784, 4, 10)
    weights[0] *= 1e4
    weights[2] *= 1e4
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for activation in ("relu", "tanh", "sigmoid"):
            probabilities = forward(weights, activation, np.ones((2, 784))).probabilities
            assert np.isfinite(probabilities).all()


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (np.zeros((2, 100)), "Expected digits of 784 pixels"),
        (np.zeros(5), "Expected digits of 784 pixels"),
        (np.full((1, 784), 255.0), "Float pixels must be finite and 0..1"),
        (np.full((1, 784), np.nan), "Float pixels must be finite and 0..1"),
        (np.full((1, 784), 300), "Integer pixels must be 0..255"),
        (np.full((1, 784), "a"), "Pixels must be integers 0..255 or floats 0..1"),
    ],
)
def test_bad_pixels_are_explained(pixels, message):
    with pytest.raises(ValueError, match=message):
        as_input(pixels)


def test_weights_that_do_not_fit_are_explained():
    good = random_weights(784, 16, 8, 10)
    assert [kernel.shape for kernel, _ in layer_pairs(good)] == [(784, 16), (16, 8), (8, 10)]
    with pytest.raises(ValueError, match="4 or 6 arrays"):
        layer_pairs(good[:2])
    with pytest.raises(ValueError, match="Layer 2's weights do not fit"):
        layer_pairs([good[0], good[1], good[4], good[5]])
    with pytest.raises(ValueError, match="10 outputs"):
        layer_pairs(random_weights(784, 16, 9))
    with pytest.raises(ValueError, match="activation must be one of relu, tanh, sigmoid"):
        forward(good, "gelu", np.zeros(784))
