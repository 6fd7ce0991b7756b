"""explorer.views.export: the zip of a run, its CSV files and its confusion picture."""

from __future__ import annotations

import csv
import io
import json
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from explorer.config import TrainingConfig
from explorer.store.records import RunRecord
from explorer.views.export import (
    ARCHIVE_FILES,
    archive_name,
    confusion_png,
    run_archive,
)

CONFIG = TrainingConfig(hidden1=16, hidden2=0, epochs=2)
MATRIX = np.diag([5, 7, 0, 3, 4, 6, 2, 8, 9, 1]) + np.eye(10, k=1, dtype=int)


def record(status: str = "complete", **changes) -> RunRecord:
    values = {
        "run_id": "0123456789abcdef",
        "cache_key": "k",
        "config": CONFIG,
        "data_source": "sample",
        "status": status,
        "created_at": 1.7e9,
        "finished_at": 1.7e9 + 60,
        "history": [
            {"epoch": 1, "loss": 0.9, "accuracy": 0.7, "test_loss": 0.8, "test_accuracy": 0.75},
            {"epoch": 2, "loss": 0.5, "accuracy": 0.85, "test_loss": 0.6, "test_accuracy": 0.8},
        ],
        "summary": {"test_accuracy": 0.8, "test_loss": 0.6, "stopped": False, "extra": 3},
        "confusion_matrix": MATRIX,
    }
    return RunRecord(**{**values, **changes})


def test_the_zip_holds_every_file_of_the_run():
    data = run_archive(record(), b"PK model bytes")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == list(ARCHIVE_FILES)
        assert archive.testzip() is None
        assert archive.read("model.keras") == b"PK model bytes"
        assert TrainingConfig.from_mapping(json.loads(archive.read("config.json"))) == CONFIG
        history = list(csv.DictReader(io.StringIO(archive.read("history.csv").decode())))
        assert [row["epoch"] for row in history] == ["1", "2"]
        assert float(history[1]["test_accuracy"]) == 0.8 and history[1]["seconds"] == ""
        metrics = dict(csv.reader(io.StringIO(archive.read("metrics.csv").decode())))
        assert metrics["test_accuracy"] == "0.8" and metrics["extra"] == "3"
        assert float(metrics["accuracy_digit_0"]) == pytest.approx(5 / 6)
        assert metrics["accuracy_digit_2"] == "0.0" and metrics["accuracy_digit_9"] == "1.0"
        matrix = list(csv.reader(io.StringIO(archive.read("confusion_matrix.csv").decode())))
        assert matrix[0][:2] == ["true", "predicted_0"]
        assert [int(value) for value in matrix[1][1:]] == MATRIX[0].tolist()
        picture = Image.open(io.BytesIO(archive.read("confusion_matrix.png")))
        assert picture.format == "PNG" and picture.width > 400
        readme = archive.read("README.txt").decode()
        assert "keras.saving.load_model" in readme and "/ 255" in readme
        assert "0123456789abcdef" in readme and CONFIG.label() in readme
        assert archive.getinfo("model.keras").date_time == time.localtime(1.7e9 + 60)[:6]
    assert run_archive(record(), b"PK model bytes") == data  # the same run, the same zip
    assert archive_name(record()) == "mnist-run-0123456789abcdef.zip"


def test_a_run_without_a_result_cannot_be_exported():
    with pytest.raises(ValueError, match="has no result to export"):
        run_archive(record("failed", confusion_matrix=None), b"")


def test_the_confusion_picture_is_dark_where_counts_are_large():
    counts = np.zeros((10, 10), dtype=int)
    counts[3, 3] = 1000
    picture = np.asarray(Image.open(io.BytesIO(confusion_png(counts))).convert("RGB"))
    left, top, cell = 64, 64, 44

    def corner(row, column):  # a pixel inside the cell, away from its number
        return picture[top + row * cell + 4, left + column * cell + 4]

    assert corner(3, 3).sum() < 200  # dark blue
    assert corner(0, 0).tolist() == [247, 251, 255]  # empty: the lightest blue
