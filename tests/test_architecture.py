"""Parameter counts and work estimates (no TensorFlow), checked against Keras itself."""

import subprocess
import sys

import numpy as np
import pytest

from explorer.architecture import (
    SpeedCalibration,
    estimate_training_seconds,
    flops_per_epoch,
    layer_parameters,
    layer_widths,
    steps_per_epoch,
    time_features,
    total_parameters,
    train_flops_per_sample,
)
from explorer.config import TrainingConfig


def test_tutorial_network_has_322230_parameters():
    layers = layer_parameters(TrainingConfig())
    assert [layer.parameters for layer in layers] == [314_000, 8_020, 210]
    assert total_parameters(TrainingConfig()) == 322_230
    assert layer_widths(TrainingConfig()) == [784, 400, 20, 10]


def test_no_second_hidden_layer_when_hidden2_is_zero():
    layers = layer_parameters(TrainingConfig(hidden1=64, hidden2=0))
    assert [(layer.inputs, layer.units) for layer in layers] == [(784, 64), (64, 10)]
    assert total_parameters(TrainingConfig(hidden1=64, hidden2=0)) == 784 * 64 + 64 + 64 * 10 + 10


CONFIGS = [
    TrainingConfig(),
    TrainingConfig(hidden1=1, hidden2=0),
    TrainingConfig(hidden1=1, hidden2=1),
    TrainingConfig(hidden1=1024, hidden2=512),
    TrainingConfig(hidden1=37, hidden2=11, activation="tanh"),
    TrainingConfig(hidden1=128, hidden2=0, optimizer="adam", activation="sigmoid"),
]


def test_flops_hand_computed():
    config = TrainingConfig(hidden1=10, hidden2=0)  # weights: 7840 and 100
    assert train_flops_per_sample(config) == 2 * 7940 + 2 * 7940 + 2 * 100
    assert flops_per_epoch(config, 3, 2) == 3 * (6 * 7940 - 2 * 7840) + 2 * 2 * 7940


def test_steps_per_epoch_rounds_up():
    assert steps_per_epoch(TrainingConfig(batch_size=200), 60000) == 300
    assert steps_per_epoch(TrainingConfig(batch_size=256), 60000) == 235


def test_estimate_grows_with_work_and_learns_from_one_run():
    small = estimate_training_seconds(TrainingConfig(hidden1=32, hidden2=0), 60000, 10000)
    large = estimate_training_seconds(TrainingConfig(hidden1=1024, hidden2=512), 60000, 10000)
    assert large > 10 * small
    config = TrainingConfig()
    # A machine that took 4 s for the tutorial's run predicts 4 s for it again.
    calibration = SpeedCalibration.from_runs([(time_features(config, 60000, 10000), 4.0)])
    assert calibration.measured_runs == 1
    assert estimate_training_seconds(config, 60000, 10000, calibration) == pytest.approx(4.0)


# A made-up computer whose training times follow the time model with these coefficients, with
# up to ±10 % noise: fixed, per FLOP, per step, per step and parameter.
TRUE_COEFFICIENTS = (0.8, 1 / 90e9, 9e-4, 2.6e-9)
BENCHMARK_CONFIGS = [  # bench/training.py's configs
    TrainingConfig(),
    TrainingConfig(hidden1=1024, hidden2=512, batch_size=32),
    TrainingConfig(hidden1=32, hidden2=0, epochs=1),
]
SEEN = [  # what a class trained before
    TrainingConfig(hidden1=h, hidden2=h2, batch_size=b, epochs=e)
    for h, h2, b, e in [
        (64, 0, 200, 3),
        (400, 20, 32, 2),
        (128, 64, 1024, 10),
        (16, 0, 8, 1),
        (256, 0, 100, 5),
        (512, 256, 64, 2),
        (32, 16, 2048, 20),
        (1024, 0, 16, 1),
    ]
]


def true_seconds(config: TrainingConfig) -> float:
    return float(np.dot(TRUE_COEFFICIENTS, time_features(config, 60000, 10000)))


@pytest.mark.parametrize("config", BENCHMARK_CONFIGS, ids=lambda config: config.label())
def test_learnt_estimates_fall_within_30_percent_of_the_real_time(config):
    noise = np.random.default_rng(0).uniform(0.9, 1.1, len(SEEN))
    runs = [
        (time_features(seen, 60000, 10000), true_seconds(seen) * factor)
        for seen, factor in zip(SEEN, noise, strict=True)
    ]
    calibration = SpeedCalibration.from_runs(runs)
    estimate = estimate_training_seconds(config, 60000, 10000, calibration)
    assert estimate == pytest.approx(true_seconds(config), rel=0.3)


def test_the_largest_settings_are_estimated_in_hours_not_minutes():
    """1024-512, batch 1, 50 epochs took about 3.2 h; the page used to say 27 min."""
    largest = TrainingConfig(hidden1=1024, hidden2=512, batch_size=1, epochs=50)
    assert estimate_training_seconds(largest, 60000, 10000) > 2 * 3600


def test_architecture_module_does_not_import_tensorflow():
    code = (
        "import sys; from explorer.architecture import total_parameters; "
        "from explorer.config import TrainingConfig; total_parameters(TrainingConfig()); "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "False"


def test_steps_per_call_groups_small_steps_and_never_exceeds_an_epoch():
    from explorer.architecture import MAX_STEPS_PER_CALL, steps_per_call

    tutorial = steps_per_call(TrainingConfig(), 60000)
    assert 30 <= tutorial <= 150  # several tutorial steps per call, but progress every ~0.1 s
    assert steps_per_call(TrainingConfig(batch_size=60000), 60000) == 1
    assert steps_per_call(TrainingConfig(batch_size=1), 60000) == MAX_STEPS_PER_CALL
    assert steps_per_call(TrainingConfig(hidden1=8, hidden2=0), 100) == 1  # one-step epoch
    big = TrainingConfig(hidden1=1024, hidden2=512, batch_size=10000)
    assert steps_per_call(big, 60000) == 1  # a single step already takes long
