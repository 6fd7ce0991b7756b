"""The trained network's forward pass in NumPy, from its stored weights (no TensorFlow).

    weights = service.weights(run_id)              # kernel, bias of each Dense layer, in order
    result = forward(weights, "relu", pixels)      # pixels: one digit or many, see `as_input`
    result.probabilities                           # (n, 10) float32, each row sums to 1
    result.hidden                                  # (n, hidden1) [, (n, hidden2)] after activation
    result.predictions                             # (n,) the most likely digit of each

This is the same arithmetic as the Keras model of `explorer.training.steps` (Dense layers with
the run's activation, then softmax), so the page can classify a drawing and show what every
hidden neuron does without loading TensorFlow. It matches Keras' `model.predict` within 1e-5
(tests/test_inference.py). A run trained with precision "bfloat16" multiplied its first layer in
bfloat16; this pass multiplies in float32, as the Keras model saved with the run does, so its
probabilities can differ from the stored ones in the second or third decimal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

PIXEL_SCALE = 255.0  # uint8 pixels are divided by this, as in training
IMAGE_SIDE = 28


def _relu(values: np.ndarray) -> np.ndarray:
    return np.maximum(values, 0, out=values)


def _sigmoid(values: np.ndarray) -> np.ndarray:
    # 1 / (1 + e^-x) written with tanh: no overflow warning for large negative x.
    return np.multiply(np.tanh(values * 0.5) + 1, 0.5, dtype=values.dtype)


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": _relu,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
}


@dataclass(frozen=True)
class Forward:
    """What the network computes for `n` inputs."""

    probabilities: np.ndarray  # (n, 10) float32: softmax of the logits
    logits: np.ndarray  # (n, 10) float32: the output layer before softmax
    hidden: tuple[np.ndarray, ...]  # one (n, units) float32 per hidden layer, after activation

    @property
    def predictions(self) -> np.ndarray:
        """(n,) int64: the most likely digit of each input."""
        return self.probabilities.argmax(axis=1)


def as_input(pixels: np.ndarray, input_size: int = IMAGE_SIDE * IMAGE_SIDE) -> np.ndarray:
    """Digits as the network's input: a C-contiguous (n, 784) float32 array in 0..1.

    Accepts one digit, (784,) or (28, 28), or many, (n, 784) or (n, 28, 28). Integer pixels are
    0..255 (MNIST's uint8, white ink on black) and are divided by 255 as in training; float
    pixels must already be 0..1. Raises ValueError for another shape, for integers outside
    0..255, and for floats outside 0..1 or not finite (a 0..255 float image is the usual slip).
    """
    array = np.asarray(pixels)
    if array.dtype == bool:
        array = array.astype(np.uint8) * 255
    if array.ndim == 1 or (array.ndim == 2 and array.shape[-1] != input_size):
        array = array[np.newaxis]  # one digit
    if array.ndim < 2 or int(np.prod(array.shape[1:])) != input_size:
        raise ValueError(
            f"Expected digits of {input_size} pixels, (n, {input_size}) or (n, 28, 28); "
            f"got an array of shape {np.shape(pixels)}."
        )
    flat = array.reshape(len(array), input_size)
    if np.issubdtype(flat.dtype, np.integer):
        if flat.size and (flat.min() < 0 or flat.max() > 255):
            raise ValueError("Integer pixels must be 0..255.")
        return np.ascontiguousarray(flat, dtype=np.float32) / np.float32(PIXEL_SCALE)
    if not np.issubdtype(flat.dtype, np.floating):
        raise ValueError(f"Pixels must be integers 0..255 or floats 0..1; got {flat.dtype}.")
    flat = np.ascontiguousarray(flat, dtype=np.float32)
    if flat.size and not (np.isfinite(flat).all() and flat.min() >= 0 and flat.max() <= 1):
        raise ValueError("Float pixels must be finite and 0..1 (divide 0..255 values by 255).")
    return flat


def layer_pairs(weights: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """The stored weights as (kernel, bias) per Dense layer, checked to chain up to 10 outputs.

    `weights` is [kernel1, bias1, (kernel2, bias2,) kernel_out, bias_out] as Keras'
    `get_weights()` and `TrainingService.weights` give them: two or three layers. ValueError
    if they do not fit together.
    """
    arrays = [np.asarray(array) for array in weights]
    if len(arrays) not in (4, 6):
        raise ValueError(
            f"Expected the kernel and bias of 2 or 3 layers (4 or 6 arrays); got {len(arrays)}."
        )
    pairs = list(zip(arrays[0::2], arrays[1::2], strict=True))
    inputs = pairs[0][0].shape[0] if pairs[0][0].ndim == 2 else -1
    for index, (kernel, bias) in enumerate(pairs, start=1):
        if kernel.ndim != 2 or bias.shape != (kernel.shape[1],) or kernel.shape[0] != inputs:
            raise ValueError(
                f"Layer {index}'s weights do not fit: kernel {kernel.shape}, bias {bias.shape}, "
                f"after {inputs} inputs."
            )
        inputs = kernel.shape[1]
    if inputs != 10:
        raise ValueError(f"The last layer must have 10 outputs (one per digit); it has {inputs}.")
    return pairs


def forward(weights: Sequence[np.ndarray], activation: str, pixels: np.ndarray) -> Forward:
    """Run `pixels` (see `as_input`) through the network with these weights and activation.

    `activation` is the run's hidden activation ("relu", "tanh" or "sigmoid"); the output layer
    is always softmax. All arithmetic is float32, as in Keras.
    """
    if activation not in ACTIVATION_FUNCTIONS:
        raise ValueError(
            f"activation must be one of {', '.join(ACTIVATION_FUNCTIONS)}; got {activation!r}."
        )
    squash = ACTIVATION_FUNCTIONS[activation]
    *hidden_layers, (out_kernel, out_bias) = layer_pairs(weights)
    values = as_input(pixels, hidden_layers[0][0].shape[0])
    hidden = []
    for kernel, bias in hidden_layers:
        values = values @ kernel.astype(np.float32, copy=False)
        values += bias.astype(np.float32, copy=False)
        values = squash(values)
        hidden.append(values)
    logits = values @ out_kernel.astype(np.float32, copy=False)
    logits += out_bias.astype(np.float32, copy=False)
    return Forward(softmax(logits), logits, tuple(hidden))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's largest logit so nothing overflows."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)
