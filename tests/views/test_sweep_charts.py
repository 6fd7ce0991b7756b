"""explorer.views.sweep_charts: a sweep's cells as a line or a heatmap, and what accuracy costs."""

from __future__ import annotations

import math
import re

import pytest

from explorer.views import sweep_charts, sweeps
from explorer.views.sweeps import SweepSpec
from tests.views.records import SWEEP_GRID, half_done_sweep, run_record


def layer_rows(spec: dict, layer: dict) -> list[dict]:
    return spec["datasets"][(layer.get("data") or spec["data"])["name"]]


# -- the pictures ------------------------------------------------------------------------------


def test_heatmap_cells_numbers_and_pending_cells() -> None:
    frame = sweeps.sweep_frame(SWEEP_GRID, half_done_sweep())
    spec = sweep_charts.sweep_chart(SWEEP_GRID, frame).to_dict()
    assert spec["width"] == "container"
    cells, numbers = spec["layer"]
    assert cells["mark"]["type"] == "rect" and numbers["mark"]["type"] == "text"
    encoding = cells["encoding"]
    assert encoding["x"]["field"] == "hidden1" and encoding["x"]["sort"] == [16, 32, 64]
    assert encoding["y"]["field"] == "epochs" and encoding["y"]["sort"] == [3, 1]  # big at the top
    rows = layer_rows(spec, numbers)
    assert len(rows) == 6  # pending cells are drawn too
    assert [row["label"] for row in rows] == ["96.0", "97.0", "…", "96.0", "…", "…"]
    assert [row["waiting"] for row in rows] == [False, False, True, False, True, True]
    # Pending cells are grey: the colour is conditioned on "waiting" first. Its field is never
    # null (Vega-Lite would drop such a cell rather than grey it).
    assert encoding["color"]["condition"] == {
        "test": "datum.waiting",
        "value": sweep_charts.PENDING_FILL,
    }
    assert encoding["color"]["field"] == "shade"
    assert [row["shade"] for row in rows] == pytest.approx([0.96, 0.97, 0.8, 0.96, 0.8, 0.8])
    # The text's colour is values only: a second colour scale in the layer would be merged with
    # the fill's and break the chart in the browser.
    assert numbers["encoding"]["color"] == {
        "condition": [
            {"test": "datum.waiting", "value": sweep_charts.PENDING_INK},
            {"test": "datum.dark", "value": "white"},
        ],
        "value": "black",
    }


def test_heatmap_colour_domain_is_fixed_whatever_is_done() -> None:
    def scale_of(records: dict) -> dict:
        spec = sweep_charts.sweep_chart(
            SWEEP_GRID, sweeps.sweep_frame(SWEEP_GRID, records)
        ).to_dict()
        return spec["layer"][0]["encoding"]["color"]["scale"]

    nothing, some = scale_of({}), scale_of(half_done_sweep())
    assert nothing == some
    assert some["domain"] == [0.8, 1.0] and some["clamp"] is True and some["scheme"] == "viridis"


@pytest.mark.parametrize("metric", list(sweep_charts.COLOUR_SCALES))
def test_every_metric_has_a_fixed_domain(metric) -> None:
    spec = sweep_charts.sweep_chart(
        SWEEP_GRID, sweeps.sweep_frame(SWEEP_GRID, half_done_sweep(), metric)
    ).to_dict()
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    assert scale["domain"] == list(sweep_charts.COLOUR_SCALES[metric].domain)
    low, high = scale["domain"]
    assert low < high


def test_parameter_domain_spans_every_network_the_page_allows() -> None:
    low, high = sweep_charts.COLOUR_SCALES["parameters"].domain
    assert low == 784 * 1 + 1 + 1 * 10 + 10
    assert high == 784 * 1024 + 1024 + 1024 * 512 + 512 + 512 * 10 + 10


def test_heatmap_click_selects_a_cell_by_its_knobs() -> None:
    spec = sweep_charts.sweep_chart(
        SWEEP_GRID, sweeps.sweep_frame(SWEEP_GRID, half_done_sweep())
    ).to_dict()
    (selection,) = spec["params"]
    assert selection["name"] == "cell"
    assert selection["select"] == {"type": "point", "fields": ["hidden1", "epochs"], "on": "click"}
    assert "tooltip" not in spec["layer"][1]["encoding"]  # clicks on numbers reach the cell


def test_heatmap_labels_and_text_colours() -> None:
    label = sweep_charts._cell_label
    assert label("test_accuracy", 0.9781, "complete") == "97.8"
    assert label("gap", 0.012, "complete") == "+1.2" and label("gap", -0.004, "complete") == "−0.4"
    assert label("test_loss", 0.08123, "complete") == "0.081"
    assert label("parameters", 318010, "complete") == "318k"
    assert label("parameters", 1333770, "complete") == "1.3M"
    assert label("train_seconds", 12.4, "complete") == "12 s"
    assert label("test_accuracy", math.nan, "running") == "…"
    assert label("test_accuracy", math.nan, "failed") == "failed"
    accuracy = sweep_charts.COLOUR_SCALES["test_accuracy"]
    # viridis is dark (purple) at the low end of the domain and bright (yellow) at the top.
    assert sweep_charts._is_dark(accuracy, 0.82)
    assert sweep_charts._is_dark(accuracy, 0.5)  # clamped to the end colour
    assert not sweep_charts._is_dark(accuracy, 0.98)
    assert not sweep_charts._is_dark(accuracy, math.nan)
    loss = sweep_charts.COLOUR_SCALES["test_loss"]  # reversed: a large loss is dark
    assert sweep_charts._is_dark(loss, 0.5) and not sweep_charts._is_dark(loss, 0.05)
    gap = sweep_charts.COLOUR_SCALES["gap"]  # diverging: dark at both ends
    assert sweep_charts._is_dark(gap, -0.05) and sweep_charts._is_dark(gap, 0.05)
    assert not sweep_charts._is_dark(gap, 0.0)
    seconds = sweep_charts.COLOUR_SCALES["train_seconds"]  # log: 1 s … 1000 s, dark above 63 s
    assert sweep_charts._is_dark(seconds, 200) and not sweep_charts._is_dark(seconds, 20)


def test_one_knob_is_a_line_with_error_bars_on_a_log_axis() -> None:
    spec_of_sweep = SweepSpec.parse("learning_rate:0.001,0.01,0.1", seeds=2)
    configs = sweeps.sweep_configs(spec_of_sweep)
    records = {config: run_record(config, test=[0.9 + config.seed / 100]) for config in configs[:4]}
    frame = sweeps.sweep_frame(spec_of_sweep, records)
    spec = sweep_charts.sweep_chart(spec_of_sweep, frame).to_dict()
    assert spec["width"] == "container"
    bars, line, points, waiting = spec["layer"]
    assert bars["mark"]["type"] == "rule"
    assert (bars["encoding"]["y"]["field"], bars["encoding"]["y2"]["field"]) == ("low", "high")
    assert line["encoding"]["y"]["field"] == "mean"
    x = line["encoding"]["x"]
    assert x["scale"]["type"] == "log" and x["axis"]["values"] == [0.001, 0.01, 0.1]
    assert [row["mean"] for row in layer_rows(spec, points)] == pytest.approx([0.905, 0.905])
    assert [row["label"] for row in layer_rows(spec, waiting)] == ["…"]
    (selection,) = spec["params"]
    assert selection["name"] == "cell" and selection["select"]["fields"] == ["learning_rate"]


@pytest.mark.parametrize(
    ("knob", "scale"), [("train_fraction:0.1,1", "log"), ("hidden1:16,64", "linear")]
)
def test_log_axis_only_for_knobs_spanning_orders_of_magnitude(knob, scale) -> None:
    spec_of_sweep = SweepSpec.parse(knob)
    records = {
        config: run_record(config, test=[0.9]) for config in sweeps.sweep_configs(spec_of_sweep)
    }
    spec = sweep_charts.sweep_chart(
        spec_of_sweep, sweeps.sweep_frame(spec_of_sweep, records)
    ).to_dict()
    assert spec["layer"][1]["encoding"]["x"]["scale"]["type"] == scale


def test_a_choice_knob_is_drawn_in_its_order() -> None:
    spec_of_sweep = SweepSpec.parse("activation:tanh,relu")
    records = {
        config: run_record(config, test=[0.9]) for config in sweeps.sweep_configs(spec_of_sweep)
    }
    spec = sweep_charts.sweep_chart(
        spec_of_sweep, sweeps.sweep_frame(spec_of_sweep, records)
    ).to_dict()
    x = spec["layer"][1]["encoding"]["x"]
    assert x["type"] == "nominal" and x["sort"] == ["relu", "tanh"]


def test_a_line_without_finished_cells_draws_every_cell_as_pending() -> None:
    spec_of_sweep = SweepSpec.parse("hidden1:16,32")
    spec = sweep_charts.sweep_chart(spec_of_sweep, sweeps.sweep_frame(spec_of_sweep, {})).to_dict()
    (waiting,) = spec["layer"]
    rows = layer_rows(spec, waiting)
    assert [(row["hidden1"], row["label"], row["status"]) for row in rows] == [
        (16, "…", "pending"),
        (32, "…", "pending"),
    ]
    assert waiting["encoding"]["x"]["axis"]["values"] == [16, 32]
    assert "0 of 2 cells done · 2 waiting" in spec["title"]["subtitle"]


def tick_label_map(expression: str) -> dict[float, str]:
    """The value → label pairs of a `tick_labels` expression, read back from its text."""
    pairs = re.findall(r"datum\.value === (\S+) \? '([^']*)'", expression)
    return {float(value): label for value, label in pairs}


@pytest.mark.parametrize(
    ("knob", "labels"),
    [
        ("hidden1:16,32,64", ["16", "32", "64"]),
        ("learning_rate:0.001,0.01,0.1", ["0.001", "0.01", "0.1"]),
        ("batch_size:32,200,1000", ["32", "200", "1000"]),
    ],
    ids=["linear", "log-rate", "log-batch"],
)
def test_sweep_ticks_show_the_values_as_they_were_set(knob, labels) -> None:
    spec_of_sweep = SweepSpec.parse(knob)
    records = {
        config: run_record(config, test=[0.9]) for config in sweeps.sweep_configs(spec_of_sweep)
    }
    spec = sweep_charts.sweep_chart(
        spec_of_sweep, sweeps.sweep_frame(spec_of_sweep, records)
    ).to_dict()
    axis = spec["layer"][1]["encoding"]["x"]["axis"]
    # A format goes through the scale's tick format, which rounds to the step: "2e+1" for 16.
    assert "format" not in axis
    values = [float(value) for value in axis["values"]]
    assert tick_label_map(axis["labelExpr"]) == dict(zip(values, labels, strict=True))


def test_cost_chart_puts_finished_cells_at_their_parameter_count() -> None:
    frame = sweeps.sweep_frame(SWEEP_GRID, half_done_sweep())
    spec = sweep_charts.cost_chart(SWEEP_GRID, frame).to_dict()
    assert spec["width"] == "container"
    bars, points = spec["layer"]
    assert (bars["encoding"]["y"]["field"], bars["encoding"]["y2"]["field"]) == ("low", "high")
    assert points["encoding"]["x"]["field"] == "parameters"
    assert points["encoding"]["x"]["scale"]["type"] == "log"
    assert points["encoding"]["y"]["field"] == "mean"
    assert points["encoding"]["color"]["field"] == "hidden1"
    assert points["encoding"]["shape"]["field"] == "epochs"
    rows = layer_rows(spec, points)
    assert [(row["hidden1"], row["epochs"]) for row in rows] == [(16, 1), (16, 3), (32, 3)]
    assert spec["params"][0]["select"]["fields"] == ["hidden1", "epochs"]
    with pytest.raises(ValueError, match="test_accuracy"):
        sweep_charts.cost_chart(
            SWEEP_GRID, sweeps.sweep_frame(SWEEP_GRID, half_done_sweep(), "test_loss")
        )
