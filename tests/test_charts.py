"""Tests for explorer.charts: the data frames and the Vega-Lite specs of the charts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explorer.charts import (
    confusion_frame,
    confusion_heatmap,
    history_frame,
    learning_curves,
    parameter_bars,
)

HISTORY = [
    {"epoch": 1, "loss": 0.9, "accuracy": 0.75, "test_loss": 0.5, "test_accuracy": 0.86},
    {"epoch": 2, "loss": 0.4, "accuracy": 0.88, "test_loss": 0.35, "test_accuracy": 0.9},
    {"epoch": 3, "loss": 0.3, "accuracy": 0.91, "test_loss": 0.31, "test_accuracy": 0.92},
]


def dataset_of(spec: dict) -> list[dict]:
    """The single inline dataset of a chart spec."""
    assert len(spec["datasets"]) == 1
    return next(iter(spec["datasets"].values()))


def test_history_frame_has_one_row_per_epoch_metric_and_split() -> None:
    frame = history_frame(HISTORY)
    assert list(frame.columns) == ["epoch", "metric", "split", "value"]
    assert len(frame) == 12
    rows = list(frame.itertuples(index=False, name=None))
    assert rows[:4] == [
        (1, "Loss", "train", 0.9),
        (1, "Loss", "test", 0.5),
        (1, "Accuracy", "train", 0.75),
        (1, "Accuracy", "test", 0.86),
    ]
    test_accuracy = frame.query("metric == 'Accuracy' and split == 'test'")
    assert test_accuracy["epoch"].tolist() == [1, 2, 3]
    assert test_accuracy["value"].tolist() == [0.86, 0.9, 0.92]


def test_history_frame_skips_missing_test_metrics_and_sorts_epochs() -> None:
    history = [
        {"epoch": 2, "loss": 0.4, "accuracy": 0.88, "test_loss": 0.35, "test_accuracy": 0.9},
        {"epoch": 1, "loss": 0.9, "accuracy": 0.75},
    ]
    frame = history_frame(history)
    assert len(frame) == 6
    assert frame["epoch"].tolist() == [1, 1, 2, 2, 2, 2]
    assert frame.loc[frame["epoch"] == 1, "split"].tolist() == ["train", "train"]


def test_history_frame_turns_infinite_loss_into_a_gap() -> None:
    frame = history_frame([{"epoch": 1, "loss": math.inf, "accuracy": 0.1}])
    assert math.isnan(frame["value"].iloc[0])
    assert frame["value"].iloc[1] == 0.1


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ({"epoch": 1}, "list of dicts"),
        ([{"loss": 0.1}], "epoch"),
        ([{"epoch": 0, "loss": 0.1}], "epoch"),
        ([{"epoch": 1.5, "loss": 0.1}], "epoch"),
        ([{"epoch": 1, "loss": "high"}], "number"),
        ([{"epoch": 1}, {"epoch": 1}], "more than once"),
        (["epoch 1"], "dict"),
    ],
)
def test_history_frame_rejects_bad_history(history: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        history_frame(history)  # type: ignore[arg-type]


def test_learning_curves_are_two_panels_with_epoch_x_and_split_colour() -> None:
    spec = learning_curves(HISTORY).to_dict()
    assert len(dataset_of(spec)) == 12
    assert spec["autosize"] == {"type": "pad"}
    panels = spec["hconcat"]
    assert [panel["transform"][0]["filter"] for panel in panels] == [
        "(datum.metric === 'Loss')",
        "(datum.metric === 'Accuracy')",
    ]
    for panel in panels:
        encoding = panel["encoding"]
        assert panel["mark"]["type"] == "line"
        assert "point" in panel["mark"]
        assert (encoding["x"]["field"], encoding["x"]["type"]) == ("epoch", "quantitative")
        assert encoding["x"]["title"] == "Epoch"
        assert encoding["x"]["axis"]["format"] == "d"
        assert encoding["x"]["scale"]["domain"] == [1, 3]
        assert encoding["color"]["field"] == "split"
        assert encoding["color"]["scale"]["domain"] == ["train", "test"]
        assert encoding["y"]["field"] == "value"
        assert encoding["y"]["scale"]["zero"] is False
        assert [tip["field"] for tip in encoding["tooltip"]] == ["epoch", "split", "value"]
    assert panels[0]["encoding"]["tooltip"][2]["format"] == ".4f"
    assert panels[1]["encoding"]["tooltip"][2]["format"] == ".2%"


def test_learning_curves_with_one_epoch_keep_a_usable_x_axis() -> None:
    spec = learning_curves(HISTORY[:1]).to_dict()
    assert len(dataset_of(spec)) == 4
    assert spec["hconcat"][0]["encoding"]["x"]["scale"]["domain"] == [1, 2]


def test_learning_curves_without_epochs_say_so() -> None:
    spec = learning_curves([]).to_dict()
    assert dataset_of(spec) == [{"message": "No epochs yet"}]
    assert spec["mark"]["type"] == "text"
    assert spec["encoding"]["text"]["field"] == "message"


def test_confusion_frame_row_share_is_count_over_row_total() -> None:
    matrix = np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]])
    frame = confusion_frame(matrix)
    assert list(frame.columns) == ["true", "predicted", "count", "row_share"]
    assert len(frame) == 9
    cell = frame[(frame["true"] == 0) & (frame["predicted"] == 1)].iloc[0]
    assert (cell["count"], cell["row_share"]) == (2, 0.2)
    assert frame.loc[frame["true"] == 1, "row_share"].tolist() == [0.25, 0.75, 0.0]
    # A class without examples gets shares of 0, not NaN.
    assert frame.loc[frame["true"] == 2, "row_share"].tolist() == [0.0, 0.0, 0.0]
    assert frame["count"].sum() == 14


def test_confusion_heatmap_has_ordered_axes_cells_and_count_text() -> None:
    matrix = np.diag(np.arange(1000, 1010))
    matrix[4, 9] = 12
    spec = confusion_heatmap(matrix, title="Test set").to_dict()
    assert spec["title"] == "Test set"
    data = dataset_of(spec)
    assert len(data) == 100
    assert {"true": 4, "predicted": 9, "count": 12, "row_share": 12 / 1016} in data
    rect, text = spec["layer"]
    assert rect["mark"]["type"] == "rect"
    assert text["mark"]["type"] == "text"
    for layer in (rect, text):
        assert layer["encoding"]["x"]["field"] == "predicted"
        assert layer["encoding"]["y"]["field"] == "true"
        assert layer["encoding"]["x"]["type"] == "ordinal"
        assert layer["encoding"]["x"]["scale"]["domain"] == list(range(10))
        assert layer["encoding"]["y"]["scale"]["domain"] == list(range(10))
    assert rect["encoding"]["color"]["field"] == "count"
    assert rect["encoding"]["color"]["scale"]["type"] == "symlog"
    assert text["encoding"]["text"]["field"] == "count"
    assert text["transform"] == [{"filter": "(datum.count > 0)"}]
    text_colour = text["encoding"]["color"]
    assert text_colour["condition"][0]["value"] == "white"
    assert text_colour["value"] == "black"
    tooltip = {tip["field"]: tip for tip in rect["encoding"]["tooltip"]}
    assert set(tooltip) == {"true", "predicted", "count", "row_share"}
    assert tooltip["row_share"]["format"] == ".1%"


def test_confusion_heatmap_white_text_only_on_dark_cells() -> None:
    matrix = np.diag(np.full(10, 1000))
    spec = confusion_heatmap(matrix).to_dict()
    test = spec["layer"][1]["encoding"]["color"]["condition"][0]["test"]
    threshold = float(test.removeprefix("(datum.count > ").removesuffix(")"))
    assert 5 < threshold < 1000
    assert "title" not in spec


def test_confusion_heatmap_accepts_whole_number_floats_and_all_zeros() -> None:
    spec = confusion_heatmap(np.zeros((10, 10))).to_dict()
    assert {row["count"] for row in dataset_of(spec)} == {0}
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [0, 1]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        (np.zeros((10, 9), dtype=int), "square"),
        (np.zeros(10, dtype=int), "square"),
        (np.zeros((0, 0), dtype=int), "square"),
        (-np.eye(10, dtype=int), "non-negative"),
        (np.full((10, 10), 0.5), "whole-number"),
        (np.full((10, 10), np.nan), "whole-number"),
        (np.array([["a", "b"], ["c", "d"]]), "integer"),
        (np.eye(10, dtype=bool), "integer"),
    ],
)
def test_confusion_heatmap_rejects_bad_matrices(matrix: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        confusion_heatmap(matrix)
    with pytest.raises(ValueError, match=message):
        confusion_frame(matrix)


PARAMETER_ROWS = [
    {
        "layer": "Dense 1 (hidden1)",
        "inputs": 784,
        "units": 400,
        "weights": 313600,
        "biases": 400,
        "parameters": 314000,
    },
    {
        "layer": "Output",
        "inputs": 400,
        "units": 10,
        "weights": 4000,
        "biases": 10,
        "parameters": 4010,
    },
]


def test_parameter_bars_show_each_layer_with_a_label() -> None:
    spec = parameter_bars(PARAMETER_ROWS).to_dict()
    data = dataset_of(spec)
    assert [row["layer"] for row in data] == ["Dense 1 (hidden1)", "Output"]
    assert [row["label"] for row in data] == ["314,000 (98.7%)", "4,010 (1.3%)"]
    bars, labels = spec["layer"]
    assert bars["mark"]["type"] == "bar"
    assert labels["mark"]["type"] == "text"
    assert labels["encoding"]["text"]["field"] == "label"
    assert bars["encoding"]["x"]["field"] == "parameters"
    assert bars["encoding"]["y"]["field"] == "layer"
    assert bars["encoding"]["y"]["sort"] is None
    assert spec["title"] == "Trainable parameters per layer (318,010 in total)"
    # Room right of the longest bar for its label.
    assert bars["encoding"]["x"]["scale"]["domain"][1] > 314000
    tooltip_fields = [tip["field"] for tip in bars["encoding"]["tooltip"]]
    assert tooltip_fields[:5] == ["layer", "inputs", "units", "weights", "biases"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "non-empty"),
        ([{"layer": "Output"}], "parameters"),
        ([{"layer": "Output", "parameters": -1}], "int >= 0"),
        ([{"layer": "Output", "parameters": 1.5}], "int >= 0"),
    ],
)
def test_parameter_bars_reject_bad_rows(rows: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parameter_bars(rows)
