"""Scores computed from predicted probabilities with NumPy only (no TensorFlow, no scikit-learn).

probabilities = model.predict(x_test)             # (n, 10) softmax rows
argmax_accuracy(probabilities, y_test)            # what "accuracy" means: top class is right
thresholded_accuracy(probabilities, y_test)       # the tutorial's printed 0.9089 (see below)
confusion_matrix(y_test, probabilities.argmax(1)) # rows = true digit, columns = predicted
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 10

THRESHOLDED_EXPLANATION = (
    "The tutorial printed this figure as its 'test accuracy' (softmax > 0.5: the ten "
    "probabilities the network gives, each cut at 0.5). It turns every probability above 0.5 "
    "into a 1 and counts a digit as right only if that whole row of ten 0/1 values equals the "
    "one-hot label. A digit the network gets right with only 45% confidence has no value above "
    "0.5, so it counts as wrong here. Real accuracy takes the most likely class (argmax), so this "
    "figure is always a little lower."
)


def _labels(labels: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be a 1-D array of whole class numbers.")
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(f"{name} must hold class numbers from 0 to {NUM_CLASSES - 1}.")
    return labels


def _probabilities(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or probabilities.shape != (len(labels), NUM_CLASSES):
        raise ValueError(
            f"probabilities must have one row of {NUM_CLASSES} per label: "
            f"got shape {probabilities.shape} for {len(labels)} labels."
        )
    return probabilities


def argmax_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Share of examples whose most probable class is the true one."""
    labels = _labels(labels, "labels")
    probabilities = _probabilities(probabilities, labels)
    if not len(labels):
        return 0.0
    return float(np.mean(probabilities.argmax(axis=1) == labels))


def thresholded_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The tutorial's metric: rows of `probabilities > 0.5` that equal the one-hot labels exactly.

    This is what `accuracy_score(np.where(p > 0.5, 1, 0), Y_test_one_hot)` computes (scikit-learn's
    subset accuracy on a multilabel indicator matrix). See THRESHOLDED_EXPLANATION.
    """
    labels = _labels(labels, "labels")
    probabilities = _probabilities(probabilities, labels)
    if not len(labels):
        return 0.0
    predicted = probabilities > 0.5
    one_hot = np.eye(NUM_CLASSES, dtype=bool)[labels]
    return float(np.mean(np.all(predicted == one_hot, axis=1)))


def confusion_matrix(true_labels: np.ndarray, predicted_labels: np.ndarray) -> np.ndarray:
    """10x10 int64 counts: row = true digit, column = predicted digit. Rows sum to class counts."""
    true_labels = _labels(true_labels, "true labels")
    predicted_labels = _labels(predicted_labels, "predicted labels")
    if len(true_labels) != len(predicted_labels):
        raise ValueError(
            f"Got {len(true_labels)} true labels but {len(predicted_labels)} predictions."
        )
    flat = true_labels.astype(np.int64) * NUM_CLASSES + predicted_labels.astype(np.int64)
    counts = np.bincount(flat, minlength=NUM_CLASSES * NUM_CLASSES)
    return counts.reshape(NUM_CLASSES, NUM_CLASSES)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Share of each true digit predicted correctly (NaN for a digit with no examples)."""
    matrix = np.asarray(matrix, dtype=np.float64)
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / totals, np.nan)


def most_confident_mistakes(
    predicted_labels: np.ndarray, confidence: np.ndarray, true_labels: np.ndarray, count: int = 20
) -> np.ndarray:
    """Indices of wrong predictions, most confident first (the network's worst blunders)."""
    predicted_labels = np.asarray(predicted_labels)
    wrong = np.flatnonzero(predicted_labels != np.asarray(true_labels))
    order = np.argsort(-np.asarray(confidence)[wrong], kind="stable")
    return wrong[order][:count]
