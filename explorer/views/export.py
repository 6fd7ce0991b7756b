"""A run to take home: one zip with the trained Keras model, the config, history, metrics and
the confusion matrix (NumPy, Pillow and the standard library: no TensorFlow).

    data = run_archive(record, service.keras_model(run_id))   # bytes of the zip
    st.download_button("Download", data, file_name=archive_name(record))

Inside the zip (ARCHIVE_FILES):
    model.keras           the trained network: keras.saving.load_model("model.keras")
    config.json           the settings, as TrainingConfig.to_dict()
    history.csv           one row per epoch: loss, accuracy, test_loss, test_accuracy, seconds
    metrics.csv           the headline figures, then the accuracy of each digit
    confusion_matrix.csv  rows = true digit, columns = predicted
    confusion_matrix.png  the same as a picture
    README.txt            what each file is and how to use the model
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
import zipfile

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from explorer.store.records import RunRecord

ARCHIVE_FILES = (
    "README.txt",
    "model.keras",
    "config.json",
    "history.csv",
    "metrics.csv",
    "confusion_matrix.csv",
    "confusion_matrix.png",
)
HISTORY_COLUMNS = ("epoch", "loss", "accuracy", "test_loss", "test_accuracy", "seconds")
SUMMARY_ORDER = (
    "test_accuracy",
    "thresholded_accuracy",
    "test_loss",
    "epochs_completed",
    "stopped",
    "train_samples",
    "test_samples",
    "train_seconds",
    "samples_per_second",
)
# ColorBrewer "Blues" (light, middle, dark), as in the page's heatmap; text turns white past
# this share of the log scale.
BLUES = ((247, 251, 255), (107, 174, 214), (8, 48, 107))
DARK_CELL_SHARE = 0.55
CELL = 44  # pixels per cell of the confusion picture

README = """\
MNIST Explorer run {run_id}
{label}
Status: {status}; test accuracy {accuracy}.

model.keras           The trained network in Keras' own format. Load it with
                          import keras
                          model = keras.saving.load_model("model.keras")
                      Its input is one row of 784 numbers per digit: the 28x28 pixels row by
                      row, white ink on black, divided by 255 (so 0..1), as in MNIST. Its output
                      is the ten probabilities, digit 0 to 9:
                          probabilities = model.predict(pixels.reshape(-1, 784) / 255)
config.json           The settings the network was trained with.
history.csv           One row per finished epoch: training and test loss and accuracy.
metrics.csv           The final figures, and the test accuracy of each digit.
confusion_matrix.csv  How often each true digit (row) was read as each digit (column).
confusion_matrix.png  The same as a picture.
"""


def archive_name(record: RunRecord) -> str:
    """The zip's file name, e.g. "mnist-run-3f2a9c0112ab34cd.zip"."""
    return f"mnist-run-{record.run_id}.zip"


def run_archive(record: RunRecord, keras_model: bytes) -> bytes:
    """The zip of a finished run (complete or stopped) holding `keras_model`, the bytes of its
    `.keras` file (TrainingService.keras_model). ValueError for a run without a result.

    The same run gives the same zip: its entries are dated when the run finished.
    """
    if record.config is None or not record.has_result:
        raise ValueError(f"Run {record.run_id} has no result to export ({record.status}).")
    stamp = time.localtime(record.finished_at or record.created_at or 0)[:6]
    stamp = max(stamp, (1980, 1, 1, 0, 0, 0))  # the earliest date a zip can hold
    accuracy = record.summary.get("test_accuracy")
    readme = README.format(
        run_id=record.run_id,
        label=record.config.label(),
        status=record.status,
        accuracy="unknown" if accuracy is None else f"{accuracy:.4f}",
    )
    files = {
        "README.txt": readme.encode("utf-8"),
        "model.keras": keras_model,
        "config.json": (json.dumps(record.config.to_dict(), indent=2) + "\n").encode("utf-8"),
        "history.csv": history_csv(record.history).encode("utf-8"),
        "metrics.csv": metrics_csv(record).encode("utf-8"),
        "confusion_matrix.csv": confusion_csv(record.confusion_matrix).encode("utf-8"),
        "confusion_matrix.png": confusion_png(record.confusion_matrix),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ARCHIVE_FILES:
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, files[name])
    return buffer.getvalue()


def history_csv(history: list[dict]) -> str:
    """One row per epoch (HISTORY_COLUMNS; a missing figure is left empty)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HISTORY_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue()


def metrics_csv(record: RunRecord) -> str:
    """metric,value rows: the summary figures, then "accuracy_digit_0" ... "accuracy_digit_9"
    (empty for a digit the test set does not have)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["metric", "value"])
    summary = record.summary
    for name in (*SUMMARY_ORDER, *sorted(set(summary) - set(SUMMARY_ORDER))):
        if name in summary:
            writer.writerow([name, summary[name]])
    counts = np.asarray(record.confusion_matrix, dtype=np.int64)
    totals = counts.sum(axis=1)
    for digit in range(len(counts)):
        value = counts[digit, digit] / totals[digit] if totals[digit] else ""
        writer.writerow([f"accuracy_digit_{digit}", value])
    return buffer.getvalue()


def confusion_csv(matrix: np.ndarray) -> str:
    """The matrix with a header: true, predicted_0, ..., predicted_9."""
    counts = np.asarray(matrix, dtype=np.int64)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["true", *(f"predicted_{digit}" for digit in range(counts.shape[1]))])
    for digit, row in enumerate(counts.tolist()):
        writer.writerow([digit, *row])
    return buffer.getvalue()


def confusion_png(matrix: np.ndarray) -> bytes:
    """The confusion matrix as a PNG, like the page's heatmap: x = predicted digit (on top),
    y = true digit, the count in each non-empty cell, blue on a log scale (log(1 + count))."""
    counts = np.asarray(matrix, dtype=np.int64)
    rows, columns = counts.shape
    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    left, top = 64, 64
    image = Image.new("RGB", (left + columns * CELL + 12, top + rows * CELL + 12), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left + columns * CELL / 2, 14), "Predicted", fill="black", font=font, anchor="mm")
    draw.text((8, top - 18), "True", fill="black", font=font, anchor="lm")
    largest = math.log1p(max(int(counts.max()) if counts.size else 0, 1))
    for column in range(columns):
        x = left + column * CELL + CELL / 2
        draw.text((x, top - 14), str(column), fill="black", font=font, anchor="mm")
    for row in range(rows):
        y = top + row * CELL + CELL / 2
        draw.text((left - 14, y), str(row), fill="black", font=font, anchor="mm")
        for column in range(columns):
            count = int(counts[row, column])
            share = math.log1p(count) / largest
            colour = _blue(share)
            box = (left + column * CELL, top + row * CELL)
            corner = (box[0] + CELL - 1, box[1] + CELL - 1)
            draw.rectangle((box, corner), fill=colour, outline=(221, 221, 221))
            if count:
                ink = "white" if share > DARK_CELL_SHARE else "black"
                centre = (box[0] + CELL / 2, box[1] + CELL / 2)
                draw.text(centre, str(count), fill=ink, font=small, anchor="mm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _blue(share: float) -> tuple[int, int, int]:
    """The Blues colour at `share` (0..1), linear between its three stops."""
    low, high = (BLUES[0], BLUES[1]) if share <= 0.5 else (BLUES[1], BLUES[2])
    step = share * 2 if share <= 0.5 else share * 2 - 1
    return tuple(round(a + step * (b - a)) for a, b in zip(low, high, strict=True))
