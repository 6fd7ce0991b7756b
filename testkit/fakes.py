"""Test doubles: tiny MNIST-shaped data and a trainer that needs no TensorFlow."""

from __future__ import annotations

import threading

import numpy as np

from explorer.architecture import layer_parameters
from explorer.data.sources import MnistData, fingerprint_arrays
from explorer.metrics import confusion_matrix
from explorer.training.loop import TrainingResult


def tiny_data(train: int = 100, test: int = 30, seed: int = 0) -> MnistData:
    """Random digits with balanced labels: shapes and types of MNIST, nothing to learn."""
    rng = np.random.default_rng(seed)
    arrays = (
        rng.integers(0, 256, size=(train, 28, 28), dtype=np.uint8),
        (np.arange(train) % 10).astype(np.uint8),
        rng.integers(0, 256, size=(test, 28, 28), dtype=np.uint8),
        (np.arange(test) % 10).astype(np.uint8),
    )
    return MnistData(
        *arrays, source="data-dir", location="test fixture", fingerprint=fingerprint_arrays(*arrays)
    )


class FakeTrainer:
    """Stands in for explorer.training.train: reports progress, obeys stop, counts its calls.

    Each epoch waits for `gate` (set by default), so a test can hold a job "running".
    """

    def __init__(self, steps: int = 3, fail_with: Exception | None = None) -> None:
        self.steps = steps
        self.fail_with = fail_with
        self.calls: list = []
        self.gate = threading.Event()
        self.gate.set()
        self.started = threading.Event()

    def __call__(self, config, data, *, progress=None, stop=None):
        self.calls.append(config)
        if progress is not None:
            progress.on_start(config.epochs, self.steps, len(data.y_train))
        self.started.set()
        history = []
        stopped = False
        for epoch in range(1, config.epochs + 1):
            for step in range(1, self.steps + 1):
                self.gate.wait(10)
                if self.fail_with is not None:
                    raise self.fail_with
                if progress is not None:
                    progress.on_batch(epoch, step, {"loss": 1.0 / epoch, "accuracy": 0.5})
                if stop is not None and stop.is_set():
                    stopped = True
                    break
            if stopped:
                break
            record = {
                "epoch": epoch,
                "loss": 1.0 / epoch,
                "accuracy": 0.5 + epoch / 100,
                "test_loss": 1.1 / epoch,
                "test_accuracy": 0.5 + epoch / 110,
                "seconds": 0.01,
            }
            history.append(record)
            if progress is not None:
                progress.on_epoch(epoch, record)
        return fake_result(config, data, history, stopped)


def fake_weights(config) -> list[np.ndarray]:
    """Small seeded weights of the right shapes for `config`: kernel and bias of each layer."""
    rng = np.random.default_rng(config.seed)
    weights = []
    for layer in layer_parameters(config):
        weights.append(rng.normal(0, 0.05, (layer.inputs, layer.units)).astype(np.float32))
        weights.append(np.zeros(layer.units, np.float32))
    return weights


def fake_result(config, data, history, stopped=False) -> TrainingResult:
    test = len(data.y_test)
    predicted = ((data.y_test.astype(int) + np.arange(test) % 3 // 2) % 10).astype(np.uint8)
    probabilities = np.full((test, 10), 0.02, dtype=np.float16)
    probabilities[np.arange(test), predicted] = 0.82
    return TrainingResult(
        config=config,
        history=history,
        test_accuracy=float(np.mean(predicted == data.y_test)),
        thresholded_accuracy=0.5,
        test_loss=0.7,
        confusion_matrix=confusion_matrix(data.y_test, predicted),
        predicted_labels=predicted,
        confidence=np.full(test, 0.82, dtype=np.float32),
        probabilities=probabilities,
        weights=fake_weights(config),
        train_seconds=0.05,
        samples_per_second=1000.0,
        epochs_completed=len(history),
        stopped=stopped,
        train_samples=len(data.y_train),
        test_samples=test,
    )
