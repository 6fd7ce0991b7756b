"""explorer.views.repeats: seeds of one config as a frame, a spread and charts, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.views import repeats, stats
from tests.views.records import run_record

BASE = TrainingConfig(hidden1=64, epochs=3)


def group_a() -> dict:
    """Seeds 0 and 1 complete (last test accuracy 0.96 and 0.98), seed 2 still running."""
    configs = repeats.repeat_configs(BASE, 3)
    return {
        configs[0]: run_record(configs[0], test=[0.95, 0.97, 0.96], train=[0.94, 0.97, 0.99]),
        configs[1]: run_record(configs[1], test=[0.95, 0.96, 0.98], train=[0.93, 0.96, 0.99]),
        configs[2]: run_record(configs[2], "running", test=[0.94]),
    }


def group_b() -> dict:
    """Three complete seeds of a wider network: 0.975, 0.980, 0.985 (mean 0.98, SD 0.005)."""
    configs = repeats.repeat_configs(BASE.replace(hidden1=128), 3)
    finals = [0.975, 0.980, 0.985]
    return {
        config: run_record(config, test=[0.97, final], seconds=12.0 + config.seed)
        for config, final in zip(configs, finals, strict=True)
    }


def both_groups() -> pd.DataFrame:
    frames = [repeats.seeds_frame(group_a(), "A"), repeats.seeds_frame(group_b(), "B")]
    return pd.concat(frames, ignore_index=True)


def layers_of(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


# -- the runs ----------------------------------------------------------------------------------


def test_repeat_configs_are_the_config_with_seeds_0_to_n_minus_1() -> None:
    configs = repeats.repeat_configs(BASE.replace(seed=7), 4)
    assert [config.seed for config in configs] == [0, 1, 2, 3]
    assert {config.replace(seed=0) for config in configs} == {BASE}


@pytest.mark.parametrize("n", [0, 1, 11, 2.0, True, "3"])
def test_repeat_configs_refuses_other_counts(n) -> None:
    with pytest.raises(ValueError, match=r"Repeats must be a whole number from 2 to 10 seeds"):
        repeats.repeat_configs(BASE, n)


def test_run_status_in_five_words() -> None:
    config = BASE
    assert repeats.run_status(None) == "pending"
    statuses = ["queued", "running", "complete", "stopped", "failed", "interrupted", "damaged"]
    words = [repeats.run_status(run_record(config, status, test=[0.9])) for status in statuses]
    assert words == ["pending", "running", "complete", "stopped", "failed", "failed", "failed"]


def test_seeds_frame_has_a_row_per_seed_with_pending_ones_empty() -> None:
    frame = repeats.seeds_frame(group_a() | {BASE.replace(seed=3): None}, "A")
    assert list(frame.columns) == list(repeats.SEED_COLUMNS)
    assert frame["seed"].tolist() == [0, 1, 2, 3]
    assert frame["status"].tolist() == ["complete", "complete", "running", "pending"]
    assert pd.isna(frame["run_id"].iloc[3]) and frame["run_id"].iloc[:3].notna().all()
    first = frame.iloc[0]
    assert first["test_accuracy"] == 0.96
    assert first["gap"] == pytest.approx(0.99 - 0.96)  # last epoch: train − test
    assert (first["best_epoch"], first["best_test_accuracy"]) == (2, 0.97)
    assert first["last_test_accuracy"] == 0.96
    assert first["best_minus_last"] == pytest.approx(0.01)
    assert frame.iloc[1]["best_epoch"] == 3 and frame.iloc[1]["best_minus_last"] == 0
    # Unfinished runs have no figures, but every row knows its network's size.
    assert frame.iloc[2:][["test_accuracy", "gap", "best_epoch"]].isna().all().all()
    assert frame["parameters"].tolist() == [total_parameters(BASE)] * 4


def test_a_stopped_run_gives_no_figures() -> None:
    stopped = run_record(BASE, "stopped", test=[0.9])
    row = repeats.seeds_frame({BASE: stopped}).iloc[0]
    assert row["status"] == "stopped" and math.isnan(row["test_accuracy"])


def test_best_epoch_is_the_first_highest_and_skips_missing_scores() -> None:
    record = run_record(BASE, test=[0.9, math.nan, 0.95, 0.95, 0.93])
    values = repeats.run_values(BASE, record)
    assert values["best_epoch"] == 3 and values["best_minus_last"] == pytest.approx(0.02)


# -- summaries ---------------------------------------------------------------------------------


def test_headline_by_hand() -> None:
    frame = repeats.seeds_frame(group_a(), "A")
    # Mean of 0.96 and 0.98 is 0.97; sample SD √((0.01² + 0.01²) / 1) = 0.0141.
    summary = repeats.metric_summary(frame)
    assert (summary.n, summary.mean) == (2, pytest.approx(0.97))
    assert summary.std == pytest.approx(0.01 * math.sqrt(2))
    assert repeats.headline(frame) == "97.0 % ± 1.4 (n = 2) · 1 still to train"
    nothing = repeats.seeds_frame(dict.fromkeys(repeats.repeat_configs(BASE, 3)))
    assert repeats.headline(nothing) == "— · 3 still to train"
    finished = repeats.seeds_frame(group_b(), "B")
    assert repeats.headline(finished) == "98.0 % ± 0.5 (n = 3)"
    assert repeats.headline(finished, "train_seconds") == "13.0 s ± 1.0 (n = 3)"
    assert (
        repeats.headline(finished, "parameters")
        == f"{total_parameters(BASE.replace(hidden1=128)):,} (n = 3)"
    )


def test_summary_frame_has_one_row_per_group() -> None:
    frame = repeats.summary_frame(both_groups())
    assert frame["group"].tolist() == ["A", "B"]
    assert frame["runs"].tolist() == [3, 3] and frame["n"].tolist() == [2, 3]
    assert frame["low"].tolist() == pytest.approx([0.97 - 0.01 * math.sqrt(2), 0.975])
    assert frame["high"].tolist() == pytest.approx([0.97 + 0.01 * math.sqrt(2), 0.985])


def test_seed_points_chart_draws_finished_seeds_mean_and_spread() -> None:
    spec = repeats.seed_points_chart(both_groups()).to_dict()
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
    spec = repeats.seed_points_chart(repeats.seeds_frame(group_a())).to_dict()
    assert "y" not in spec["layer"][2]["encoding"]
    assert "97.0 % ± 1.4 (n = 2) · 1 still to train" in spec["title"]["subtitle"]


def test_seed_points_chart_without_finished_runs_says_so() -> None:
    frame = repeats.seeds_frame(dict.fromkeys(repeats.repeat_configs(BASE, 2)))
    spec = repeats.seed_points_chart(frame).to_dict()
    assert spec["mark"]["type"] == "text"
    assert spec["datasets"][spec["data"]["name"]] == [
        {"message": "No finished run yet · 2 still to train"}
    ]


# -- learning curves as bands ------------------------------------------------------------------


def test_band_frame_averages_the_seeds_that_reached_each_epoch() -> None:
    band = repeats.band_frame(group_a(), "A")
    test = band[(band["metric"] == "Accuracy") & (band["split"] == "test")].set_index("epoch")
    # Epoch 1: 0.95, 0.95 and the running seed's 0.94; epochs 2 and 3: the two finished seeds.
    assert test["n"].tolist() == [3, 2, 2]
    assert test.loc[1, "mean"] == pytest.approx((0.95 + 0.95 + 0.94) / 3)
    assert test.loc[1, "std"] == pytest.approx(
        math.sqrt((2 * (0.01 / 3) ** 2 + (0.02 / 3) ** 2) / 2)
    )
    assert test.loc[3, "mean"] == pytest.approx(0.97)
    assert test.loc[3, "low"] == pytest.approx(0.97 - 0.01 * math.sqrt(2))
    assert band["seeds"].unique().tolist() == [3]


def test_band_frame_of_one_seed_has_no_band() -> None:
    config = BASE
    band = repeats.band_frame({config: run_record(config, test=[0.9, 0.95])})
    assert band["n"].unique().tolist() == [1]
    assert band["std"].isna().all() and band["low"].isna().all()
    assert repeats.band_frame({config: None}).empty


def test_learning_band_panels_draw_a_band_and_a_line_per_metric() -> None:
    panels = [
        panel.to_dict() for panel in repeats.learning_band_panels(repeats.band_frame(group_a()))
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
    area, line = repeats.learning_band_panels(several)[1].to_dict()["layer"]
    assert line["encoding"]["color"]["field"] == "group"
    assert area["encoding"]["detail"]["field"] == "split"  # a band per group and split
    dashes = line["encoding"]["strokeDash"]
    assert dashes["field"] == "split"
    assert dashes["legend"]["symbolFillColor"] == "gray"  # else Vega draws invisible dashes
    assert (
        repeats.learning_band_panels(repeats.band_frame({}))[0].to_dict()["mark"]["type"] == "text"
    )


# -- best epoch against last epoch -------------------------------------------------------------


def test_best_last_by_hand() -> None:
    frame = repeats.seeds_frame(group_a(), "A")
    # Seed 0 peaked at 0.97 and ended at 0.96; seed 1 ended on its best, 0.98.
    by_seed = frame.set_index("seed")
    assert by_seed.loc[[0, 1], "best_test_accuracy"].tolist() == pytest.approx([0.97, 0.98])
    assert by_seed.loc[[0, 1], "last_test_accuracy"].tolist() == pytest.approx([0.96, 0.98])
    # Drops of 1 and 0 points: mean 0.50, standard deviation 0.01 / sqrt(2) = 0.71 points.
    assert by_seed.loc[[0, 1], "best_minus_last"].tolist() == pytest.approx([0.01, 0.0])
    assert repeats.best_last_text(frame) == (
        "The last epoch is 0.50 ± 0.71 percentage points below the best one (n = 2; 1 of 2 "
        "past their best): training went on past its best point."
    )
    assert repeats.best_last_text(repeats.seeds_frame(group_b())) == (
        "The last epoch was the best one in all 3 runs: no sign of overfitting yet."
    )
    assert repeats.best_last_text(repeats.seeds_frame({BASE: None})) == "No finished run yet."


def test_best_last_chart_joins_each_runs_best_and_last_epoch() -> None:
    spec = repeats.best_last_chart(both_groups()).to_dict()
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


# -- comparing groups --------------------------------------------------------------------------


def test_group_deltas_by_hand() -> None:
    frame = repeats.group_deltas(both_groups(), baseline="A")
    rows = frame.set_index(["group", "metric"])
    accuracy = rows.loc[("B", "test_accuracy")]
    assert accuracy["text"] == "98.0 % ± 0.5 (n = 3)"
    assert accuracy["delta"] == pytest.approx(0.01)
    # √(SD_A²/n_A + SD_B²/n_B) = √(0.0002/2 + 0.000025/3)
    spread = math.sqrt(0.0002 / 2 + 0.000025 / 3)
    assert accuracy["spread"] == pytest.approx(spread)
    assert accuracy["delta_text"] == "+1.00 percentage points ± 1.04"
    assert accuracy["p"] == pytest.approx(stats.welch([0.96, 0.98], [0.975, 0.98, 0.985]).p)
    assert accuracy["better"] is None  # within the noise
    seconds = rows.loc[("B", "train_seconds")]  # 10 s each against 12, 13, 14 s
    assert seconds["delta"] == pytest.approx(3.0) and seconds["better"] is False
    assert seconds["delta_text"] == f"+3.0 s ± {math.sqrt(1 / 3):.1f}"
    assert rows.loc[("B", "parameters"), "better"] is None  # neither better nor worse
    baseline = frame[frame["group"] == "A"]
    assert baseline["delta"].tolist() == [0.0] * len(repeats.DELTA_METRICS)
    assert baseline["p"].isna().all() and (baseline["delta_text"] == "").all()


def test_group_verdicts_use_the_seeds_test_accuracies() -> None:
    verdicts = repeats.group_verdicts(both_groups(), baseline="A")
    assert verdicts == {"B": stats.verdict([0.96, 0.98], [0.975, 0.98, 0.985])}
    assert verdicts["B"].startswith("Within the noise (n = 2 and 3")
    assert verdicts["B"].endswith("a difference of +1.00 percentage points could be luck.")
    assert stats.TEST_EXPLANATION in repeats.COMPARISON_HELP


@pytest.mark.parametrize(
    ("kind", "delta", "spread", "text"),
    [
        ("percent", 0.0045, 0.002, "+0.45 percentage points ± 0.20"),
        ("decimal", -0.012, 0.004, "−0.0120 ± 0.0040"),
        ("seconds", 1.23, math.nan, "+1.2 s"),
        ("integer", 12340, 0.0, "+12,340"),
        ("percent", math.nan, math.nan, "—"),
    ],
)
def test_format_delta(kind, delta, spread, text) -> None:
    assert repeats.format_delta(kind, delta, spread) == text
