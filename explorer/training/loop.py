"""Training one configuration: the epochs, progress reports, a stop flag, then the test scores.

    stop = threading.Event()
    result = train(TrainingConfig(epochs=2), load_mnist(), progress=listener, stop=stop)

`progress` is any object with the `ProgressListener` methods (no Streamlit here: the service
turns them into state that pages poll). Setting `stop` ends training after the current group of
steps; the result then holds the epochs that finished and `stopped=True`. TensorFlow is imported
inside `train`, never at module import, so importing this module is cheap.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from explorer import metrics
from explorer.architecture import steps_per_call, steps_per_epoch
from explorer.config import TrainingConfig
from explorer.data.sources import MnistData, stratified_subset
from explorer.training.runtime import configure_tensorflow
from explorer.training.saving import keras_model_bytes

# Large batches for scoring the test set: evaluation has no gradient, so bigger is just faster.
EVALUATION_BATCH_SIZE = 2000


class ProgressListener(Protocol):
    """What `train` reports as it goes. All methods are called from the training thread."""

    def on_start(self, epochs: int, steps_per_epoch: int, train_samples: int) -> None: ...

    def on_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None: ...

    def on_epoch(self, epoch: int, record: dict[str, float]) -> None: ...


@dataclass
class TrainingResult:
    """Everything a run produces; arrays are NumPy so the store needs no TensorFlow to keep them."""

    config: TrainingConfig
    history: list[dict[str, float]]  # one record per finished epoch (see `_epoch_record`)
    test_accuracy: float  # argmax accuracy on the whole test set
    thresholded_accuracy: float  # the tutorial's printed metric, see metrics.thresholded_accuracy
    test_loss: float
    confusion_matrix: np.ndarray  # (10, 10) int64, rows = true digit
    predicted_labels: np.ndarray  # (n_test,) uint8
    confidence: np.ndarray  # (n_test,) float32: probability of the predicted class
    probabilities: np.ndarray  # (n_test, 10) float16, for comparisons between runs
    weights: list[np.ndarray]  # kernel, bias of each Dense layer in order
    train_seconds: float
    samples_per_second: float
    epochs_completed: int
    stopped: bool
    train_samples: int
    test_samples: int
    # The trained network as a `.keras` file (explorer.training.saving); None from test doubles.
    keras_model: bytes | None = None

    def summary(self) -> dict[str, Any]:
        """The scalar figures, as stored in the run registry."""
        return {
            "test_accuracy": self.test_accuracy,
            "thresholded_accuracy": self.thresholded_accuracy,
            "test_loss": self.test_loss,
            "train_seconds": self.train_seconds,
            "samples_per_second": self.samples_per_second,
            "epochs_completed": self.epochs_completed,
            "stopped": self.stopped,
            "train_samples": self.train_samples,
            "test_samples": self.test_samples,
        }


def warm_up(data: MnistData, config: TrainingConfig | None = None) -> None:
    """Build, trace and run once the graphs of `config` (the tutorial's by default) on `data`,
    and keep them: a trainer does this while idle, so that its first training of these shapes
    is as quick as the next. The throwaway weights never leave this function."""
    config = config or TrainingConfig()
    configure_tensorflow(config.seed)
    import tensorflow as tf

    from explorer.training.steps import WARM, build_model, build_optimizer

    model = build_model(config)
    compiled = WARM.get(
        model,
        build_optimizer(config),
        data.x_train,
        data.y_train,
        config.batch_size,
        config.precision,
        data.fingerprint,
    )
    compiled.train(tf.constant(np.arange(len(data.y_train), dtype=np.int32)), 0, 1)
    compiled.score(
        data.x_test[:EVALUATION_BATCH_SIZE],
        data.y_test[:EVALUATION_BATCH_SIZE],
        EVALUATION_BATCH_SIZE,
    )
    compiled.finish()
    keras_model_bytes(model)  # the saving code's first call loads modules of its own
    WARM.put(compiled)


def train(
    config: TrainingConfig,
    data: MnistData,
    *,
    progress: ProgressListener | None = None,
    stop: threading.Event | None = None,
) -> TrainingResult:
    """Train `config` on `data` and score it on the test set. Blocks until done or stopped.

    Only epochs that ran every batch enter the history: the figures of a half epoch cut short
    by Stop would mislead a learning curve.
    """
    configure_tensorflow(config.seed)
    import tensorflow as tf

    from explorer.training.steps import WARM, build_model, build_optimizer

    x_train, y_train = data.x_train, data.y_train
    if config.train_fraction < 1.0:
        chosen = stratified_subset(y_train, config.train_fraction, config.seed)
        x_train, y_train = x_train[chosen], y_train[chosen]
    samples = len(x_train)
    steps = steps_per_epoch(config, samples)
    group = steps_per_call(config, samples)
    model = build_model(config)
    optimizer = build_optimizer(config)
    # The whole training set's pixels and these shapes' graphs stay warm for the next training;
    # a subset changes with the seed, so it is not kept.
    data_key = data.fingerprint if config.train_fraction == 1.0 else None
    compiled = WARM.get(
        model, optimizer, x_train, y_train, config.batch_size, config.precision, data_key
    )
    shuffler = np.random.default_rng(config.seed)  # a new order every epoch, the same every run
    history: list[dict[str, float]] = []
    scored = None  # (test loss, probabilities) for the weights as they are now, if known
    stopped = False

    if progress is not None:
        progress.on_start(config.epochs, steps, samples)
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        epoch_started = time.perf_counter()
        order = tf.constant(shuffler.permutation(samples).astype(np.int32))
        loss_sum, correct, done = 0.0, 0, 0
        for first in range(0, steps, group):
            count = min(group, steps - first)
            batch_loss, batch_correct = compiled.train(order, first, count)
            loss_sum, correct = loss_sum + float(batch_loss), correct + int(batch_correct)
            done = min(samples, (first + count) * config.batch_size)
            scored = None
            if progress is not None:
                logs = {"loss": loss_sum / done, "accuracy": correct / done}
                progress.on_batch(epoch, first + count, logs)
            if stop is not None and stop.is_set() and first + count < steps:
                stopped = True
                break
        if stopped:
            break
        scored = compiled.score(data.x_test, data.y_test, EVALUATION_BATCH_SIZE)
        record = {
            "epoch": epoch,
            "loss": loss_sum / samples,
            "accuracy": correct / samples,
            "test_loss": float(scored[0]),
            "test_accuracy": metrics.argmax_accuracy(scored[1], data.y_test),
            "seconds": time.perf_counter() - epoch_started,
        }
        history.append(record)
        if progress is not None:
            progress.on_epoch(epoch, record)
        if stop is not None and stop.is_set() and epoch < config.epochs:
            stopped = True
            break
    train_seconds = time.perf_counter() - started

    if scored is None:  # stopped inside an epoch: score the weights as they are
        scored = compiled.score(data.x_test, data.y_test, EVALUATION_BATCH_SIZE)
    test_loss, probabilities = scored
    compiled.finish()
    WARM.put(compiled)
    predicted = probabilities.argmax(axis=1)
    return TrainingResult(
        config=config,
        history=history,
        test_accuracy=metrics.argmax_accuracy(probabilities, data.y_test),
        thresholded_accuracy=metrics.thresholded_accuracy(probabilities, data.y_test),
        test_loss=float(test_loss),
        confusion_matrix=metrics.confusion_matrix(data.y_test, predicted),
        predicted_labels=predicted.astype(np.uint8),
        confidence=probabilities.max(axis=1).astype(np.float32),
        probabilities=probabilities.astype(np.float16),
        weights=[np.asarray(weight) for weight in model.get_weights()],
        train_seconds=train_seconds,
        samples_per_second=samples * len(history) / train_seconds if train_seconds else 0.0,
        epochs_completed=len(history),
        stopped=stopped,
        train_samples=samples,
        test_samples=len(data.y_test),
        keras_model=keras_model_bytes(model),
    )
