"""explorer.views.charts: the frames behind the charts, and the Vega-Lite specs they become."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from explorer.views import comparison
from explorer.views.charts import (
    PANEL_HEIGHT,
    activation_strip,
    confusion_frame,
    confusion_heatmap,
    curves_frame,
    curves_height,
    dark_from,
    difference_heatmap,
    gap_frame,
    history_frame,
    learning_curve_panels,
    per_class_delta_bars,
    probability_bars,
)


def history(accuracies: list[tuple[float, float]]) -> list[dict]:
    """A history with the given (train, test) accuracy per epoch and a falling loss."""
    return [
        {
            "epoch": epoch,
            "loss": 1 / epoch,
            "accuracy": train,
            "test_loss": 1.2 / epoch,
            "test_accuracy": test,
        }
        for epoch, (train, test) in enumerate(accuracies, start=1)
    ]


HISTORY = history([(0.80, 0.78), (0.85, 0.82), (0.90, 0.84)])
HISTORIES = {"A": HISTORY, "B": history([(0.90, 0.88), (0.95, 0.90), (0.99, 0.90)])}


def rows_of(spec: dict, view: dict | None = None) -> list[dict]:
    """The inline rows a view (or the top level) draws."""
    data = (view or spec).get("data") or spec["data"]
    return spec["datasets"][data["name"]]


def params_of(spec: dict) -> list[dict]:
    found = list(spec.get("params", []))
    for child in spec.get("layer", []):
        found += params_of(child)
    return found


def test_history_frame_has_one_row_per_epoch_metric_and_split() -> None:
    frame = history_frame(HISTORY)
    assert len(frame) == 3 * 4
    first = frame[frame["epoch"] == 1].set_index(["metric", "split"])["value"]
    assert first[("Loss", "train")] == 1.0 and first[("Accuracy", "test")] == 0.78


def test_history_frame_skips_missing_figures_and_turns_infinity_into_a_gap() -> None:
    frame = history_frame([{"epoch": 1, "loss": math.inf, "accuracy": 0.5}])
    assert len(frame) == 2
    assert math.isnan(frame.loc[frame["metric"] == "Loss", "value"].iloc[0])


def test_one_run_gives_two_panels_coloured_and_dashed_by_split_that_fill_their_column() -> None:
    """Test is dashed as well as orange: a line is never told by its colour alone."""
    panels = [panel.to_dict() for panel in learning_curve_panels({"": HISTORY})]
    assert [panel["transform"][0]["filter"] for panel in panels] == [
        "(datum.metric === 'Loss')",
        "(datum.metric === 'Accuracy')",
    ]
    for panel in panels:
        assert panel["width"] == "container"
        encoding = panel["encoding"]
        assert encoding["color"]["field"] == "split"
        assert encoding["color"]["legend"]["symbolType"] == "stroke"
        assert encoding["x"]["scale"]["domain"] == [1, 3]
        assert encoding["strokeDash"]["field"] == "split"
        assert encoding["strokeDash"]["scale"]["range"] == [[1, 0], [6, 4]]  # test dashed
    assert len(rows_of(panels[0])) == 12


def test_several_runs_are_coloured_by_run_and_dashed_by_split_with_a_gap_panel() -> None:
    _, accuracy, gap = (panel.to_dict() for panel in learning_curve_panels(HISTORIES, gap=True))
    assert accuracy["encoding"]["color"]["field"] == "run"
    dash_legend = accuracy["encoding"]["strokeDash"]["legend"]
    assert dash_legend["symbolType"] == "stroke"
    assert dash_legend["symbolFillColor"] == "gray"  # else Vega draws the dashes invisible
    # Room for the legends below the plot, a row per run: else the plot is squashed flat.
    assert accuracy["height"] == gap["height"] == curves_height(2) > PANEL_HEIGHT
    assert curves_height(4) > curves_height(2) and curves_height(1) == PANEL_HEIGHT
    rule, line = gap["layer"]
    assert rule["mark"]["type"] == "rule"
    gaps = {(row["run"], row["epoch"]): row["gap"] for row in rows_of(gap, line)}
    assert gaps[("A", 1)] == pytest.approx(0.02) and gaps[("B", 3)] == pytest.approx(0.09)
    assert "test can" in " ".join(gap["title"]["subtitle"])  # the negative gap is explained


def test_one_epoch_keeps_a_usable_axis_and_no_epochs_say_so() -> None:
    panel = learning_curve_panels({"": HISTORY[:1]})[0].to_dict()
    assert panel["encoding"]["x"]["scale"]["domain"] == [1, 2]
    (message,) = learning_curve_panels({"": []})
    assert rows_of(message.to_dict()) == [{"message": "No epochs yet"}]


def test_gap_frame_skips_epochs_without_a_test_score() -> None:
    runs = {
        "A": [{"epoch": 1, "accuracy": 0.9}, {"epoch": 2, "accuracy": 0.9, "test_accuracy": 0.8}]
    }
    frame = gap_frame(curves_frame(runs))
    assert frame[["epoch", "gap"]].values.tolist() == [[2, pytest.approx(0.1)]]


def test_confusion_frame_row_share_is_count_over_row_total() -> None:
    frame = confusion_frame(np.array([[8, 2, 0], [1, 3, 0], [0, 0, 0]]))
    assert frame.loc[frame["true"] == 0, "row_share"].tolist() == [0.8, 0.2, 0.0]
    assert frame.loc[frame["true"] == 2, "row_share"].tolist() == [0.0, 0.0, 0.0]


def test_confusion_heatmap_writes_counts_on_filled_cells_and_selects_a_cell() -> None:
    matrix = np.diag(np.arange(1000, 1010))
    matrix[4, 9] = 12
    spec = confusion_heatmap(matrix, "Test set").to_dict()
    assert spec["title"] == "Test set" and spec["width"] == "container"
    rect, text = spec["layer"]
    assert rect["encoding"]["color"]["scale"]["type"] == "symlog"
    assert rect["encoding"]["x"]["scale"]["domain"] == list(range(10))
    labels = {(row["true"], row["predicted"]): row["label"] for row in rows_of(spec, rect)}
    assert labels[(4, 9)] == "12" and labels[(4, 8)] == ""
    assert text["transform"] == [{"filter": "datum.label"}]
    assert [param["name"] for param in params_of(spec)] == ["cell"]


def test_heatmap_numbers_are_readable_from_the_back_or_left_to_the_hover() -> None:
    """Numbers at 12 CSS pixels at least (they were 8 and 11: about 6 px high on a projector,
    and "1107" spilled out of its cell); a small heatmap of runs side by side has no room for
    them, so it has none, and its tooltip tells each cell's count or change."""
    matrix = np.diag(np.arange(1100, 1110))
    for spec in (
        confusion_heatmap(matrix).to_dict(),
        difference_heatmap(comparison.confusion_difference(matrix, matrix - 1)).to_dict(),
    ):
        text = spec["layer"][1]
        assert text["mark"]["type"] == "text" and text["mark"]["fontSize"] >= 12
    for spec in (
        confusion_heatmap(matrix, small=True).to_dict(),
        difference_heatmap(comparison.confusion_difference(matrix, matrix), small=True).to_dict(),
    ):
        (cells,) = spec["layer"]
        assert cells["mark"]["type"] == "rect"
        titles = [tip["title"] for tip in cells["encoding"]["tooltip"]]
        assert {"Count", "Change vs baseline"} & set(titles), titles


def test_white_text_starts_at_one_shared_threshold() -> None:
    assert dark_from(1000) == pytest.approx(math.expm1(0.55 * math.log1p(1000)))
    spec = confusion_heatmap(np.diag(np.full(10, 1000))).to_dict()
    test = spec["layer"][1]["encoding"]["color"]["condition"][0]["test"]
    assert f"{dark_from(1000)}" in test


def test_difference_heatmap_colours_improvement_not_raw_change() -> None:
    base = np.diag(np.full(10, 100))
    run = base.copy()
    run[3, 3], run[3, 5] = 90, 10  # ten 3s now read as 5: worse on and off the diagonal
    spec = difference_heatmap(comparison.confusion_difference(run, base), "A − Baseline").to_dict()
    rows = {(row["true"], row["predicted"]): row for row in rows_of(spec, spec["layer"][0])}
    assert (rows[(3, 3)]["difference"], rows[(3, 3)]["improvement"]) == (-10, -10)
    assert (rows[(3, 5)]["difference"], rows[(3, 5)]["improvement"]) == (10, -10)
    assert rows[(3, 5)]["label"] == "+10" and rows[(3, 3)]["label"] == "−10"
    assert rows[(3, 5)]["meaning"] == "10 more 3s read as 5 (worse)"


def test_per_digit_bars_select_a_run_and_a_digit_and_leave_out_the_baseline() -> None:
    matrices = {"Baseline": np.diag(np.full(10, 10)), "A": np.diag(np.full(10, 10))}
    matrices["A"][5, 5], matrices["A"][5, 3] = 8, 2
    frame = comparison.per_class_accuracy_frame(matrices, "Baseline")
    spec = per_class_delta_bars(frame).to_dict()
    bars = spec["layer"][0]
    rows = rows_of(spec, bars)
    assert {row["run"] for row in rows} == {"A"}
    assert next(row for row in rows if row["digit"] == 5)["points"] == pytest.approx(-20)
    (selection,) = params_of(spec)
    assert selection["select"]["fields"] == ["run", "digit"]


# -- inside the network ------------------------------------------------------------------------


def test_probability_bars_show_ten_digits_and_highlight_one() -> None:
    probabilities = np.array([0.01, 0.02, 0.0, 0.05, 0.0, 0.0, 0.0, 0.9, 0.02, 0.0], np.float32)
    spec = probability_bars(probabilities).to_dict()
    bars = spec["layer"][0]
    rows = rows_of(spec, bars)
    assert [row["digit"] for row in rows] == list(range(10))
    assert rows[7]["probability"] == pytest.approx(0.9) and rows[7]["label"] == "90%"
    assert bars["encoding"]["y"]["scale"]["domain"] == [0, 1]
    assert "datum.digit === 7" in json.dumps(bars["encoding"]["color"])  # the most likely
    chosen = probability_bars(probabilities, highlight=3).to_dict()["layer"][0]
    assert "datum.digit === 3" in json.dumps(chosen["encoding"]["color"])
    assert spec["width"] == "container"
    with pytest.raises(ValueError, match="10 probabilities"):
        probability_bars(np.ones(9) / 9)


def test_activation_strip_gives_each_layer_the_full_width() -> None:
    frame = pd.DataFrame(
        {
            "layer": ["Hidden layer 1"] * 4 + ["Hidden layer 2"] * 2,
            "unit": [1, 2, 3, 4, 1, 2],
            "units": [4, 4, 4, 4, 2, 2],
            "activation": [0.0, 1.5, 0.2, 3.0, 0.5, 0.0],
        }
    )
    spec = activation_strip(frame).to_dict()
    rows = rows_of(spec)
    assert [(row["start"], row["end"]) for row in rows[:4]] == [
        (0.0, 0.25),
        (0.25, 0.5),
        (0.5, 0.75),
        (0.75, 1.0),
    ]
    assert [(row["start"], row["end"]) for row in rows[4:]] == [(0.0, 0.5), (0.5, 1.0)]
    colour = spec["encoding"]["color"]["scale"]
    assert colour == {"scheme": "reds", "domain": [0, 3.0]}
    assert spec["height"] == 2 * 36
    # The colour legend lies below the strips: beside two strips its "0" was cut off.
    assert spec["encoding"]["color"]["legend"]["orient"] == "bottom"
    negative = activation_strip(frame.assign(activation=frame["activation"] - 1)).to_dict()
    scale = negative["encoding"]["color"]["scale"]
    assert scale["domain"] == [-2.0, 2.0] and scale["domainMid"] == 0
    assert "No hidden layers" in json.dumps(activation_strip(frame.iloc[:0]).to_dict())
