"""Runs as plain rows and JSON objects: for the command line, the history table and exports.

run_table_row(record)   # one flat dict: config fields, headline figures, status, when
run_to_json(record)     # everything about a run as JSON types
rows_to_csv(rows)       # CSV text, every cell safe to open in a spreadsheet
spreadsheet_safe("=1+1")  # "'=1+1": text, never a formula
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

import numpy as np

from explorer.architecture import layer_parameters, layer_widths, total_parameters
from explorer.config import DEFAULT_LEARNING_RATES, TrainingConfig
from explorer.store.records import RunRecord
from explorer.views.text import data_text

CONFIG_FIELDS = tuple(TrainingConfig.__dataclass_fields__)


def run_to_json(record: RunRecord, *, cached: bool | None = None, data=None) -> dict[str, Any]:
    """The JSON object printed for a run (shared by `train --json` and `runs --json`)."""
    summary = record.summary
    config = record.config
    confusion = None if record.confusion_matrix is None else record.confusion_matrix.tolist()
    payload: dict[str, Any] = {
        "run_id": record.run_id,
        "config": config.to_dict() if config else None,
        "label": _label(record),
        "status": record.status,
        "data_source": record.data_source,
        "params_total": total_parameters(config) if config else None,
        "params_per_layer": [layer.as_row() for layer in layer_parameters(config)]
        if config
        else None,
        "test_accuracy": summary.get("test_accuracy"),
        "thresholded_accuracy": summary.get("thresholded_accuracy"),
        "test_loss": summary.get("test_loss"),
        "train_seconds": summary.get("train_seconds"),
        "samples_per_second": summary.get("samples_per_second"),
        "epochs_completed": summary.get("epochs_completed", len(record.history)),
        "confusion_matrix": confusion,
        "history": record.history,
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "error": record.error,
        "worker": record.worker,
    }
    if cached is not None:
        payload["cached"] = cached
    if data is not None and confusion is not None:
        counts = data.class_counts_test.tolist()
        payload["test_class_counts"] = counts
        payload["confusion_rows_match_class_counts"] = (
            np.asarray(confusion).sum(axis=1).tolist() == counts
        )
    return payload


def run_table_row(record: RunRecord) -> dict[str, Any]:
    """One flat row per run: config fields, headline figures and status (tables, CSV)."""
    summary = record.summary
    config = record.config
    return {
        "run_id": record.run_id,
        "status": record.status,
        "label": _label(record),
        "data": data_text(record.data_source, record.test_samples),
        **(config.to_dict() if config else dict.fromkeys(CONFIG_FIELDS)),
        "parameters": total_parameters(config) if config else None,
        "test_accuracy": summary.get("test_accuracy"),
        "thresholded_accuracy": summary.get("thresholded_accuracy"),
        "train_seconds": summary.get("train_seconds"),
        "epochs_completed": summary.get("epochs_completed", len(record.history)),
        "created_at": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created_at)),
    }


def short_label(record: RunRecord) -> str:
    """The layers and only what differs from the tutorial's training, e.g. "784-256-10 ·
    3 epochs": the full label ran past a projector's column, so runs that differed only at
    its end ("… · 1 epoch", "… · 3 epochs") looked the same."""
    config, tutorial = record.config, TrainingConfig()
    parts = ["-".join(map(str, layer_widths(config)))]
    if config.optimizer != tutorial.optimizer:
        parts.append(config.optimizer)
    if config.learning_rate != DEFAULT_LEARNING_RATES[config.optimizer]:
        parts.append(f"rate {config.learning_rate:g}")
    if config.batch_size != tutorial.batch_size:
        parts.append(f"batch {config.batch_size}")
    if config.epochs != tutorial.epochs:
        parts.append(f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}")
    if config.activation != tutorial.activation:
        parts.append(config.activation)
    if config.train_fraction != tutorial.train_fraction:
        parts.append(f"{config.train_fraction:.0%} of data")
    if config.seed != tutorial.seed:
        parts.append(f"seed {config.seed}")
    if config.precision != tutorial.precision:
        parts.append(config.precision)
    return " · ".join(parts)


def _label(record: RunRecord) -> str:
    if record.config is None:
        return f"damaged row: {record.error}"
    return record.config.label()


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """`value` as a CSV cell a spreadsheet shows as it is: text that starts like a formula gets a
    single quote in front (OWASP's advice); numbers, None and other text stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text with a header row (just the header "run_id" when there are no rows), for the
    page's export and `runs --csv`. A nickname or a stored text can never start a formula."""
    buffer = io.StringIO()
    fields = list(rows[0]) if rows else ["run_id"]
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(field) for field in fields])
    for row in rows:
        writer.writerow([spreadsheet_safe(row.get(field)) for field in fields])
    return buffer.getvalue()


def matches_filter(row: dict[str, Any], text: str) -> bool:
    """Whether a run's row matches filter text: every word must appear somewhere in the row,
    and a `field=value` word (`hidden2=0`, `optimizer=adam`) must match that field exactly."""
    haystack = " ".join(str(value) for value in row.values()).lower()
    for word in text.lower().split():
        if "=" in word:
            name, _, wanted = word.partition("=")
            if not _field_equals(row.get(name), wanted):
                return False
        elif word not in haystack:
            return False
    return True


def _field_equals(value: Any, wanted: str) -> bool:
    if value is None:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return str(value).lower() == wanted
