"""Test doubles for the classroom: a fake trainer whose scores on each test half are chosen.

    trainer = ScoringTrainer(lambda config: (0.9, 0.7))   # public, private accuracy per config
    service = TrainingService(RunStore(home), lambda: tiny_data(test=200), trainer=trainer)

Its runs get right exactly `round(share * len(half))` digits of each half (the first ones, in
index order), so a board's scores and ranks can be checked against hand-computed values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from explorer.config import TrainingConfig
from explorer.halves import test_halves
from explorer.metrics import confusion_matrix
from testkit.fakes import FakeTrainer


def predictions_scoring(labels: np.ndarray, public: float, private: float) -> np.ndarray:
    """Predicted labels that score `public` on the public half and `private` on the private."""
    labels = np.asarray(labels)
    halves = test_halves(labels)
    predicted = ((labels.astype(int) + 1) % 10).astype(np.uint8)  # all wrong to start with
    for indices, share in ((halves.public, public), (halves.private, private)):
        right = indices[: round(share * len(indices))]
        predicted[right] = labels[right]
    return predicted


class ScoringTrainer(FakeTrainer):
    """A FakeTrainer whose run for a config scores `accuracy(config)` = (public, private)."""

    def __init__(self, accuracy: Callable[[TrainingConfig], tuple[float, float]], steps=1):
        super().__init__(steps=steps)
        self.accuracy = accuracy

    def __call__(self, config, data, *, progress=None, stop=None):
        result = super().__call__(config, data, progress=progress, stop=stop)
        public, private = self.accuracy(config)
        predicted = predictions_scoring(data.y_test, public, private)
        probabilities = np.full((len(predicted), 10), 0.02, dtype=np.float16)
        probabilities[np.arange(len(predicted)), predicted] = 0.82
        return dataclasses.replace(
            result,
            predicted_labels=predicted,
            probabilities=probabilities,
            test_accuracy=float(np.mean(predicted == data.y_test)),
            confusion_matrix=confusion_matrix(data.y_test, predicted),
        )
