"""explorer.views.comparison: the comparison view's difference math, against hand-made values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.views import comparison as compare


def test_config_diff_marks_exactly_the_differing_fields() -> None:
    configs = {
        "A": TrainingConfig(),
        "B": TrainingConfig(hidden2=200),
        "C": TrainingConfig(hidden2=200, learning_rate=0.05, train_fraction=0.1),
    }
    frame = compare.config_diff(configs, {"Data": {"A": "sample", "B": "full", "C": "full"}})
    assert list(frame.index) == [
        "Neurons in hidden layer 1",
        "Neurons in hidden layer 2",
        "Batch size",
        "Epochs",
        "Optimizer",
        "Learning rate",
        "Activation",
        "Seed",
        "Share of the training set",
        "Arithmetic",
        "Data",
    ]
    assert list(frame.columns) == ["A", "B", "C", "differs"]
    assert frame.index[frame["differs"]].tolist() == [
        "Neurons in hidden layer 2",
        "Learning rate",
        "Share of the training set",
        "Data",
    ]
    assert frame.loc["Neurons in hidden layer 2"].tolist()[:3] == ["20", "200", "200"]
    assert frame.loc["Learning rate", "A"] == "0.01" and frame.loc["Learning rate", "C"] == "0.05"
    assert frame.loc["Share of the training set", "A"] == "100%"
    assert frame.loc["Share of the training set", "C"] == "10%"


def test_config_diff_of_one_run_differs_nowhere() -> None:
    frame = compare.config_diff({"only": TrainingConfig(hidden2=0, batch_size=60000)})
    assert not frame["differs"].any()
    assert frame.loc["Batch size", "only"] == "60,000"
    assert frame.loc["Neurons in hidden layer 2", "only"].startswith("0")


SUMMARIES = {
    "A": {
        "test_accuracy": 0.90,
        "thresholded_accuracy": 0.88,
        "test_loss": 0.40,
        "train_seconds": 10.0,
        "parameters": 1000,
    },
    "B": {
        "test_accuracy": 0.95,
        "thresholded_accuracy": 0.88,
        "test_loss": 0.25,
        "train_seconds": 12.5,
        "parameters": 5000,
    },
    "C": {"test_accuracy": 0.85, "test_loss": None, "train_seconds": 8.0, "parameters": 1000},
}


def test_metrics_cover_the_headline_figures() -> None:
    assert [metric.key for metric in compare.METRICS] == [
        "test_accuracy",
        "thresholded_accuracy",
        "test_loss",
        "train_seconds",
        "parameters",
    ]
    directions = {metric.key: metric.higher_is_better for metric in compare.METRICS}
    assert directions == {
        "test_accuracy": True,
        "thresholded_accuracy": True,
        "test_loss": False,
        "train_seconds": False,
        "parameters": None,
    }


def test_metric_deltas_by_hand() -> None:
    frame = compare.metric_deltas(SUMMARIES, baseline="A")
    assert list(frame.columns) == ["run", "metric", "label", "value", "delta", "better"]
    assert len(frame) == 3 * len(compare.METRICS)
    rows = frame.set_index(["run", "metric"])
    # B: higher accuracy and lower loss are better; slower training is worse.
    assert rows.loc[("B", "test_accuracy"), "delta"] == pytest.approx(0.05)
    assert rows.loc[("B", "test_accuracy"), "better"] is True
    assert rows.loc[("B", "test_loss"), "delta"] == pytest.approx(-0.15)
    assert rows.loc[("B", "test_loss"), "better"] is True
    assert rows.loc[("B", "train_seconds"), "delta"] == pytest.approx(2.5)
    assert rows.loc[("B", "train_seconds"), "better"] is False
    # No change and neutral figures get no verdict.
    assert rows.loc[("B", "thresholded_accuracy"), "delta"] == 0
    assert rows.loc[("B", "thresholded_accuracy"), "better"] is None
    assert rows.loc[("B", "parameters"), "delta"] == 4000
    assert rows.loc[("B", "parameters"), "better"] is None
    # C: lower accuracy is worse, faster is better, missing values give NaN and no verdict.
    assert rows.loc[("C", "test_accuracy"), "better"] is False
    assert rows.loc[("C", "train_seconds"), "better"] is True
    assert math.isnan(rows.loc[("C", "test_loss"), "value"])
    assert math.isnan(rows.loc[("C", "test_loss"), "delta"])
    assert rows.loc[("C", "test_loss"), "better"] is None
    assert math.isnan(rows.loc[("C", "thresholded_accuracy"), "delta"])
    # The baseline compares with itself: zero change, no verdict.
    baseline = frame[frame["run"] == "A"]
    assert baseline["delta"].tolist() == [0.0] * len(compare.METRICS)
    assert baseline["better"].tolist() == [None] * len(compare.METRICS)


def small_matrix(rows: list[list[int]]) -> np.ndarray:
    return np.array(rows, dtype=np.int64)


def test_per_class_accuracy_frame_by_hand() -> None:
    baseline = small_matrix([[8, 2, 0], [1, 9, 0], [0, 0, 0]])
    other = small_matrix([[10, 0, 0], [3, 7, 0], [0, 0, 0]])
    frame = compare.per_class_accuracy_frame({"A": baseline, "B": other}, baseline="A")
    assert list(frame.columns) == ["run", "digit", "accuracy", "delta", "count", "baseline"]
    assert frame["run"].tolist() == ["A"] * 3 + ["B"] * 3
    assert frame["digit"].tolist() == [0, 1, 2, 0, 1, 2]
    assert frame["count"].tolist() == [10, 10, 0, 10, 10, 0]
    assert frame["baseline"].tolist() == [True] * 3 + [False] * 3
    b_rows = frame[frame["run"] == "B"]
    assert b_rows["accuracy"].tolist()[:2] == pytest.approx([1.0, 0.7])
    assert b_rows["delta"].tolist()[:2] == pytest.approx([0.2, -0.2])
    # A digit with no examples has no accuracy and so no change.
    assert math.isnan(b_rows["accuracy"].iloc[2]) and math.isnan(b_rows["delta"].iloc[2])


def test_confusion_difference_rows_sum_to_zero() -> None:
    baseline = small_matrix([[8, 2, 0], [1, 9, 0], [0, 1, 4]])
    other = small_matrix([[10, 0, 0], [3, 7, 0], [0, 0, 5]])
    difference = compare.confusion_difference(other, baseline)
    assert difference.dtype == np.int64
    np.testing.assert_array_equal(difference, [[2, -2, 0], [2, -2, 0], [0, -1, 1]])
    np.testing.assert_array_equal(difference.sum(axis=1), [0, 0, 0])


def test_same_test_set_compares_the_digit_counts() -> None:
    full = small_matrix([[8, 2], [1, 9]])
    assert compare.same_test_set({"A": full, "B": small_matrix([[10, 0], [0, 10]])})
    assert not compare.same_test_set({"A": full, "B": small_matrix([[1, 0], [0, 1]])})


TRUE = np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8)
PREDICTIONS = {
    "A": np.array([0, 1, 7, 3, 9, 5], dtype=np.uint8),  # wrong on 2 and 4
    "B": np.array([0, 2, 7, 3, 4, 6], dtype=np.uint8),  # wrong on 1, 2 and 5
}


def test_select_digits_first() -> None:
    assert compare.select_digits(TRUE, PREDICTIONS, "first", count=4).tolist() == [0, 1, 2, 3]
    assert compare.select_digits(TRUE, PREDICTIONS, "first", count=50).tolist() == list(range(6))


def test_select_digits_disagree() -> None:
    # The runs differ on digits 1, 4 and 5 (both say 7 for digit 2: wrong, but in agreement).
    assert compare.select_digits(TRUE, PREDICTIONS, "disagree").tolist() == [1, 4, 5]
    assert compare.select_digits(TRUE, PREDICTIONS, "disagree", count=2).tolist() == [1, 4]


def test_select_digits_all_wrong() -> None:
    assert compare.select_digits(TRUE, PREDICTIONS, "all_wrong").tolist() == [2]
    three = {**PREDICTIONS, "C": np.array([0, 1, 2, 3, 4, 5], dtype=np.uint8)}
    assert compare.select_digits(TRUE, three, "all_wrong").tolist() == []


def test_examples_for_cell_most_confident_first() -> None:
    true = np.array([4, 4, 4, 1, 4, 4], dtype=np.uint8)
    predicted = np.array([9, 4, 9, 9, 9, 4], dtype=np.uint8)
    confidence = np.array([0.6, 0.99, 0.9, 0.95, 0.6, 0.5], dtype=np.float32)
    # The 4s read as 9: 0.9 first, then the two 0.6s in test-set order.
    assert compare.examples_for_cell(true, predicted, confidence, 4, 9).tolist() == [2, 0, 4]
    assert compare.examples_for_cell(true, predicted, confidence, 4, 9, limit=1).tolist() == [2]
    assert compare.examples_for_cell(true, predicted, confidence, 7, 1).tolist() == []


def test_changed_examples_are_the_digits_fixed_and_broken_against_the_baseline() -> None:
    true = np.array([5, 5, 5, 5, 3, 5], dtype=np.uint8)
    base = np.array([5, 3, 3, 5, 3, 6], dtype=np.uint8)  # wrong on positions 1, 2, 5
    run = np.array([5, 5, 3, 6, 8, 5], dtype=np.uint8)  # fixes 1 and 5, breaks 3
    fixed, broken = compare.changed_examples(true, run, base, digit=5)
    assert fixed.tolist() == [1, 5] and broken.tolist() == [3]
    # The bar's height is the difference of these counts, over the 5s.
    assert (len(fixed) - len(broken)) / 5 == pytest.approx(0.2)


def test_disagreement_rate() -> None:
    assert compare.disagreement_rate(PREDICTIONS) == pytest.approx(3 / 6)
    assert compare.disagreement_rate({"A": PREDICTIONS["A"]}) == 0.0
    assert compare.disagreement_rate({"A": np.array([], dtype=np.uint8)}) == 0.0


def test_a_drill_down_says_how_much_of_the_list_it_shows() -> None:
    true = np.full(50, 8)
    run = np.where(np.arange(50) < 39, 3, 8)  # 39 eights read wrong by the run
    base = np.full(50, 8)  # all right for the baseline
    fixed, broken = compare.changed_examples(true, run, base, digit=8, limit=None)
    assert (len(fixed), len(broken)) == (0, 39)
    shown = compare.changed_examples(true, run, base, digit=8)[1]
    assert compare.part_of(len(shown), len(broken)) == "30 of 39"
    assert compare.part_of(39, 39) == "39"
    assert compare.part_of(1_200, 1_500) == "1,200 of 1,500"
    confidence = np.linspace(0.1, 0.9, 50)
    every = compare.examples_for_cell(true, run, confidence, 8, 3, limit=None)
    assert len(every) == 39 and every[0] == 38  # the most confident first
