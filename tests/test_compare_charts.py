"""Tests for explorer.compare_charts: Vega-Lite specs of the comparison charts, the digit table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from explorer import compare
from explorer.compare_charts import (
    confusion_difference_heatmap,
    curves_frame,
    digit_rows_html,
    gap_frame,
    overlaid_learning_curves,
    per_class_delta_bars,
    small_confusion_heatmap,
)


def history(accuracies: list[tuple[float, float]]) -> list[dict]:
    """A history with the given (train, test) accuracy per epoch and a falling loss."""
    return [
        {
            "epoch": epoch,
            "loss": 1.0 / epoch,
            "accuracy": train,
            "test_loss": 1.2 / epoch,
            "test_accuracy": test,
        }
        for epoch, (train, test) in enumerate(accuracies, start=1)
    ]


HISTORIES = {
    "A": history([(0.80, 0.78), (0.85, 0.82), (0.90, 0.84)]),
    "B": history([(0.90, 0.88), (0.95, 0.90), (0.99, 0.90)]),
}


def datasets_of(spec: dict) -> dict[str, list[dict]]:
    return spec["datasets"]


def data_of(spec: dict, view: dict) -> list[dict]:
    """The inline rows a view (or its parent) draws."""
    return datasets_of(spec)[view.get("data", spec.get("data"))["name"]]


def params_of(spec: dict) -> list[dict]:
    """Every parameter of the spec, wherever Altair put it."""
    found = list(spec.get("params", []))
    for key in ("layer", "hconcat", "vconcat"):
        for child in spec.get(key, []):
            found += params_of(child)
    return found


def test_curves_data_has_a_row_per_run_epoch_split_and_metric() -> None:
    spec = overlaid_learning_curves(HISTORIES).to_dict()
    loss_panel, accuracy_panel, gap_panel = spec["hconcat"]
    rows = data_of(spec, loss_panel)
    assert len(rows) == 2 * 3 * 2 * 2
    assert {(row["run"], row["split"], row["metric"]) for row in rows} == {
        (run, split, metric)
        for run in ("A", "B")
        for split in ("train", "test")
        for metric in ("Loss", "Accuracy")
    }
    assert data_of(spec, accuracy_panel) == rows
    for panel in (loss_panel, accuracy_panel):
        encoding = panel["encoding"]
        assert encoding["color"]["field"] == "run"
        assert encoding["color"]["scale"]["domain"] == ["A", "B"]
        assert encoding["strokeDash"]["field"] == "split"
        assert encoding["strokeDash"]["scale"]["domain"] == ["train", "test"]
        solid, dashed = encoding["strokeDash"]["scale"]["range"]
        assert solid == [1, 0] and dashed != [1, 0]
        tooltip_fields = [tip["field"] for tip in encoding["tooltip"]]
        assert tooltip_fields == ["run", "split", "epoch", "value"]
    assert loss_panel["transform"] == [{"filter": "(datum.metric === 'Loss')"}]
    assert "Generalisation gap" in str(gap_panel["title"])


def test_gap_panel_shows_train_minus_test_accuracy_with_a_zero_rule() -> None:
    spec = overlaid_learning_curves(HISTORIES).to_dict()
    rule, line = spec["hconcat"][2]["layer"]
    assert rule["mark"]["type"] == "rule"
    assert data_of(spec, rule) == [{"zero": 0}]
    gaps = {(row["run"], row["epoch"]): row["gap"] for row in data_of(spec, line)}
    expected = {("A", 1): 0.02, ("A", 2): 0.03, ("A", 3): 0.06}
    expected |= {("B", 1): 0.02, ("B", 2): 0.05, ("B", 3): 0.09}
    assert gaps == pytest.approx(expected)
    assert line["encoding"]["y"]["field"] == "gap"
    assert line["encoding"]["color"]["scale"]["domain"] == ["A", "B"]


def test_curves_accept_different_lengths_and_an_empty_history() -> None:
    histories = {"A": HISTORIES["A"], "B": HISTORIES["B"][:1], "C": []}
    frame = curves_frame(histories)
    assert frame.groupby("run").size().to_dict() == {"A": 12, "B": 4}
    spec = overlaid_learning_curves(histories).to_dict()
    loss_panel = spec["hconcat"][0]
    # Run C keeps its place (and colour) in the legend even without epochs.
    assert loss_panel["encoding"]["color"]["scale"]["domain"] == ["A", "B", "C"]
    assert loss_panel["encoding"]["x"]["scale"]["domain"] == [1, 3]
    assert len(data_of(spec, loss_panel)) == 16


def test_curves_without_any_epoch_say_so() -> None:
    spec = overlaid_learning_curves({"A": [], "B": []}).to_dict()
    assert "hconcat" not in spec
    assert next(iter(datasets_of(spec).values())) == [{"message": "No epochs yet"}]
    with pytest.raises(ValueError, match="at least one run"):
        overlaid_learning_curves({})


def test_gap_frame_skips_epochs_without_a_test_score() -> None:
    runs = {"A": [{"epoch": 1, "loss": 0.5, "accuracy": 0.9}, *HISTORIES["A"][1:]]}
    gaps = gap_frame(curves_frame(runs))
    assert gaps["epoch"].tolist() == [2, 3]
    assert gaps["gap"].tolist() == pytest.approx([0.03, 0.06])


DIFFERENCE = np.zeros((10, 10), dtype=np.int64)
DIFFERENCE[3, 3], DIFFERENCE[3, 5] = 12, -12  # 12 more 3s right, 12 fewer 3s read as 5
DIFFERENCE[7, 7], DIFFERENCE[7, 1] = -3, 3  # 3 fewer 7s right, 3 more 7s read as 1


def cell_rows(spec: dict) -> dict[tuple[int, int], dict]:
    rows = next(iter(datasets_of(spec).values()))
    return {(row["true"], row["predicted"]): row for row in rows}


def test_difference_heatmap_colours_improvement_not_raw_change() -> None:
    spec = confusion_difference_heatmap(DIFFERENCE, title="B − A").to_dict()
    cells = cell_rows(spec)
    assert len(cells) == 100
    # More right answers on the diagonal and fewer mistakes off it are both improvements.
    assert cells[(3, 3)]["improvement"] == 12 and cells[(3, 3)]["label"] == "+12"
    assert cells[(3, 5)]["improvement"] == 12 and cells[(3, 5)]["label"] == "−12"
    assert cells[(7, 7)]["improvement"] == -3 and cells[(7, 7)]["label"] == "−3"
    assert cells[(7, 1)]["improvement"] == -3 and cells[(7, 1)]["label"] == "+3"
    assert cells[(0, 0)]["label"] == "" and cells[(0, 0)]["improvement"] == 0
    assert "worse" in cells[(7, 1)]["meaning"] and "better" in cells[(3, 5)]["meaning"]
    rect, text = spec["layer"]
    colour = rect["encoding"]["color"]
    assert colour["field"] == "improvement"
    assert colour["scale"]["scheme"] == "redblue" and colour["scale"]["domainMid"] == 0
    assert colour["scale"]["domain"] == [-12, 12]
    assert rect["encoding"]["x"]["field"] == "predicted"
    assert rect["encoding"]["y"]["field"] == "true"
    assert rect["encoding"]["x"]["scale"]["domain"] == list(range(10))
    assert rect["encoding"]["y"]["scale"]["domain"] == list(range(10))
    assert text["encoding"]["text"]["field"] == "label"
    # Clicks on a number must reach the cell: the text layer has no tooltip.
    assert "tooltip" not in text["encoding"]
    assert spec["title"] == "B − A"


def test_heatmaps_carry_the_cell_selection() -> None:
    for chart in (
        confusion_difference_heatmap(DIFFERENCE),
        small_confusion_heatmap(np.eye(10, dtype=int) * 100, title="B"),
    ):
        params = params_of(chart.to_dict())
        assert len(params) == 1
        assert params[0]["name"] == "cell"
        assert params[0]["select"]["type"] == "point"
        assert params[0]["select"]["fields"] == ["true", "predicted"]


def test_small_heatmap_is_compact_and_labels_only_filled_cells() -> None:
    matrix = np.eye(10, dtype=int) * 100
    matrix[4, 9] = 7
    spec = small_confusion_heatmap(matrix, title="B").to_dict()
    assert spec["width"] == spec["height"] == 180
    assert spec["autosize"] == {"type": "pad"}
    assert spec["title"] == "B"
    cells = cell_rows(spec)
    assert cells[(4, 9)]["label"] == "7" and cells[(4, 9)]["count"] == 7
    assert cells[(4, 8)]["label"] == ""
    with pytest.raises(ValueError, match="square"):
        small_confusion_heatmap(np.zeros((3, 4)), title="bad")


def test_difference_heatmap_rejects_fractions() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        confusion_difference_heatmap(np.full((10, 10), 0.5))


def per_class_frame() -> pd.DataFrame:
    baseline = np.array([[9, 1, 0], [0, 10, 0], [0, 0, 10]])
    better = np.diag([10, 10, 10])  # digit 0: 90 % -> 100 %
    worse = np.array([[8, 2, 0], [0, 10, 0], [0, 0, 10]])  # digit 0: 90 % -> 80 %
    return compare.per_class_accuracy_frame({"A": baseline, "B": better, "C": worse}, baseline="A")


def test_per_class_bars_leave_out_the_baseline_and_use_points() -> None:
    spec = per_class_delta_bars(per_class_frame()).to_dict()
    bars, rule = spec["layer"]
    rows = data_of(spec, bars)
    assert {row["run"] for row in rows} == {"B", "C"}
    assert len(rows) == 6
    points = {(row["run"], row["digit"]): row["points"] for row in rows}
    assert points[("B", 0)] == pytest.approx(10.0)
    assert points[("C", 0)] == pytest.approx(-10.0)
    assert points[("C", 1)] == pytest.approx(0.0)
    encoding = bars["encoding"]
    assert encoding["x"]["field"] == "digit" and encoding["x"]["type"] == "ordinal"
    assert encoding["x"]["scale"]["domain"] == [0, 1, 2]
    assert encoding["xOffset"]["field"] == "run"
    assert encoding["color"]["field"] == "run"
    # The baseline keeps its colour slot, so B and C match their colours in the other charts.
    assert encoding["color"]["scale"]["domain"] == ["A", "B", "C"]
    assert encoding["color"]["legend"]["values"] == ["B", "C"]
    assert encoding["y"]["field"] == "points"
    assert rule["mark"]["type"] == "rule"
    params = params_of(spec)
    assert [(p["name"], p["select"]["fields"]) for p in params] == [("digit", ["digit"])]


def test_per_class_bars_drop_nan_changes_and_check_columns() -> None:
    frame = per_class_frame()
    frame.loc[frame["run"] == "C", "delta"] = float("nan")
    spec = per_class_delta_bars(frame.drop(columns="baseline")).to_dict()
    # Without the baseline column the baseline's own zero rows stay; C's NaN rows go.
    runs = [row["run"] for row in data_of(spec, spec["layer"][0])]
    assert sorted(set(runs)) == ["A", "B"]
    with pytest.raises(ValueError, match="columns"):
        per_class_delta_bars(pd.DataFrame({"run": ["A"]}))


IMAGES = np.zeros((4, 28, 28), dtype=np.uint8)
LABELS = np.array([7, 2, 1, 0], dtype=np.uint8)
ROWS = [
    ("A <baseline>", np.array([7, 2, 1, 0]), np.array([0.9, 0.8, 0.7, 0.6])),
    ("B", np.array([7, 3, 1, 6]), np.array([0.9, 0.5, 0.7, 0.4])),
]


def test_digit_rows_html_counts_cells_and_marks_disagreements() -> None:
    text = digit_rows_html(IMAGES, LABELS, ROWS)
    assert text.count('class="digit-rows"') == 1
    assert text.count('<td class="digit"') == 4
    assert text.count('<td class="prediction"') == 8
    assert text.count("<img ") == 4 and "image-rendering:pixelated" in text
    # Columns 1 and 3 disagree: the image cell and both prediction cells carry the flag.
    assert text.count('data-disagree="true"') == 2 * 3
    assert text.count('data-disagree="false"') == 2 * 3
    positions = re.findall(r'data-position="(\d)"[^>]*data-disagree="true"', text)
    assert positions == ["1", "3"]
    assert text.count('data-correct="false"') == 2
    assert 'data-run="B" data-predicted="3" data-correct="false"' in text
    assert 'data-run="B" data-predicted="7" data-correct="true"' in text
    # Run names are escaped, in the row header and in the attributes.
    assert "A &lt;baseline&gt;" in text and "<baseline>" not in text


def test_digit_rows_html_wraps_into_blocks() -> None:
    text = digit_rows_html(IMAGES, LABELS, ROWS, columns=3)
    assert text.count('<tbody class="digit-block">') == 2
    assert text.count('<td class="digit"') == 4
    assert text.count("<tr>") == 2 * (1 + len(ROWS))


def test_digit_rows_html_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="true_labels"):
        digit_rows_html(IMAGES, LABELS[:3], ROWS)
    with pytest.raises(ValueError, match="predictions of 'B'"):
        digit_rows_html(IMAGES, LABELS, [ROWS[0], ("B", np.array([7, 3]), ROWS[1][2])])
    with pytest.raises(ValueError, match="confidence of run 'B'"):
        digit_rows_html(IMAGES, LABELS, [ROWS[0], ("B", ROWS[1][1], np.array([0.5]))])
    with pytest.raises(ValueError, match="columns"):
        digit_rows_html(IMAGES, LABELS, ROWS, columns=0)
    assert "No digits" in digit_rows_html(IMAGES[:0], LABELS[:0], [])
