"""Run rows, JSON, CSV and the history filter."""

import csv
import io
import json

import pytest

from explorer.config import TrainingConfig
from explorer.store.records import RunRecord
from explorer.views.reports import (
    matches_filter,
    rows_to_csv,
    run_table_row,
    run_to_json,
    short_label,
    spreadsheet_safe,
)
from explorer.views.text import ended_message


def record(**config_changes):
    return RunRecord(
        run_id="0123456789abcdef",
        cache_key="k",
        config=TrainingConfig(**config_changes),
        data_source="sample",
        status="complete",
        created_at=0.0,
        started_at=0.0,
        finished_at=1.0,
        history=[{"epoch": 1}],
        summary={"test_accuracy": 0.9, "thresholded_accuracy": 0.85, "train_seconds": 2.0},
    )


def test_row_has_config_fields_and_figures():
    row = run_table_row(record(hidden2=0, optimizer="adam"))
    assert (row["hidden2"], row["optimizer"], row["learning_rate"]) == (0, "adam", 0.001)
    assert row["parameters"] == 784 * 400 + 400 + 4010
    assert row["test_accuracy"] == 0.9 and row["status"] == "complete"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("adam", True),
        ("sgd", False),
        ("hidden2=0", True),
        ("hidden2=20", False),
        ("optimizer=adam hidden1=400", True),
        ("learning_rate=0.001", True),
        ("learning_rate=abc", False),
        ("nosuchfield=1", False),
        ("784-400-10", True),
    ],
)
def test_filter(text, expected):
    assert matches_filter(run_table_row(record(hidden2=0, optimizer="adam")), text) is expected


def test_csv_and_json_exports_parse_back():
    rows = [run_table_row(record()), run_table_row(record(hidden1=8))]
    parsed = list(csv.DictReader(io.StringIO(rows_to_csv(rows))))
    assert [row["hidden1"] for row in parsed] == ["400", "8"]
    assert rows_to_csv([]).strip() == "run_id"
    payload = json.loads(json.dumps(run_to_json(record())))
    assert payload["params_total"] == 322_230
    assert payload["config"]["batch_size"] == 200


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("adam", "adam"),
        ("784-400-20-10", "784-400-20-10"),
        ("", ""),
        (-0.5, -0.5),
        (-3, -3),
        (0.9123, 0.9123),
        (None, None),
    ],
    ids=[
        "equals",
        "plus",
        "minus",
        "at",
        "tab",
        "carriage return",
        "plain text",
        "a dash inside",
        "empty",
        "a negative float",
        "a negative int",
        "a float",
        "none",
    ],
)
def test_a_cell_that_could_start_a_formula_is_written_as_text(value, written):
    assert spreadsheet_safe(value) == written
    text = rows_to_csv([{"run_id": "r1", "cell": value}])
    parsed = next(csv.DictReader(io.StringIO(text)))
    expected = "" if written is None else str(written)
    assert parsed["cell"] == expected


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            "The trainer stopped answering for 30 s, so it was ended. Train again to retry.",
            "ended as interrupted: The trainer stopped answering for 30 s, so it was ended. "
            "Train again to retry.",
        ),
        ("out of memory", "ended as interrupted: out of memory. Press Train to try again."),
        (None, "ended as interrupted: no details. Press Train to try again."),
    ],
    ids=["ends with a full stop", "ends without one", "no error"],
)
def test_a_run_that_ended_says_why_with_one_full_stop(error, message):
    text = ended_message("interrupted", error)
    assert text == f"The last run of this configuration {message}"
    assert ".." not in text


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "784-400-20-10"),
        ({"hidden1": 256, "hidden2": 0, "epochs": 1}, "784-256-10 · 1 epoch"),
        ({"hidden1": 256, "hidden2": 0, "epochs": 3}, "784-256-10 · 3 epochs"),
        ({"optimizer": "adam", "learning_rate": 0.001}, "784-400-20-10 · adam"),  # its default
        ({"learning_rate": 0.1, "batch_size": 32}, "784-400-20-10 · rate 0.1 · batch 32"),
        (
            {"activation": "tanh", "train_fraction": 0.2, "seed": 3, "precision": "bfloat16"},
            "784-400-20-10 · tanh · 20% of data · seed 3 · bfloat16",
        ),
    ],
    ids=["tutorial", "one-epoch", "three-epochs", "adam", "rate-batch", "the-rest"],
)
def test_short_label_names_the_layers_and_only_what_differs_from_the_tutorial(changes, expected):
    """The full label ran past a projector's column: runs that differed at its end looked the
    same. The short one keeps them apart."""
    assert short_label(record(**changes)) == expected
