"""The difference math of the comparison view: 2 to 4 stored runs side by side against a baseline.

Every function is pure (NumPy/pandas in, NumPy/pandas out) and raises ValueError for bad input.
Runs are identified by their unique display name; the dicts below are keyed by it::

    config_diff({"A": config_a, "B": config_b})                  # which settings differ
    metric_deltas({"A": summary_a, "B": summary_b}, baseline="A")  # headline figures and changes
    per_class_accuracy_frame({"A": matrix_a, "B": matrix_b}, baseline="A")
    confusion_difference(matrix_b, matrix_a)                      # B − A, cell by cell
    select_digits(true_labels, {"A": pred_a, "B": pred_b}, "disagree", count=20)
    examples_for_cell(true_labels, pred_b, confidence_b, true_digit=4, predicted_digit=9)
    disagreement_rate({"A": pred_a, "B": pred_b})
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from explorer.config import TrainingConfig
from explorer.metrics import per_class_accuracy


class Metric(NamedTuple):
    """A headline figure: summary key, label, higher_is_better (None: neutral), format (FORMATS)."""

    key: str
    label: str
    higher_is_better: bool | None
    format: str


METRICS = (
    Metric("test_accuracy", "Test accuracy", True, "percent"),
    Metric("thresholded_accuracy", "Tutorial's metric", True, "percent"),
    Metric("test_loss", "Test loss", False, "decimal"),
    Metric("train_seconds", "Training time", False, "seconds"),
    Metric("parameters", "Parameters", None, "integer"),
)
DIGIT_MODES = ("first", "disagree", "all_wrong")
NUMBER_TYPES = (int, float, np.integer, np.floating)  # bool is an int too: excluded where used
# (value, change) text per Metric.format; a change of a percentage is in percentage points.
FORMATS = {
    "percent": ("{:.2%}", "{:+.2f} pp"),
    "decimal": ("{:.4f}", "{:+.4f}"),
    "seconds": ("{:.1f} s", "{:+.1f} s"),
    "integer": ("{:,.0f}", "{:+,.0f}"),
}


def format_value(kind: str, value: float | None) -> str:
    """A metric value as text, e.g. format_value("percent", 0.9712) -> "97.12%"; "—" if missing."""
    return "—" if value is None or not math.isfinite(value) else FORMATS[kind][0].format(value)


def format_delta(kind: str, delta: float | None) -> str:
    """A change as signed text, e.g. format_delta("percent", 0.0045) -> "+0.45 pp" ("−" minus)."""
    if delta is None or not math.isfinite(delta):
        return "—"
    return FORMATS[kind][1].format(delta * 100 if kind == "percent" else delta).replace("-", "−")


def _config_value_text(name: str, value: object) -> str:
    """How one config value reads in the comparison table."""
    if name == "learning_rate":
        return f"{value:g}"
    if name == "train_fraction":
        # ":g" drops float noise such as 7.000000000000001 and keeps 1.5 for 1.5 %.
        return f"{value * 100:g}%"
    if name == "hidden2" and value == 0:
        return "0 (no 2nd layer)"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def config_diff(configs: Mapping[str, TrainingConfig]) -> pd.DataFrame:
    """One row per TrainingConfig field (in field order), one text column per run, plus "differs".

    `differs` is True where not every run has the same value, e.g. to highlight those rows.
    """
    if not isinstance(configs, Mapping) or len(configs) < 1:
        raise ValueError("config_diff needs a dict of at least one run name -> TrainingConfig.")
    if "differs" in configs:
        raise ValueError("A run cannot be called 'differs': that name is the flag column.")
    wrong = [
        repr(name) for name, config in configs.items() if not isinstance(config, TrainingConfig)
    ]
    if wrong:
        raise ValueError(f"The config of run {', '.join(wrong)} is not a TrainingConfig.")
    names = [field.name for field in dataclasses.fields(TrainingConfig)]
    texts = {
        run: [_config_value_text(name, getattr(config, name)) for name in names]
        for run, config in configs.items()
    }
    frame = pd.DataFrame(texts, index=pd.Index(names, name="setting"))
    # Compare the raw values, not the texts, so 0.0100 vs 0.01 never counts as a difference.
    frame["differs"] = [
        len({getattr(config, name) for config in configs.values()}) > 1 for name in names
    ]
    return frame


def _number_or_nan(value: object) -> float:
    is_number = isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)
    return float(value) if is_number else math.nan


def _check_baseline(runs: Mapping, baseline: str, what: str) -> None:
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError(f"{what} must be a dict of run name -> value with at least one run.")
    if baseline not in runs:
        raise ValueError(f"The baseline {baseline!r} is not one of the runs: {', '.join(runs)}.")


def metric_deltas(summaries: Mapping[str, Mapping], baseline: str) -> pd.DataFrame:
    """Headline figures of every run and their change against `baseline`, one row per metric.

    `summaries` maps run name -> dict holding the METRICS keys (missing or None values give NaN).
    Columns: run, metric (key), label, value, delta (value − baseline's value, NaN if either is
    missing), better (True/False: the change is an improvement; None for the baseline itself,
    neutral metrics such as parameters, no change, or a missing value).
    """
    _check_baseline(summaries, baseline, "summaries")
    base = {m.key: _number_or_nan(summaries[baseline].get(m.key)) for m in METRICS}
    rows = []
    for run, summary in summaries.items():
        if not isinstance(summary, Mapping):
            raise ValueError(f"The summary of run {run!r} must be a dict.")
        for metric in METRICS:
            value = _number_or_nan(summary.get(metric.key))
            delta = value - base[metric.key]
            better = None
            if run != baseline and metric.higher_is_better is not None and delta == delta:
                # A zero change is neither better nor worse: None keeps it uncoloured.
                better = None if delta == 0 else (delta > 0) == metric.higher_is_better
            rows.append((run, metric.key, metric.label, value, delta, better))
    # The baseline's rows always hold None, so "better" stays an object column of True/False/None.
    return pd.DataFrame(rows, columns=["run", "metric", "label", "value", "delta", "better"])


def check_confusion(matrix: object, description: str, signed: bool = False) -> np.ndarray:
    """`matrix` as a square int64 array of whole counts (negative ones only if `signed`).

    Raises ValueError naming `description` otherwise; `signed=True` checks count differences.
    """
    array = np.asarray(matrix)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"{description} must be a square k x k matrix, got shape {array.shape}.")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{description} must hold counts, got dtype {array.dtype}.")
    whole = np.all(np.isfinite(array)) and np.all(array == np.round(array))
    if not whole or (not signed and np.any(array < 0)):
        kind = "whole numbers" if signed else "non-negative whole counts"
        raise ValueError(f"{description} must hold {kind}.")
    return array.astype(np.int64)


def per_class_accuracy_frame(matrices: Mapping[str, np.ndarray], baseline: str) -> pd.DataFrame:
    """Accuracy per true digit of every run and its change against `baseline`.

    Columns: run, digit (0..k-1), accuracy (NaN for a digit without examples), delta (accuracy −
    the baseline's accuracy for that digit), count (examples of that digit) and baseline (True on
    the baseline's rows, so a chart of changes can leave them out).
    """
    _check_baseline(matrices, baseline, "matrices")
    counts = {
        run: check_confusion(matrix, f"The matrix of run {run!r}")
        for run, matrix in matrices.items()
    }
    shapes = {array.shape for array in counts.values()}
    if len(shapes) > 1:
        raise ValueError(f"The confusion matrices have different shapes: {sorted(shapes)}.")
    runs = list(counts)
    accuracy = np.stack([per_class_accuracy(counts[run]) for run in runs])
    size = accuracy.shape[1]
    return pd.DataFrame(
        {
            "run": np.repeat(runs, size),
            "digit": np.tile(np.arange(size), len(runs)),
            "accuracy": accuracy.ravel(),
            "delta": (accuracy - accuracy[runs.index(baseline)]).ravel(),
            "count": np.concatenate([counts[run].sum(axis=1) for run in runs]),
            "baseline": np.repeat([run == baseline for run in runs], size),
        }
    )


def confusion_difference(matrix: np.ndarray, baseline_matrix: np.ndarray) -> np.ndarray:
    """`matrix` − `baseline_matrix` as int64: + on the diagonal = more right, + off it = more wrong.

    Both runs must have been tested on the same digits: every row (true digit) has the same total,
    so each row of the result sums to zero. Raises ValueError otherwise.
    """
    counts = check_confusion(matrix, "The matrix")
    base = check_confusion(baseline_matrix, "The baseline matrix")
    if counts.shape != base.shape:
        raise ValueError(f"The matrices have different shapes: {counts.shape} vs {base.shape}.")
    rows = np.flatnonzero(counts.sum(axis=1) != base.sum(axis=1))
    if rows.size:
        digit = int(rows[0])
        raise ValueError(
            f"The runs were tested on different test sets (digit {digit}: "
            f"{counts[digit].sum():,} vs {base[digit].sum():,} examples), so their confusion "
            "matrices cannot be compared."
        )
    return counts - base


def _labels(labels: object, description: str, length: int | None = None) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{description} must be a 1-D array of whole class numbers.")
    if length is not None and len(array) != length:
        raise ValueError(f"{description} has {len(array):,} entries but the test set {length:,}.")
    return array


def _prediction_stack(predictions: Mapping[str, np.ndarray], length: int | None) -> np.ndarray:
    """The runs' predictions as a (runs, n) array; ValueError for no runs or unequal lengths."""
    if not isinstance(predictions, Mapping) or not predictions:
        raise ValueError("predictions must be a dict of run name -> predicted labels (1+ runs).")
    if length is None:
        length = len(np.asarray(next(iter(predictions.values()))))
    description = "The predictions of run {!r}".format
    return np.stack(
        [_labels(value, description(run), length) for run, value in predictions.items()]
    )


def _disagree(stack: np.ndarray) -> np.ndarray:
    return np.any(stack != stack[0], axis=0)


def _whole_number(value: object, description: str, minimum: int) -> int:
    """`value` as an int; whole floats such as 4.0 (e.g. from a chart selection) are accepted."""
    number = _number_or_nan(value)
    if not math.isfinite(number) or number != int(number) or number < minimum:
        raise ValueError(f"{description} must be a whole number >= {minimum}, got {value!r}.")
    return int(number)


def select_digits(
    true_labels: np.ndarray, predictions: Mapping[str, np.ndarray], mode: str, count: int = 20
) -> np.ndarray:
    """Indices (int64, ascending) of up to `count` test digits to show under every run.

    mode "first": the first `count` digits (as in the tutorial); "disagree": the first `count`
    on which the runs do not all predict the same label; "all_wrong": the first `count` that every
    run gets wrong (the hard digits). See DIGIT_MODES.
    """
    if mode not in DIGIT_MODES:
        raise ValueError(f"mode must be one of {', '.join(DIGIT_MODES)}; got {mode!r}.")
    count = _whole_number(count, "count", 1)
    truth = _labels(true_labels, "true_labels")
    stack = _prediction_stack(predictions, len(truth))
    if mode == "first":
        return np.arange(min(count, len(truth)), dtype=np.int64)
    chosen = _disagree(stack) if mode == "disagree" else np.all(stack != truth, axis=0)
    return np.flatnonzero(chosen)[:count].astype(np.int64)


def examples_for_cell(
    true_labels: np.ndarray,
    predicted_labels: np.ndarray,
    confidence: np.ndarray,
    true_digit: int,
    predicted_digit: int | None = None,
    limit: int = 30,
) -> np.ndarray:
    """Indices of test digits with true label `true_digit` (and predicted `predicted_digit`).

    Most confident first (ties keep test-set order), at most `limit`. Use it for a clicked
    confusion cell: (true 4, predicted 9) gives the 4s this run most firmly took for 9s.
    """
    truth = _labels(true_labels, "true_labels")
    predicted = _labels(predicted_labels, "predicted_labels", len(truth))
    scores = np.asarray(confidence, dtype=np.float64)
    if scores.shape != truth.shape:
        raise ValueError(f"confidence has shape {scores.shape} for {len(truth):,} labels.")
    chosen = truth == _whole_number(true_digit, "true_digit", 0)
    if predicted_digit is not None:
        chosen &= predicted == _whole_number(predicted_digit, "predicted_digit", 0)
    indices = np.flatnonzero(chosen)
    order = np.argsort(-scores[indices], kind="stable")
    return indices[order][: _whole_number(limit, "limit", 1)].astype(np.int64)


def disagreement_rate(predictions: Mapping[str, np.ndarray]) -> float:
    """Share (0..1) of test digits on which the runs do not all predict the same label."""
    stack = _prediction_stack(predictions, None)
    return float(_disagree(stack).mean()) if stack.shape[1] else 0.0
