"""explorer.training.steps: the Keras model against the arithmetic of explorer.model and NumPy."""

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.model import layer_parameters, total_parameters
from explorer.training.steps import CompiledSteps, build_model, build_optimizer

CONFIGS = [
    TrainingConfig(),
    TrainingConfig(hidden2=0),
    TrainingConfig(hidden1=1, hidden2=1),
    TrainingConfig(hidden1=1024, hidden2=512),
    TrainingConfig(hidden1=37, hidden2=11, activation="tanh"),
    TrainingConfig(hidden1=128, hidden2=0, optimizer="adam", activation="sigmoid"),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.label())
def test_counts_equal_keras_count_params(config):
    model = build_model(config)
    assert model.count_params() == total_parameters(config)
    dense = [layer for layer in model.layers if layer.weights]
    assert [layer.count_params() for layer in dense] == [
        layer.parameters for layer in layer_parameters(config)
    ]


def test_numpy_forward_pass_matches_keras():
    config = TrainingConfig(hidden1=16, hidden2=8, activation="tanh")
    model = build_model(config)
    pixels = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    kernel1, bias1, kernel2, bias2, kernel3, bias3 = model.get_weights()
    hidden = np.tanh(np.tanh(pixels @ kernel1 + bias1) @ kernel2 + bias2)
    logits = hidden @ kernel3 + bias3
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(pixels, verbose=0), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("optimizer", "rate"), [("sgd", 0.05), ("adam", 0.002), ("rmsprop", 0.2)])
def test_the_chosen_optimizer_and_rate(optimizer, rate):
    chosen = build_optimizer(TrainingConfig(optimizer=optimizer, learning_rate=rate))
    assert type(chosen).__name__.lower() == optimizer
    assert float(chosen.learning_rate.numpy()) == pytest.approx(rate)


@pytest.mark.parametrize(("precision", "tolerance"), [("float32", 1e-5), ("bfloat16", 2e-2)])
def test_compiled_scoring_matches_a_numpy_forward_pass(precision, tolerance, sample_data):
    config = TrainingConfig(hidden1=16, hidden2=8, activation="tanh", precision=precision)
    model = build_model(config)
    optimizer = build_optimizer(config)
    steps = CompiledSteps(model, optimizer, sample_data.x_train, sample_data.y_train, 32, precision)
    pixels, labels = sample_data.x_test[:50], sample_data.y_test[:50]
    loss, probabilities = steps.score(pixels, labels, batch_size=20)  # 20 + 20 + 10

    kernel1, bias1, kernel2, bias2, kernel3, bias3 = model.get_weights()
    flat = pixels.reshape(50, -1).astype(np.float32) / 255
    logits = np.tanh(np.tanh(flat @ kernel1 + bias1) @ kernel2 + bias2) @ kernel3 + bias3
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=tolerance, atol=tolerance)
    expected_loss = -np.mean(np.log(expected[np.arange(50), labels]))
    assert loss == pytest.approx(expected_loss, rel=tolerance)
