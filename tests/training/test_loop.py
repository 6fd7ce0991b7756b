"""Real training with TensorFlow on small slices of the bundled sample: seconds, not minutes."""

import threading

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.training.loop import train

pytestmark = pytest.mark.slow

QUICK = TrainingConfig(
    hidden1=32,
    hidden2=16,
    batch_size=32,
    epochs=2,
    optimizer="adam",
    learning_rate=0.003,
    train_fraction=0.2,
    seed=3,
)


class Recorder:
    """A ProgressListener that remembers what it was told."""

    def __init__(self, stop_after_batches=None, stop=None):
        self.starts, self.batches, self.epochs = [], [], []
        self.stop_after_batches, self.stop = stop_after_batches, stop

    def on_start(self, epochs, steps_per_epoch, train_samples):
        self.starts.append((epochs, steps_per_epoch, train_samples))

    def on_batch(self, epoch, step, logs):
        self.batches.append((epoch, step, logs))
        if self.stop_after_batches and len(self.batches) >= self.stop_after_batches:
            self.stop.set()

    def on_epoch(self, epoch, record):
        self.epochs.append((epoch, record))


@pytest.fixture(scope="module")
def quick_run(sample_data):
    recorder = Recorder()
    return train(QUICK, sample_data, progress=recorder), recorder


def test_quick_run_learns_far_beyond_chance(quick_run, sample_data):
    result, _ = quick_run
    assert result.test_accuracy > 0.6  # chance is 0.1
    assert result.epochs_completed == 2 and not result.stopped
    assert result.train_samples == 1200  # 20% of 6,000, stratified
    assert result.test_samples == 1000


def test_result_is_consistent_with_itself(quick_run, sample_data):
    result, _ = quick_run
    matrix = result.confusion_matrix
    np.testing.assert_array_equal(matrix.sum(axis=1), sample_data.class_counts_test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(result.test_accuracy)
    assert result.test_accuracy == pytest.approx(
        np.mean(result.predicted_labels == sample_data.y_test)
    )
    assert result.thresholded_accuracy <= result.test_accuracy
    assert result.history[-1]["test_accuracy"] == pytest.approx(result.test_accuracy, abs=1e-6)
    assert result.predicted_labels.dtype == np.uint8
    np.testing.assert_allclose(
        result.probabilities.astype(np.float32).max(axis=1), result.confidence, atol=1e-3
    )
    assert [w.shape for w in result.weights] == [(784, 32), (32,), (32, 16), (16,), (16, 10), (10,)]
    assert result.samples_per_second > 0


def test_the_result_holds_its_keras_model(quick_run, sample_data, tmp_path):
    import keras

    result, _ = quick_run
    path = tmp_path / "model.keras"
    path.write_bytes(result.keras_model)
    model = keras.saving.load_model(path, safe_mode=True)
    pixels = sample_data.x_test.reshape(len(sample_data.x_test), -1).astype(np.float32) / 255
    probabilities = model.predict(pixels, verbose=0)
    np.testing.assert_array_equal(probabilities.argmax(axis=1), result.predicted_labels)
    np.testing.assert_allclose(probabilities, result.probabilities.astype(np.float32), atol=1e-3)


def test_progress_reaches_the_listener(quick_run):
    _, recorder = quick_run
    assert recorder.starts == [(2, 38, 1200)]  # ceil(1200 / 32) = 38 steps per epoch
    # Reported once per group of steps (model.steps_per_call); the last report of each
    # epoch is its last step.
    steps = [(epoch, step) for epoch, step, _ in recorder.batches]
    assert (1, 38) in steps and steps[-1] == (2, 38)
    assert steps == sorted(steps)
    assert [epoch for epoch, _ in recorder.epochs] == [1, 2]
    assert set(recorder.epochs[0][1]) >= {"loss", "accuracy", "test_loss", "test_accuracy"}


def test_same_config_and_seed_give_identical_results(quick_run, sample_data):
    first, _ = quick_run
    second = train(QUICK, sample_data)
    assert second.history == [
        {**record, "seconds": second.history[i]["seconds"]}
        for i, record in enumerate(first.history)
    ]
    np.testing.assert_array_equal(first.predicted_labels, second.predicted_labels)
    for a, b in zip(first.weights, second.weights, strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_another_network(quick_run, sample_data):
    first, _ = quick_run
    other = train(QUICK.replace(seed=4), sample_data)
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_stop_flag_ends_training_and_keeps_finished_epochs(sample_data):
    stop = threading.Event()
    config = QUICK.replace(epochs=5)
    recorder = Recorder()
    recorder.on_epoch = lambda epoch, record: stop.set()  # press Stop during epoch 1's end
    result = train(config, sample_data, progress=recorder, stop=stop)
    assert result.stopped
    assert result.epochs_completed == 1
    assert [record["epoch"] for record in result.history] == [1]
    assert all(epoch == 1 for epoch, _, _ in recorder.batches)
    assert result.confusion_matrix.sum() == 1000  # scored on the test set all the same


def test_stop_in_the_middle_of_an_epoch_drops_the_partial_epoch(sample_data):
    stop = threading.Event()
    config = QUICK.replace(batch_size=1, epochs=2)  # 1,200 steps per epoch, many reports
    recorder = Recorder(stop_after_batches=2, stop=stop)
    result = train(config, sample_data, progress=recorder, stop=stop)
    assert result.stopped and result.epochs_completed == 0 and result.history == []
    assert len(recorder.batches) == 2
    assert recorder.batches[-1][1] < 1200


def test_bfloat16_learns_as_well_as_float32(sample_data):
    exact = train(QUICK.replace(precision="float32"), sample_data)
    fast = train(QUICK.replace(precision="bfloat16"), sample_data)
    assert not np.array_equal(exact.weights[0], fast.weights[0])  # really other arithmetic
    assert abs(exact.test_accuracy - fast.test_accuracy) < 0.03


def test_a_warmed_up_trainer_gives_the_bits_of_a_cold_one(sample_data):
    """`warm_up` traces and runs the tutorial's graphs once on throwaway weights; the next
    training of those shapes reuses them and ends with exactly the weights of a cold one."""
    from explorer.training.loop import warm_up
    from explorer.training.steps import WARM

    config = TrainingConfig(epochs=1, seed=4)
    WARM.clear()
    cold = train(config, sample_data)
    WARM.clear()
    warm_up(sample_data)
    assert len(WARM._graphs) == 1  # the tutorial's shapes, kept
    warm = train(config, sample_data)
    for after_warm_up, after_cold_start in zip(warm.weights, cold.weights, strict=True):
        np.testing.assert_array_equal(after_warm_up, after_cold_start)
    assert warm.test_accuracy == cold.test_accuracy
