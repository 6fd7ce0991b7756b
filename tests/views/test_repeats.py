"""explorer.views.repeats: seeds as a frame and a spread, groups of seeds compared, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from explorer.architecture import total_parameters
from explorer.views import repeats, stats
from tests.views.records import REPEAT_BASE, both_groups, group_a, group_b, run_record

# -- the runs ----------------------------------------------------------------------------------


def test_repeat_configs_are_the_config_with_seeds_0_to_n_minus_1() -> None:
    configs = repeats.repeat_configs(REPEAT_BASE.replace(seed=7), 4)
    assert [config.seed for config in configs] == [0, 1, 2, 3]
    assert {config.replace(seed=0) for config in configs} == {REPEAT_BASE}


@pytest.mark.parametrize("n", [0, 1, 11, 2.0, True, "3"])
def test_repeat_configs_refuses_other_counts(n) -> None:
    with pytest.raises(ValueError, match=r"Repeats must be a whole number from 2 to 10 seeds"):
        repeats.repeat_configs(REPEAT_BASE, n)


def test_run_status_in_five_words() -> None:
    config = REPEAT_BASE
    assert repeats.run_status(None) == "pending"
    statuses = ["queued", "running", "complete", "stopped", "failed", "interrupted", "damaged"]
    words = [repeats.run_status(run_record(config, status, test=[0.9])) for status in statuses]
    assert words == ["pending", "running", "complete", "stopped", "failed", "failed", "failed"]


def test_seeds_frame_has_a_row_per_seed_with_pending_ones_empty() -> None:
    frame = repeats.seeds_frame(group_a() | {REPEAT_BASE.replace(seed=3): None}, "A")
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
    assert frame["parameters"].tolist() == [total_parameters(REPEAT_BASE)] * 4


def test_a_stopped_run_gives_no_figures() -> None:
    stopped = run_record(REPEAT_BASE, "stopped", test=[0.9])
    row = repeats.seeds_frame({REPEAT_BASE: stopped}).iloc[0]
    assert row["status"] == "stopped" and math.isnan(row["test_accuracy"])


def test_best_epoch_is_the_first_highest_and_skips_missing_scores() -> None:
    record = run_record(REPEAT_BASE, test=[0.9, math.nan, 0.95, 0.95, 0.93])
    values = repeats.run_values(REPEAT_BASE, record)
    assert values["best_epoch"] == 3 and values["best_minus_last"] == pytest.approx(0.02)


# -- summaries ---------------------------------------------------------------------------------


def test_headline_by_hand() -> None:
    frame = repeats.seeds_frame(group_a(), "A")
    # Mean of 0.96 and 0.98 is 0.97; sample SD √((0.01² + 0.01²) / 1) = 0.0141.
    summary = repeats.metric_summary(frame)
    assert (summary.n, summary.mean) == (2, pytest.approx(0.97))
    assert summary.std == pytest.approx(0.01 * math.sqrt(2))
    assert repeats.headline(frame) == "97.0 % ± 1.4 (n = 2) · 1 still to train"
    nothing = repeats.seeds_frame(dict.fromkeys(repeats.repeat_configs(REPEAT_BASE, 3)))
    assert repeats.headline(nothing) == "— · 3 still to train"
    finished = repeats.seeds_frame(group_b(), "B")
    assert repeats.headline(finished) == "98.0 % ± 0.5 (n = 3)"
    assert repeats.headline(finished, "train_seconds") == "13.0 s ± 1.0 (n = 3)"
    assert (
        repeats.headline(finished, "parameters")
        == f"{total_parameters(REPEAT_BASE.replace(hidden1=128)):,} (n = 3)"
    )


def test_summary_frame_has_one_row_per_group() -> None:
    frame = repeats.summary_frame(both_groups())
    assert frame["group"].tolist() == ["A", "B"]
    assert frame["runs"].tolist() == [3, 3] and frame["n"].tolist() == [2, 3]
    assert frame["low"].tolist() == pytest.approx([0.97 - 0.01 * math.sqrt(2), 0.975])
    assert frame["high"].tolist() == pytest.approx([0.97 + 0.01 * math.sqrt(2), 0.985])


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
    config = REPEAT_BASE
    band = repeats.band_frame({config: run_record(config, test=[0.9, 0.95])})
    assert band["n"].unique().tolist() == [1]
    assert band["std"].isna().all() and band["low"].isna().all()
    assert repeats.band_frame({config: None}).empty


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
    assert (
        repeats.best_last_text(repeats.seeds_frame({REPEAT_BASE: None})) == "No finished run yet."
    )


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
