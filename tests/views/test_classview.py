"""The class view's pure parts: the Pareto front, the parallel axes' scaling and what a brush
keeps, each against hand-computed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.config import TrainingConfig
from explorer.views import classview


def frame_of(configs_and_accuracies) -> pd.DataFrame:
    """A runs frame as runs_frame makes it, without a store."""
    rows = []
    for index, (config, accuracy) in enumerate(configs_and_accuracies):
        rows.append(
            {
                "run_id": f"{index:016x}",
                "label": config.label(),
                "data": "sample",
                "created_at": float(index),
                "accuracy": accuracy,
                "parameters": 1000 * (index + 1),
                "train_seconds": 1.0 + index,
                **{name: getattr(config, name) for name in classview.SETTINGS},
            }
        )
    return pd.DataFrame(rows)


def test_the_front_keeps_the_runs_nothing_beats_on_both():
    accuracy = [0.80, 0.85, 0.83, 0.90, 0.90, 0.70]
    cost = [10, 20, 30, 40, 50, 5]
    # 5 is cheapest; 10 beats it; 20 beats 10; 30 is beaten by 20; 40 beats 20; 50 ties 40's
    # accuracy at more cost.
    assert list(classview.pareto_mask(accuracy, cost)) == [True, True, False, True, False, True]


def test_a_run_with_an_unknown_cost_is_not_on_the_front():
    assert list(classview.pareto_mask([0.9, 0.8], [np.nan, 1.0])) == [False, True]


def test_parallel_axes_scale_numbers_linearly_the_learning_rate_by_log_and_categories_evenly():
    runs = frame_of(
        [
            (TrainingConfig(hidden1=10, learning_rate=0.001, optimizer="sgd"), 0.5),
            (TrainingConfig(hidden1=20, learning_rate=0.01, optimizer="adam"), 0.7),
            (TrainingConfig(hidden1=50, learning_rate=0.1, optimizer="rmsprop"), 0.9),
        ]
    )
    axes = classview.parallel_axes(runs)
    assert axes == ["hidden1", "learning_rate", "optimizer", "accuracy"]
    scaled, ticks = classview.parallel_frame(runs, axes)
    assert list(scaled["p_hidden1"]) == pytest.approx([0.0, 0.25, 1.0])
    assert list(scaled["p_learning_rate"]) == pytest.approx([0.0, 0.5, 1.0])
    # Categories in the page's order (sgd, adam, rmsprop), evenly spaced.
    assert list(scaled["p_optimizer"]) == pytest.approx([0.0, 0.5, 1.0])
    assert list(scaled["p_accuracy"]) == pytest.approx([0.0, 0.5, 1.0])
    learning_rate_ticks = ticks[ticks["axis_index"] == 1]["text"].tolist()
    assert learning_rate_ticks == ["0.001", "0.01", "0.1"]


def test_a_brush_over_one_axis_keeps_the_runs_that_pass_there():
    runs = frame_of(
        [(TrainingConfig(hidden1=h), accuracy) for h, accuracy in [(10, 0.5), (20, 0.6), (30, 0.9)]]
    )
    axes = classview.parallel_axes(runs)  # hidden1, accuracy
    # Over the accuracy axis (index 1), the upper half: only the 0.9 run (scaled 1.0).
    kept = classview.brushed_runs(runs, axes, {"axis_index": [0.8, 1.2], "position": [0.5, 1]})
    assert list(kept["accuracy"]) == [0.9]
    # Over both axes, the lower half: hidden1 10 (0.0) and 20 (0.5) with accuracy 0.0, 0.25.
    both = classview.brushed_runs(runs, axes, {"axis_index": [-0.2, 1.2], "position": [0, 0.5]})
    assert list(both["hidden1"]) == [10, 20]
    # Between the axes: no axis spanned, nothing filtered.
    between = classview.brushed_runs(runs, axes, {"axis_index": [0.3, 0.6], "position": [0, 0.1]})
    assert len(between) == 3


def test_a_scatter_brush_keeps_the_runs_inside_it():
    runs = frame_of([(TrainingConfig(hidden1=h), 0.5 + h / 100) for h in (10, 20, 30)])
    # parameters are 1000, 2000, 3000; accuracy 60, 70, 80 %.
    kept = classview.scatter_brushed(
        runs, "parameters", {"parameters": [1500, 3500], "accuracy_percent": [65, 75]}
    )
    assert list(kept["hidden1"]) == [20]


def test_the_charts_build_for_a_few_runs():
    runs = frame_of([(TrainingConfig(hidden1=h, seed=h % 3), 0.5 + h / 100) for h in range(1, 9)])
    runs["pareto_parameters"] = classview.pareto_mask(runs["accuracy"], runs["parameters"])
    spec = classview.scatter_chart(runs, "parameters", "seed").to_dict()
    names = {param["name"] for param in spec["params"]}
    assert names == {classview.SCATTER_BRUSH, classview.SCATTER_CLICK}
    parallel = classview.parallel_chart(runs, classview.parallel_axes(runs)).to_dict()
    assert parallel["params"][0]["name"] == classview.PARALLEL_BRUSH
    best = pd.DataFrame(
        [("class", 1, 0.5), ("class", 2, 0.6), ("machine", 1, 0.55)],
        columns=["series", "runs", "best_public_accuracy"],
    )
    assert classview.best_so_far_chart(best).to_dict()["layer"]


def test_the_brushes_are_described_and_every_mark_keeps_its_own_description():
    """The config's mark description names the two brush rectangles (axe's svg-img-alt), and
    Vega-Lite would give it to every mark without a description of its own or aria=False."""
    runs = frame_of([(TrainingConfig(hidden1=h, seed=h % 3), 0.5 + h / 100) for h in range(1, 9)])
    runs["pareto_parameters"] = classview.pareto_mask(runs["accuracy"], runs["parameters"])
    charts = [
        classview.scatter_chart(runs, "parameters", "seed").to_dict(),
        classview.parallel_chart(runs, classview.parallel_axes(runs)).to_dict(),
    ]
    for spec in charts:
        assert spec["config"]["mark"]["description"] == classview.BRUSH_DESCRIPTION
        marks = [layer["mark"] for layer in spec["layer"]]
        assert len(marks) >= 2
        for mark in marks:
            assert mark.get("aria") is False or "description" in mark, mark
    scatter_points = charts[0]["layer"][1]["mark"]
    assert scatter_points["description"] == {"expr": classview.POINT_DESCRIPTION}
