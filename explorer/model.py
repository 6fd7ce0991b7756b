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
from collections.abc import Iterable
from dataclasses import dataclass

from explorer.config import TrainingConfig

INPUT_SIZE = 784  # 28 x 28 pixels, flattened as the tutorial does
NUM_CLASSES = 10

# Without any finished run to learn from, the time estimate assumes this fp32 rate and per-step
# cost: a two-core laptop CPU running Keras. Measured runs replace both as soon as they exist.
DEFAULT_FLOPS_PER_SECOND = 40e9
DEFAULT_SECONDS_PER_STEP = 0.0003
# Fixed cost of any run: building the model, tracing its graph, scoring the test set at the end.
SETUP_SECONDS = 1.0


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


@dataclass(frozen=True)
class SpeedCalibration:
    """How fast this machine trains: a FLOP rate plus a fixed cost per gradient step."""

    flops_per_second: float = DEFAULT_FLOPS_PER_SECOND
    seconds_per_step: float = DEFAULT_SECONDS_PER_STEP
    measured_runs: int = 0  # 0 means the defaults above are a guess, not a measurement

    @classmethod
    def from_runs(cls, runs: Iterable[tuple[float, float, float]]) -> SpeedCalibration:
        """Learn the FLOP rate from finished runs given as (flops, steps, seconds) triples.

        The per-step cost stays at its default; what is left of each run's time after it is
        spent on arithmetic, and the median rate over runs resists one odd run.
        """
        rates = []
        for flops, steps, seconds in runs:
            overhead = SETUP_SECONDS + steps * DEFAULT_SECONDS_PER_STEP
            compute_seconds = max(seconds - overhead, 0.2 * seconds)
            if flops > 0 and compute_seconds > 0:
                rates.append(flops / compute_seconds)
        if not rates:
            return cls()
        return cls(flops_per_second=statistics.median(rates), measured_runs=len(rates))


def estimate_training_seconds(
    config: TrainingConfig,
    train_samples: int,
    test_samples: int,
    calibration: SpeedCalibration | None = None,
) -> float:
    """Expected wall time of training `config` (an estimate to show before pressing Train)."""
    calibration = calibration or SpeedCalibration()
    per_epoch = (
        flops_per_epoch(config, train_samples, test_samples) / calibration.flops_per_second
        + steps_per_epoch(config, train_samples) * calibration.seconds_per_step
    )
    return SETUP_SECONDS + per_epoch * config.epochs


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
