"""Metrics against hand-computed values."""

import numpy as np
import pytest

from explorer import metrics


def one_hot_probabilities(rows):
    return np.array(rows, dtype=np.float32)


def test_argmax_vs_thresholded_accuracy_by_hand():
    labels = np.array([0, 1, 2, 3])
    probabilities = np.zeros((4, 10), dtype=np.float32)
    probabilities[0, 0] = 0.9  # right and confident: counts in both
    probabilities[0, 5] = 0.1
    probabilities[1, 1] = 0.45  # right by argmax, but nothing above 0.5: thresholded says wrong
    probabilities[1, 2] = 0.35
    probabilities[1, 3] = 0.20
    probabilities[2, 7] = 0.6  # wrong in both
    probabilities[2, 2] = 0.4
    probabilities[3, 3] = 0.51  # right in both
    probabilities[3, 4] = 0.49
    assert metrics.argmax_accuracy(probabilities, labels) == 0.75
    assert metrics.thresholded_accuracy(probabilities, labels) == 0.5


def test_thresholded_matches_the_tutorials_sklearn_formula():
    # accuracy_score(y_pred, Y_test) on indicator matrices is subset accuracy: whole rows equal.
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(500, 10)) * 3
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 10, size=500)
    y_pred = np.where(probabilities > 0.5, 1, 0)
    one_hot = np.eye(10)[labels]
    expected = np.mean([np.array_equal(a, b) for a, b in zip(y_pred, one_hot, strict=True)])
    assert metrics.thresholded_accuracy(probabilities, labels) == pytest.approx(expected)
    assert metrics.thresholded_accuracy(probabilities, labels) <= metrics.argmax_accuracy(
        probabilities, labels
    )


def test_confusion_matrix_by_hand():
    true = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    matrix = metrics.confusion_matrix(true, predicted)
    assert matrix.shape == (10, 10)
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1
    assert matrix[2, 2] == 2 and matrix[2, 0] == 1
    assert matrix.sum() == 6
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(true, minlength=10))


def test_per_class_accuracy():
    matrix = np.zeros((10, 10), dtype=int)
    matrix[0, 0], matrix[0, 1], matrix[1, 1] = 3, 1, 2
    result = metrics.per_class_accuracy(matrix)
    assert result[0] == 0.75 and result[1] == 1.0
    assert np.isnan(result[2])


def test_most_confident_mistakes_order():
    predicted = np.array([1, 2, 3, 4, 5])
    true = np.array([1, 0, 0, 4, 0])
    confidence = np.array([0.99, 0.6, 0.9, 0.8, 0.7])
    assert metrics.most_confident_mistakes(predicted, confidence, true).tolist() == [2, 4, 1]
    assert metrics.most_confident_mistakes(predicted, confidence, true, count=1).tolist() == [2]


@pytest.mark.parametrize(
    ("labels", "message"),
    [(np.array([0, 10]), "from 0 to 9"), (np.array([[0]]), "1-D"), (np.array([0.5]), "whole")],
)
def test_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        metrics.confusion_matrix(labels, labels)


def test_shape_mismatch():
    with pytest.raises(ValueError, match="one row of 10 per label"):
        metrics.argmax_accuracy(np.zeros((3, 10)), np.array([0, 1]))
