"""The difference math of the comparison view: 2 to 4 stored runs side by side against a baseline.

Every function is pure (NumPy/pandas in, NumPy/pandas out) and trusts its caller, the page.
Runs are identified by their unique display name; the dicts below are keyed by it::

    config_diff({"A": config_a, "B": config_b}, {"Data": {"A": "sample", "B": "full MNIST"}})
    metric_deltas({"A": summary_a, "B": summary_b}, baseline="A")  # headline figures and changes
    per_class_accuracy_frame({"A": matrix_a, "B": matrix_b}, baseline="A")
    confusion_difference(matrix_b, matrix_a)                      # B − A, cell by cell
    select_digits(true_labels, {"A": pred_a, "B": pred_b}, "disagree", count=20)
    examples_for_cell(true_labels, pred_b, confidence_b, true_digit=4, predicted_digit=9)
    changed_examples(true_labels, pred_b, pred_a, digit=5)       # fixed and broken 5s of B vs A
    disagreement_rate({"A": pred_a, "B": pred_b})
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from explorer.config import FIELD_LABELS, TrainingConfig
from explorer.metrics import per_class_accuracy
from explorer.views import metrics_table

# The headline figures of Compare, in order (their labels and formats: views.metrics_table).
METRICS = tuple(
    metrics_table.METRICS[key]
    for key in ("test_accuracy", "thresholded_accuracy", "test_loss", "train_seconds", "parameters")
)
DIGIT_MODES = ("first", "disagree", "all_wrong")
NUMBER_TYPES = (int, float, np.integer, np.floating)  # bool is an int too: excluded where used


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


def config_diff(
    configs: Mapping[str, TrainingConfig], extra: Mapping[str, Mapping[str, str]] | None = None
) -> pd.DataFrame:
    """One row per setting, named as on the page ("Batch size"), one text column per run, plus
    "differs": True where not every run has the same value, to highlight those rows.

    `extra` adds rows of plain text after the settings, e.g. {"Data": {run: source}}.
    """
    names = [field.name for field in dataclasses.fields(TrainingConfig)]
    rows = {
        FIELD_LABELS[name]: {run: getattr(config, name) for run, config in configs.items()}
        for name in names
    }
    texts = {
        label: {run: _config_value_text(name, value) for run, value in rows[label].items()}
        for name, label in zip(names, rows, strict=True)
    }
    for label, values in (extra or {}).items():
        rows[label] = texts[label] = dict(values)
    frame = pd.DataFrame.from_dict(texts, orient="index")[list(configs)]
    frame.index.name = "Setting"
    # Compare the raw values, not the texts, so 0.0100 vs 0.01 never counts as a difference.
    frame["differs"] = [len(set(values.values())) > 1 for values in rows.values()]
    return frame


def _number_or_nan(value: object) -> float:
    is_number = isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)
    return float(value) if is_number else math.nan


def metric_deltas(summaries: Mapping[str, Mapping], baseline: str) -> pd.DataFrame:
    """Headline figures of every run and their change against `baseline`, one row per metric.

    `summaries` maps run name -> dict holding the METRICS keys (missing or None values give NaN).
    Columns: run, metric (key), label, value, delta (value − baseline's value, NaN if either is
    missing), better (True/False: the change is an improvement; None for the baseline itself,
    neutral metrics such as parameters, no change, or a missing value).
    """
    base = {m.key: _number_or_nan(summaries[baseline].get(m.key)) for m in METRICS}
    rows = []
    for run, summary in summaries.items():
        for metric in METRICS:
            value = _number_or_nan(summary.get(metric.key))
            delta = value - base[metric.key]
            better = None
            if run != baseline and metric.higher_is_better is not None and not math.isnan(delta):
                # A zero change is neither better nor worse: None keeps it uncoloured.
                better = None if delta == 0 else (delta > 0) == metric.higher_is_better
            rows.append((run, metric.key, metric.label, value, delta, better))
    # The baseline's rows always hold None, so "better" stays an object column of True/False/None.
    return pd.DataFrame(rows, columns=["run", "metric", "label", "value", "delta", "better"])


def per_class_accuracy_frame(matrices: Mapping[str, np.ndarray], baseline: str) -> pd.DataFrame:
    """Accuracy per true digit of every run and its change against `baseline`.

    Columns: run, digit (0..k-1), accuracy (NaN for a digit without examples), delta (accuracy −
    the baseline's accuracy for that digit), count (examples of that digit) and baseline (True on
    the baseline's rows, so a chart of changes can leave them out).
    """
    counts = {run: np.asarray(matrix, dtype=np.int64) for run, matrix in matrices.items()}
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

    Both runs must have been tested on the same digits (see `same_test_set`), so each row of the
    result sums to zero.
    """
    return np.asarray(matrix, dtype=np.int64) - np.asarray(baseline_matrix, dtype=np.int64)


def same_test_set(matrices: Mapping[str, np.ndarray]) -> bool:
    """Whether every run was scored on the same test digits (equal counts of every digit).

    Runs on the bundled sample and on the full MNIST cannot be compared cell by cell.
    """
    totals = {tuple(np.asarray(matrix).sum(axis=1).tolist()) for matrix in matrices.values()}
    return len(totals) <= 1


def _disagree(stack: np.ndarray) -> np.ndarray:
    return np.any(stack != stack[0], axis=0)


def select_digits(
    true_labels: np.ndarray, predictions: Mapping[str, np.ndarray], mode: str, count: int = 20
) -> np.ndarray:
    """Indices (int64, ascending) of up to `count` test digits to show under every run.

    mode "first": the first `count` digits (as in the tutorial); "disagree": the first `count`
    on which the runs do not all predict the same label; "all_wrong": the first `count` that every
    run gets wrong (the hard digits). See DIGIT_MODES.
    """
    if mode == "first":
        return np.arange(min(count, len(true_labels)), dtype=np.int64)
    stack = np.stack(list(predictions.values()))
    chosen = _disagree(stack) if mode == "disagree" else np.all(stack != true_labels, axis=0)
    return np.flatnonzero(chosen)[:count].astype(np.int64)


def examples_for_cell(
    true_labels: np.ndarray,
    predicted_labels: np.ndarray,
    confidence: np.ndarray,
    true_digit: int,
    predicted_digit: int,
    limit: int | None = 30,
) -> np.ndarray:
    """Indices of test digits with true label `true_digit` that a run read as `predicted_digit`.

    Most confident first (ties keep test-set order), at most `limit` (None: all). Use it for a
    clicked confusion cell: (true 4, predicted 9) gives the 4s this run most firmly took for 9s.
    """
    chosen = (true_labels == true_digit) & (predicted_labels == predicted_digit)
    indices = np.flatnonzero(chosen)
    order = np.argsort(-np.asarray(confidence, dtype=np.float64)[indices], kind="stable")
    return indices[order][:limit].astype(np.int64)


def changed_examples(
    true_labels: np.ndarray,
    predicted_labels: np.ndarray,
    baseline_labels: np.ndarray,
    digit: int,
    limit: int | None = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """The test digits `digit` whose verdict changed against the baseline, for a clicked bar.

    Returns (fixed, broken): indices the run gets right and the baseline wrong, and the other
    way round, each in test-set order and at most `limit` long (None: all). Their counts make
    the bar.
    """
    of_digit = true_labels == digit
    right, base_right = predicted_labels == true_labels, baseline_labels == true_labels
    fixed = np.flatnonzero(of_digit & right & ~base_right)[:limit]
    broken = np.flatnonzero(of_digit & ~right & base_right)[:limit]
    return fixed.astype(np.int64), broken.astype(np.int64)


def part_of(shown: int, total: int) -> str:
    """How many of a list a drill-down shows: "30 of 39" when it is cut short, "39" when it
    shows all, so its counts add up to the bar or the cell that was clicked."""
    return f"{shown:,} of {total:,}" if shown < total else f"{total:,}"


def disagreement_rate(predictions: Mapping[str, np.ndarray]) -> float:
    """Share (0..1) of test digits on which the runs do not all predict the same label."""
    stack = np.stack(list(predictions.values()))
    return float(_disagree(stack).mean()) if stack.shape[1] else 0.0
