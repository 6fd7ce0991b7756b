"""explorer.views.repeat_charts: seeds as dots, learning curves as bands, best against last."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.views import repeat_charts, repeats
from tests.views.records import REPEAT_BASE, both_groups, group_a, group_b


def layers_of(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_seed_points_chart_draws_finished_seeds_mean_and_spread() -> None:
    spec = repeat_charts.seed_points_chart(both_groups()).to_dict()
    assert spec["width"] == "container"
    rule, tick, dots = spec["layer"]
    assert (rule["mark"]["type"], tick["mark"]["type"], dots["mark"]["type"]) == (
        "rule",
        "tick",
        "circle",
    )
    seeds = spec["datasets"][dots["data"]["name"]]
    assert [(row["group"], row["seed"]) for row in seeds] == [
        ("A", 0),
        ("A", 1),
        ("B", 0),
        ("B", 1),
        ("B", 2),
    ]
    spreads = spec["datasets"][rule["data"]["name"]]
    assert [row["text"] for row in spreads] == [
        "97.0 % ± 1.4 (n = 2) · 1 still to train",
        "98.0 % ± 0.5 (n = 3)",
    ]
    (selection,) = spec["params"]  # Altair lifts a layer's selection to the top
    assert selection["name"] == "run" and selection["select"]["fields"] == ["run_id"]
    assert selection["views"] == [dots["name"]]
    # Every layer zooms in on the same axis, which holds every dot and bar with a margin (a dot
    # at the edge was drawn half outside it).
    scales = [layer["encoding"]["x"]["scale"] for layer in spec["layer"]]
    assert all(scale == scales[0] for scale in scales) and scales[0]["nice"] is False
    low, high = scales[0]["domain"]
    drawn = [row["test_accuracy"] for row in seeds]
    drawn += [row[end] for row in spreads for end in ("low", "high")]
    margin = (max(drawn) - min(drawn)) / 10
    assert low == pytest.approx(min(drawn) - margin) and high == pytest.approx(max(drawn) + margin)


def test_seed_points_chart_of_one_group_shows_its_headline() -> None:
    spec = repeat_charts.seed_points_chart(repeats.seeds_frame(group_a())).to_dict()
    assert "y" not in spec["layer"][2]["encoding"]
    assert "97.0 % ± 1.4 (n = 2) · 1 still to train" in spec["title"]["subtitle"]


def test_seed_points_chart_without_finished_runs_says_so() -> None:
    frame = repeats.seeds_frame(dict.fromkeys(repeats.repeat_configs(REPEAT_BASE, 2)))
    spec = repeat_charts.seed_points_chart(frame).to_dict()
    assert spec["mark"]["type"] == "text"
    assert spec["datasets"][spec["data"]["name"]] == [
        {"message": "No finished run yet · 2 still to train"}
    ]


def test_learning_band_panels_draw_a_band_and_a_line_per_metric() -> None:
    panels = [
        panel.to_dict()
        for panel in repeat_charts.learning_band_panels(repeats.band_frame(group_a()))
    ]
    assert len(panels) == 2
    for panel, metric in zip(panels, ("Loss", "Accuracy"), strict=True):
        assert panel["width"] == "container"
        area, line = panel["layer"]
        assert area["mark"]["type"] == "area" and area["encoding"]["y2"]["field"] == "high"
        assert line["encoding"]["y"]["field"] == "mean"
        assert line["encoding"]["color"]["field"] == "split"
        assert area["transform"][0]["filter"] == f"(datum.metric === '{metric}')"
        # One legend for band and line: the same colour encoding on both.
        assert area["encoding"]["color"] == line["encoding"]["color"]
    several = pd.concat([repeats.band_frame(group_a(), "A"), repeats.band_frame(group_b(), "B")])
    area, line = repeat_charts.learning_band_panels(several)[1].to_dict()["layer"]
    assert line["encoding"]["color"]["field"] == "group"
    assert area["encoding"]["detail"]["field"] == "split"  # a band per group and split
    dashes = line["encoding"]["strokeDash"]
    assert dashes["field"] == "split"
    assert dashes["legend"]["symbolFillColor"] == "gray"  # else Vega draws invisible dashes
    assert (
        repeat_charts.learning_band_panels(repeats.band_frame({}))[0].to_dict()["mark"]["type"]
        == "text"
    )


def test_best_last_chart_joins_each_runs_best_and_last_epoch() -> None:
    spec = repeat_charts.best_last_chart(both_groups()).to_dict()
    assert spec["width"] == "container"
    joins, points = spec["layer"]
    assert joins["encoding"]["x"]["field"] == "last_test_accuracy"
    assert joins["encoding"]["x2"]["field"] == "best_test_accuracy"
    rows = spec["datasets"][points["data"]["name"]]
    assert len(rows) == 2 * 5  # best and last of the 5 finished runs
    first = [row for row in rows if row["run"] == "A · seed 0"]
    assert [(row["epoch_kind"], row["accuracy"], row["epoch"]) for row in first] == [
        ("Best epoch", 0.97, 2.0),
        ("Last epoch", 0.96, 3.0),
    ]
