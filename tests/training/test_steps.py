"""explorer.training.steps: the Keras model against explorer.architecture's arithmetic and NumPy."""

import numpy as np
import pytest

from explorer.architecture import layer_parameters, total_parameters
from explorer.config import TrainingConfig
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


def _train_a_few_steps(config, data, *, hand_written, steps=3, batch_size=32):
    """Weights after `steps` SGD steps of `config` on the sample, by the hand-written step or
    (hand_written=False) by the tape and Keras' own SGD."""
    import tensorflow as tf

    from explorer.training.runtime import configure_tensorflow

    configure_tensorflow(config.seed)
    model = build_model(config)
    initial = model.get_weights()
    optimizer = build_optimizer(config)
    compiled = CompiledSteps(
        model,
        optimizer,
        data.x_train,
        data.y_train,
        batch_size,
        config.precision,
        tape=not hand_written,
    )
    assert compiled.hand_written == hand_written
    order = tf.constant(np.arange(len(data.y_train), dtype=np.int32))
    loss_sum, correct = compiled.train(order, 0, steps)
    compiled.finish()
    return model.get_weights(), float(loss_sum), int(correct), initial


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
@pytest.mark.parametrize("hidden2", [20, 0])
@pytest.mark.parametrize(("precision", "tolerance"), [("float32", 1e-5), ("bfloat16", 1e-2)])
def test_the_hand_written_sgd_step_equals_the_tape_and_keras_sgd(
    activation, hidden2, precision, tolerance, sample_data
):
    config = TrainingConfig(
        hidden1=24, hidden2=hidden2, activation=activation, seed=5, precision=precision
    )
    ours = _train_a_few_steps(config, sample_data, hand_written=True)
    keras_step = _train_a_few_steps(config, sample_data, hand_written=False)
    assert ours[1] == pytest.approx(keras_step[1], rel=tolerance)
    for mine, theirs in zip(ours[0], keras_step[0], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=10 * tolerance, atol=tolerance / 10)
    np.testing.assert_array_equal(ours[3][0], keras_step[3][0])  # the same start
    assert not np.allclose(ours[0][0], ours[3][0])  # and the weights moved from it


def test_only_plain_sgd_takes_the_hand_written_step(sample_data):
    def compiled(config):
        model = build_model(config)
        return CompiledSteps(
            model, build_optimizer(config), sample_data.x_train, sample_data.y_train, 32
        )

    assert compiled(TrainingConfig(hidden1=8)).hand_written
    assert not compiled(TrainingConfig(hidden1=8, optimizer="adam")).hand_written
    assert not compiled(TrainingConfig(hidden1=8, optimizer="rmsprop")).hand_written


def test_warm_graphs_give_the_bits_of_new_ones(sample_data):
    """A training that reuses the graphs of an earlier one (same shapes) ends with exactly the
    weights of a training with new graphs, and the earlier training's weights do not leak in."""
    from explorer.training.loop import train
    from explorer.training.steps import WARM

    first = TrainingConfig(hidden1=16, hidden2=0, epochs=1, batch_size=500, seed=1)
    second = TrainingConfig(hidden1=16, hidden2=0, epochs=1, batch_size=500, seed=2)
    WARM.clear()
    train(first, sample_data)
    warm_key = next(iter(WARM._graphs))
    warm = train(second, sample_data)
    assert warm_key in WARM._graphs  # taken for the second training, then put back
    WARM.clear()
    new = train(second, sample_data)
    for reused, fresh in zip(warm.weights, new.weights, strict=True):
        np.testing.assert_array_equal(reused, fresh)
    assert warm.test_accuracy == new.test_accuracy
