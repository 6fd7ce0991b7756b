"""Test doubles for the classroom: a fake trainer whose scores on each test half are chosen.

    trainer = ScoringTrainer(lambda config: (0.9, 0.7))   # public, private accuracy per config
    service = TrainingService(RunStore(home), lambda: tiny_data(test=200), trainer=trainer)

Its runs get right exactly `round(share * len(half))` digits of each half (the first ones, in
index order), so a board's scores and ranks can be checked against hand-computed values.
"""

from __future__ import annotations

import dataclasses
import math
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


def store_runs(store, data, count: int, seed: int = 0, owner: str | None = None) -> list[str]:
    """Store `count` complete runs of different small configurations on `data`, as if trained.

    Each run's accuracy on both halves is `class_accuracy(config)`, so a test knows which runs
    are best; the configurations are drawn with `seed`. Returns the run ids, in storing order.
    """
    rng = np.random.default_rng(seed)
    configs: dict[TrainingConfig, None] = {}
    while len(configs) < count:
        config = TrainingConfig(
            hidden1=int(rng.choice((8, 12, 16, 24, 32, 48, 64, 96, 128))),
            hidden2=int(rng.choice((0, 8, 16, 32))),
            batch_size=int(rng.choice((32, 64, 128, 256))),
            epochs=int(rng.integers(1, 6)),
            optimizer=str(rng.choice(("sgd", "adam", "rmsprop"))),
            activation=str(rng.choice(("relu", "tanh", "sigmoid"))),
            seed=int(rng.integers(0, 4)),
        )
        configs.setdefault(config.replace(learning_rate=float(rng.choice((1e-3, 1e-2, 0.1)))))
    run_ids = []
    trainer = ScoringTrainer(lambda config: (class_accuracy(config),) * 2, steps=1)
    for config in configs:
        key = config.cache_key(data.fingerprint)
        run_id, _ = store.claim(config, key, data.source, owner=owner)
        result = trainer(config, data)
        store.finish(run_id, dataclasses.replace(result, train_seconds=0.5 + config.epochs))
        run_ids.append(run_id)
    return run_ids


def class_accuracy(config: TrainingConfig) -> float:
    """The made-up accuracy of `store_runs`' runs: more neurons in layer 1, more accuracy
    (by far the largest effect), a little more with adam, and a seed's luck of at most 1 %
    that does not grow with the seed's number. Rounded to whole digits of a half of 500."""
    luck = (config.seed * 7919 + config.hidden1 * 31 + config.batch_size) % 11 / 1000
    adam = 0.02 if config.optimizer == "adam" else 0.0
    return round((0.5 + 0.06 * math.log2(config.hidden1) + adam + luck) * 500) / 500
