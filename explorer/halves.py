"""The public and private halves of a test set, and a run's accuracy on each.

    halves = test_halves(data.y_test)                  # the same indices on every computer
    halves.public, halves.private                      # sorted index arrays, disjoint, all digits
    scores = halves.score(predicted_labels, data.y_test)
    scores.public_accuracy, scores.private_accuracy

A class challenge ranks runs on the **public half** and keeps the **private half** for the end, as
class competitions on Kaggle do: choosing settings by a score fits that score's digits, and the
private half shows how much.

**The rule**, applied to each data set on its own (the bundled sample and full MNIST are never
mixed): the public half takes `len(labels) // 20` digits of every class (500 of each of full
MNIST's 10,000 test digits; 50 of each of the sample's 1,000), the first ones in an order fixed by
SHA-256 of `HALVES_SALT` and each digit's index, so no random generator (whose stream may change
between NumPy versions) is involved. The private half is every other digit. Both halves have the
same size, so their mean is the test accuracy. MNIST's test set does not have the same number of
every digit (892 fives, 1,135 ones), so its private half has 392 to 635 of each.

For full MNIST the public indices are also shipped as `public_half_mnist.npy` (checked against the
rule by the tests, and against its hash): a 10,000-digit test set on which that file picks 500 of
every class uses it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NUM_CLASSES = 10
HALVES_SALT = "mnist-explorer public half v1"
MNIST_PUBLIC_FILE = Path(__file__).parent / "public_half_mnist.npy"


@dataclass(frozen=True)
class HalfScores:
    """A run's accuracy on each half of the test set (shares, 0 to 1)."""

    public_accuracy: float
    private_accuracy: float


@dataclass(frozen=True, eq=False)
class TestHalves:
    """Index arrays of the two halves of one test set (sorted, read-only)."""

    public: np.ndarray
    private: np.ndarray

    def score(self, predicted_labels: np.ndarray, labels: np.ndarray) -> HalfScores:
        """The share of each half's digits whose predicted label is the true one."""
        predicted = np.asarray(predicted_labels)
        labels = np.asarray(labels)
        if predicted.shape != labels.shape:
            raise ValueError(
                f"Got {len(predicted)} predictions for a test set of {len(labels)} digits."
            )
        right = predicted == labels
        return HalfScores(
            public_accuracy=float(right[self.public].mean()) if len(self.public) else 0.0,
            private_accuracy=float(right[self.private].mean()) if len(self.private) else 0.0,
        )

    def digest(self) -> str:
        """SHA-256 of the public indices as little-endian int32 (the tests pin it)."""
        return indices_digest(self.public)


def indices_digest(indices: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(indices, dtype="<i4").tobytes()).hexdigest()


def _order_key(index: int) -> bytes:
    return hashlib.sha256(f"{HALVES_SALT}|{index}".encode()).digest()


def public_indices_by_rule(labels: np.ndarray) -> np.ndarray:
    """The public half of a test set with these labels, by the rule of the module docstring."""
    labels = np.asarray(labels)
    per_class = len(labels) // (2 * NUM_CLASSES)
    chosen: list[int] = []
    for digit in range(NUM_CLASSES):
        members = np.flatnonzero(labels == digit).tolist()
        members.sort(key=_order_key)
        chosen.extend(members[:per_class])
    return np.array(sorted(chosen), dtype=np.int64)


@functools.cache
def _shipped_mnist_public() -> np.ndarray | None:
    try:
        return np.load(MNIST_PUBLIC_FILE, allow_pickle=False).astype(np.int64)
    except OSError:
        return None


def test_halves(labels: np.ndarray) -> TestHalves:
    """The two halves of the test set whose true labels are `labels` (see the module docstring).

    Cached by the labels' bytes: every run on the same data gets the same arrays at no cost.
    """
    labels = np.ascontiguousarray(labels, dtype=np.uint8)
    return _halves_of(labels.tobytes())


test_halves.__test__ = False  # a function named test_* that pytest must not collect


@functools.lru_cache(maxsize=8)
def _halves_of(label_bytes: bytes) -> TestHalves:
    labels = np.frombuffer(label_bytes, dtype=np.uint8)
    public = None
    shipped = _shipped_mnist_public()
    if shipped is not None and len(labels) == 10_000:
        counts = np.bincount(labels[shipped], minlength=NUM_CLASSES)
        if len(shipped) == 5_000 and (counts == 500).all():
            public = shipped
    if public is None:
        public = public_indices_by_rule(labels)
    private = np.setdiff1d(np.arange(len(labels)), public)
    for array in (public, private):
        array.setflags(write=False)
    return TestHalves(public=public, private=private)
