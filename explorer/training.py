"""Training one configuration: fit with progress callbacks and a stop flag, then score the test set.

    stop = threading.Event()
    result = train(TrainingConfig(epochs=2), load_mnist(), progress=listener, stop=stop)

`progress` is any object with the `ProgressListener` methods (no Streamlit here: the jobs service
turns them into state that pages poll). Setting `stop` ends training after the current batch; the
result then holds the epochs that finished and `stopped=True`. TensorFlow is imported inside
`train`, never at module import, so importing this module is cheap.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from explorer import metrics
from explorer.config import TrainingConfig, default_precision
from explorer.data import MnistData, stratified_subset

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


def training_threads() -> int:
    """TensorFlow threads for training: EXPLORER_TRAINING_THREADS, else 1 where bfloat16 is
    native, else 0 (TensorFlow's choice: every core).

    With bfloat16 on AMX, one thread is faster than two for this network (bench/training.py:
    0.32 s per epoch against 0.45 s; its steps are too small to split with profit), and it
    leaves the other core to the pages. In float32, two cores still win (0.51 against 0.59 s).
    """
    chosen = os.environ.get("EXPLORER_TRAINING_THREADS", "").strip()
    if chosen.isdigit():
        return int(chosen)
    return 1 if default_precision() == "bfloat16" else 0


def configure_tensorflow(seed: int) -> None:
    """Seed every generator and make kernels deterministic: same config and seed, same result."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's start-up chatter
    import keras
    import tensorflow as tf

    try:
        threads = training_threads()
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process: its pools are fixed
        pass
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train(
    config: TrainingConfig,
    data: MnistData,
    *,
    progress: ProgressListener | None = None,
    stop: threading.Event | None = None,
    callbacks: list | None = None,
) -> TrainingResult:
    """Train `config` on `data` and score it on the test set. Blocks until done or stopped.

    `callbacks` are extra `keras.callbacks.Callback`s, called as `model.fit` would call them
    (train begin/end, epoch begin/end, and batch end once per group of steps); setting
    `model.stop_training` stops the run like the Stop button.
    """
    configure_tensorflow(config.seed)
    import keras
    import tensorflow as tf

    from explorer.model import build_model, steps_per_call
    from explorer.train_step import CompiledSteps

    x_train, y_train = data.x_train, data.y_train
    if config.train_fraction < 1.0:
        chosen = stratified_subset(y_train, config.train_fraction, config.seed)
        x_train, y_train = x_train[chosen], y_train[chosen]
    samples = len(x_train)
    model = build_model(config)
    steps = -(-samples // config.batch_size)
    group = steps_per_call(config, samples)
    compiled = CompiledSteps(model, x_train, y_train, config.batch_size, config.precision)
    bridge = _make_bridge_callback(config, steps, samples, progress, stop)
    hooks = keras.callbacks.CallbackList([bridge, *(callbacks or [])], model=model)
    shuffler = np.random.default_rng(config.seed)  # a new order every epoch, the same every run
    scored = None  # (epoch, loss, probabilities) of the latest test scoring

    started = time.perf_counter()
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(config.epochs):
        hooks.on_epoch_begin(epoch)
        order = tf.constant(shuffler.permutation(samples).astype(np.int32))
        loss_sum, correct, done = 0.0, 0, 0
        for first in range(0, steps, group):
            count = min(group, steps - first)
            batch_loss, batch_correct = compiled.run(order, tf.constant(first), tf.constant(count))
            loss_sum, correct = loss_sum + float(batch_loss), correct + int(batch_correct)
            done = min(samples, (first + count) * config.batch_size)
            logs = {"loss": loss_sum / done, "accuracy": correct / done}
            hooks.on_train_batch_end(first + count - 1, logs)
            if model.stop_training:
                break
        if done == samples:  # a whole epoch: score the test set for the learning curve
            test_loss, probabilities = compiled.score(
                data.x_test, data.y_test, EVALUATION_BATCH_SIZE
            )
            scored = (epoch, test_loss, probabilities)
            accuracy = metrics.argmax_accuracy(probabilities, data.y_test)
            logs.update(val_loss=test_loss, val_accuracy=accuracy)
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end()
    train_seconds = time.perf_counter() - started

    if scored is None or scored[0] != epoch or done != samples:  # weights moved since
        scored = (epoch, *compiled.score(data.x_test, data.y_test, EVALUATION_BATCH_SIZE))
    _, test_loss, probabilities = scored
    return _score(config, model, probabilities, test_loss, data.y_test, bridge, train_seconds)


def _score(config, model, probabilities, test_loss, y_test, bridge, train_seconds):
    predicted = probabilities.argmax(axis=1)
    train_samples = bridge.train_samples
    history = bridge.history
    return TrainingResult(
        config=config,
        history=history,
        test_accuracy=metrics.argmax_accuracy(probabilities, y_test),
        thresholded_accuracy=metrics.thresholded_accuracy(probabilities, y_test),
        test_loss=float(test_loss),
        confusion_matrix=metrics.confusion_matrix(y_test, predicted),
        predicted_labels=predicted.astype(np.uint8),
        confidence=probabilities.max(axis=1).astype(np.float32),
        probabilities=probabilities.astype(np.float16),
        weights=[np.asarray(w) for w in model.get_weights()],
        train_seconds=train_seconds,
        samples_per_second=train_samples * len(history) / train_seconds if train_seconds else 0.0,
        epochs_completed=len(history),
        stopped=bridge.stopped and len(history) < config.epochs,
        train_samples=train_samples,
        test_samples=len(y_test),
    )


def _epoch_record(epoch: int, logs: dict[str, Any], seconds: float) -> dict[str, float]:
    return {
        "epoch": epoch,
        "loss": float(logs.get("loss", np.nan)),
        "accuracy": float(logs.get("accuracy", np.nan)),
        "test_loss": float(logs.get("val_loss", np.nan)),
        "test_accuracy": float(logs.get("val_accuracy", np.nan)),
        "seconds": seconds,
    }


def _make_bridge_callback(config, steps_per_epoch, train_samples, progress, stop):
    """A Keras callback that forwards progress to `progress` and obeys `stop`.

    Built inside a function because subclassing keras.callbacks.Callback needs Keras imported.
    Only epochs that ran every batch enter the history: after a stop, Keras still closes the
    interrupted epoch, and its half-epoch figures would mislead a learning curve.
    """
    import keras

    class ProgressBridge(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.history: list[dict[str, float]] = []
            self.train_samples = train_samples
            self.stopped = False
            self._steps_done = 0
            self._epoch_started = 0.0

        def on_train_begin(self, logs=None):
            if progress is not None:
                progress.on_start(config.epochs, steps_per_epoch, train_samples)

        def on_epoch_begin(self, epoch, logs=None):
            self._steps_done = 0
            self._epoch_started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self._steps_done = batch + 1
            if progress is not None:
                progress.on_batch(len(self.history) + 1, batch + 1, dict(logs or {}))
            if stop is not None and stop.is_set():
                self.stopped = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self._steps_done < steps_per_epoch:
                return
            seconds = time.perf_counter() - self._epoch_started
            record = _epoch_record(epoch + 1, dict(logs or {}), seconds)
            self.history.append(record)
            if progress is not None:
                progress.on_epoch(epoch + 1, record)
            if stop is not None and stop.is_set():
                self.stopped = True
                self.model.stop_training = True

    return ProgressBridge()
