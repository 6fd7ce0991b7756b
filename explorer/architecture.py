"""The network as arithmetic: layers, parameter counts and work estimates (no TensorFlow).

Parameter counts, FLOPs and time estimates are plain arithmetic so the page can show them the moment
a slider moves, before TensorFlow has loaded. The Keras model itself is in
`explorer.training.steps`.

    layers = layer_parameters(TrainingConfig())      # 314,000 + 8,020 + 210
    total_parameters(TrainingConfig())               # 322,230
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from explorer.config import TrainingConfig

INPUT_SIZE = 784  # 28 x 28 pixels, flattened as the tutorial does
NUM_CLASSES = 10

# The time model of a training (see `SpeedCalibration`), with coefficients for a two-core laptop
# CPU. Runs measured on this computer replace them as soon as there are some.
DEFAULT_COEFFICIENTS = (
    0.5,  # seconds of fixed cost: tracing the steps, oneDNN making its kernels
    1 / 250e9,  # seconds per floating-point operation (training and test scoring)
    3e-4,  # seconds per gradient step: the cost of a TensorFlow call, whatever the network
    2e-9,  # seconds per gradient step and parameter: the optimizer's passes over the weights
)
# Enough runs to learn all four coefficients; fewer only rescale the defaults.
RUNS_TO_FIT = 6


@dataclass(frozen=True)
class LayerParameters:
    """One Dense layer: `inputs * units` weights plus `units` biases."""

    name: str
    inputs: int
    units: int
    activation: str

    @property
    def weights(self) -> int:
        return self.inputs * self.units

    @property
    def biases(self) -> int:
        return self.units

    @property
    def parameters(self) -> int:
        return self.weights + self.biases

    def as_row(self) -> dict:
        """A row for a table or chart."""
        return {
            "layer": self.name,
            "inputs": self.inputs,
            "units": self.units,
            "activation": self.activation,
            "weights": self.weights,
            "biases": self.biases,
            "parameters": self.parameters,
        }


def layer_parameters(config: TrainingConfig) -> list[LayerParameters]:
    """The Dense layers of the network in order, with their sizes."""
    layers = [LayerParameters("Hidden layer 1", INPUT_SIZE, config.hidden1, config.activation)]
    previous = config.hidden1
    if config.hidden2 > 0:
        layers.append(
            LayerParameters("Hidden layer 2", previous, config.hidden2, config.activation)
        )
        previous = config.hidden2
    layers.append(LayerParameters("Output layer", previous, NUM_CLASSES, "softmax"))
    return layers


def total_parameters(config: TrainingConfig) -> int:
    """All trainable numbers in the network (Keras' `count_params()`)."""
    return sum(layer.parameters for layer in layer_parameters(config))


def layer_widths(config: TrainingConfig) -> list[int]:
    """Neurons per layer from input to output, e.g. [784, 400, 20, 10]."""
    return [INPUT_SIZE] + [layer.units for layer in layer_parameters(config)]


def train_flops_per_sample(config: TrainingConfig) -> int:
    """Floating-point operations to train on one example (forward + backward pass).

    Forward: 2 per weight (multiply and add). Backward: 2 per weight for the weight gradients,
    plus 2 per weight for the input gradients of every layer but the first (nothing needs the
    gradient of the pixels). Biases and activations are a rounding error next to these.
    """
    layers = layer_parameters(config)
    forward = sum(2 * layer.weights for layer in layers)
    backward = sum(2 * layer.weights for layer in layers) + sum(2 * x.weights for x in layers[1:])
    return forward + backward


def flops_per_epoch(config: TrainingConfig, train_samples: int, test_samples: int = 0) -> int:
    """Work of one epoch: training on `train_samples` plus one forward pass over the test set."""
    forward_per_sample = sum(2 * layer.weights for layer in layer_parameters(config))
    return train_flops_per_sample(config) * train_samples + forward_per_sample * test_samples


def steps_per_epoch(config: TrainingConfig, train_samples: int) -> int:
    """Gradient steps in one epoch (the last batch may be smaller)."""
    return math.ceil(train_samples / config.batch_size)


def time_features(
    config: TrainingConfig, train_samples: int, test_samples: int, epochs: int | None = None
) -> tuple[float, float, float, float]:
    """What a training's time depends on: (1, FLOPs, gradient steps, steps × parameters)."""
    epochs = config.epochs if epochs is None else epochs
    steps = steps_per_epoch(config, train_samples) * epochs
    flops = flops_per_epoch(config, train_samples, test_samples) * epochs
    return (1.0, float(flops), float(steps), float(steps) * total_parameters(config))


@dataclass(frozen=True)
class SpeedCalibration:
    """How fast this computer trains: seconds = fixed + a·FLOPs + b·steps + c·steps·parameters.

    The FLOP term is the arithmetic; the two step terms are what small batches cost beyond it
    (a TensorFlow call per step, and the optimizer's passes over every weight), which is why a
    batch of 1 takes hours where its arithmetic alone would take minutes.
    """

    coefficients: tuple[float, float, float, float] = DEFAULT_COEFFICIENTS
    measured_runs: int = 0  # 0 means the defaults are a guess, not a measurement

    def seconds(self, features: Sequence[float]) -> float:
        return float(np.dot(self.coefficients, features))

    @classmethod
    def from_runs(cls, runs: Iterable[tuple[Sequence[float], float]]) -> SpeedCalibration:
        """Learn from finished runs given as (time_features, seconds) pairs.

        With RUNS_TO_FIT runs or more, all four coefficients are fitted (least squares on
        relative errors, none negative); with fewer, the defaults are scaled by the median
        ratio of measured to predicted time, which a single run already gives.
        """
        pairs = [(np.asarray(f, dtype=float), float(t)) for f, t in runs if t and t > 0]
        if not pairs:
            return cls()
        defaults = np.asarray(DEFAULT_COEFFICIENTS)
        ratios = [seconds / float(defaults @ features) for features, seconds in pairs]
        scaled = defaults * statistics.median(ratios)
        if len(pairs) >= RUNS_TO_FIT:
            fitted = _non_negative_fit(pairs)
            if fitted is not None:
                return cls(tuple(fitted), measured_runs=len(pairs))
        return cls(tuple(scaled), measured_runs=len(pairs))


def _non_negative_fit(pairs) -> np.ndarray | None:
    """Least squares of relative errors with no negative coefficient: fit, drop the features
    whose coefficient came out negative, fit again. None if too little varies to fit."""
    features = np.stack([f / t for f, t in pairs])  # each row divided by its own time
    target = np.ones(len(pairs))
    active = list(range(features.shape[1]))
    while active:
        solution, *_ = np.linalg.lstsq(features[:, active], target, rcond=None)
        if np.all(solution >= 0):
            coefficients = np.zeros(features.shape[1])
            coefficients[active] = solution
            return coefficients if coefficients[1] > 0 else None
        active = [index for index, value in zip(active, solution, strict=True) if value >= 0]
    return None


def estimate_training_seconds(
    config: TrainingConfig,
    train_samples: int,
    test_samples: int,
    calibration: SpeedCalibration | None = None,
) -> float:
    """Expected wall time of training `config` (an estimate to show before pressing Train)."""
    calibration = calibration or SpeedCalibration()
    return calibration.seconds(time_features(config, train_samples, test_samples))


MAX_STEPS_PER_CALL = 256


def steps_per_call(config: TrainingConfig, train_samples: int) -> int:
    """Gradient steps run per call into TensorFlow by `explorer.training.loop.train`.

    Each call has a fixed cost of a few milliseconds, as large as a whole tutorial step, so
    grouping steps saves time; but progress and the Stop button are only seen between calls.
    About 0.25 s of work per call at a conservative 100 GFLOP/s (about 0.1 s on the machine of
    bench/README.md) keeps both responsive.
    """
    seconds_per_step = train_flops_per_sample(config) * config.batch_size / 100e9
    grouped = int(0.25 / max(seconds_per_step, 1e-9))
    return max(1, min(grouped, MAX_STEPS_PER_CALL, steps_per_epoch(config, train_samples)))
