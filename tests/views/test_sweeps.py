"""explorer.views.sweeps: the sweep as a link, as a grid of runs and as a frame."""

from __future__ import annotations

import math
import re

import pytest

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.views import sweeps
from explorer.views.sweeps import Knob, SweepSpec
from tests.views.records import SWEEP_BASE, SWEEP_GRID, half_done_sweep

# -- the spec and its link ---------------------------------------------------------------------


def test_parse_sorts_the_values_and_counts_the_runs() -> None:
    spec = SweepSpec.parse(" hidden1: 64, 16 ,32 ; EPOCHS:3,1 ", SWEEP_BASE, seeds=2)
    assert spec.knobs == (Knob("hidden1", (16, 32, 64)), Knob("epochs", (1, 3)))
    assert spec == SWEEP_GRID
    assert spec.names == ("hidden1", "epochs")
    assert spec.runs == 3 * 2 * 2
    assert spec.cells[:3] == [
        {"hidden1": 16, "epochs": 1},
        {"hidden1": 16, "epochs": 3},
        {"hidden1": 32, "epochs": 1},
    ]


def test_values_are_parsed_like_the_page_parses_them() -> None:
    spec = SweepSpec.parse("learning_rate:1e-1,0.001,0.01;optimizer:ADAM,sgd")
    assert spec.knobs[0].values == (0.001, 0.01, 0.1)
    assert spec.knobs[1].values == ("sgd", "adam")  # the page's order of the optimizers
    assert spec.text() == "learning_rate:0.001,0.01,0.1;optimizer:sgd,adam"
    built = SweepSpec((("learning_rate", [0.1, 0.01, 0.001]), ("optimizer", ["adam", "sgd"])))
    assert built == spec


@pytest.mark.parametrize(
    "spec",
    [
        SWEEP_GRID,
        SweepSpec.parse("learning_rate:0.0001,0.003,0.1", TrainingConfig(optimizer="adam")),
        SweepSpec.parse("train_fraction:0.05,0.2,1;activation:tanh,relu", seeds=10),
        SweepSpec.parse("hidden2:0,20", TrainingConfig(learning_rate=0.0123456789, seed=4)),
        SweepSpec.parse("batch_size:32,60000", TrainingConfig(hidden1=128, precision="bfloat16")),
    ],
)
def test_the_link_round_trips(spec) -> None:
    query = spec.to_query()
    assert all(isinstance(value, str) for value in query.values())
    assert SweepSpec.from_query(query) == spec
    # The page hands over lists when a parameter is repeated: the last one counts.
    assert SweepSpec.from_query({name: [value] for name, value in query.items()}) == spec


def test_the_link_format() -> None:
    assert SWEEP_GRID.to_query() == {
        "sweep": "hidden1:16,32,64;epochs:1,3",
        "seeds": "2",
        "hidden2": "0",
        "epochs": "3",
    }
    adam = SweepSpec.parse("hidden1:16,32", TrainingConfig(optimizer="adam"))
    assert adam.to_query() == {"sweep": "hidden1:16,32", "optimizer": "adam"}
    spec = SweepSpec.from_query({"sweep": "epochs:1,10", "view": "explore", "hidden2": "0"})
    assert spec.base == TrainingConfig(hidden2=0) and spec.seeds == 1
    assert SweepSpec.from_query({"view": "explore"}) is None
    assert SweepSpec.from_query({"sweep": " "}) is None
    given = SweepSpec.from_query({"sweep": "epochs:1,10", "hidden2": "0"}, base=SWEEP_BASE)
    assert given.base == SWEEP_BASE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "hiden1:16,32",
            "The sweep names 'hiden1', which is not a setting. Settings you can sweep: hidden1, ",
        ),
        ("seed:1,2", "The seed is not swept like a setting: add seeds=3"),
        (
            "hidden1:0,16",
            "The sweep's value '0' for hidden1 is not allowed: "
            "hidden1 must be a whole number from 1 to 1,024",
        ),
        ("learning_rate:0.01,fast", "The sweep's value 'fast' for learning_rate is not allowed"),
        (
            "optimizer:sgd,adamw",
            "The sweep's value 'adamw' for optimizer is not allowed: "
            "optimizer must be one of sgd, adam, rmsprop",
        ),
        (
            "hidden1:16",
            "The sweep gives hidden1 only one value (16): give at least two, separated by "
            "commas, e.g. hidden1:16,32,64.",
        ),
        ("epochs:", "The sweep gives epochs no values: give at least two"),
        ("hidden1:16,16.0", "The sweep lists 16 twice for hidden1."),
        (
            "hidden1=16,32",
            "Could not read the sweep 'hidden1=16,32': write each setting as name:value,value",
        ),
        (
            "hidden1:16,32;epochs:1,2;batch_size:1,2",
            "A sweep varies one or two settings; this one names 3 (hidden1, epochs, batch_size).",
        ),
        ("hidden1:16,32;hidden1:64,128", "The sweep names hidden1 twice."),
        ("", "The sweep is empty"),
        (
            "hidden1:" + ",".join(map(str, range(1, 62))),
            "This sweep would train 61 runs (61 values); the limit is 60.",
        ),
        (
            "hidden1:" + ",".join(map(str, range(1, 80))),
            "The sweep is too long (235 characters; at most 200).",
        ),
    ],
)
def test_bad_sweeps_say_what_is_wrong(text, message) -> None:
    with pytest.raises(ValueError) as raised:
        SweepSpec.parse(text)
    assert str(raised.value).startswith(message)


def test_too_many_runs_counts_the_seeds() -> None:
    assert SweepSpec.parse("hidden1:16,32,64,128;epochs:1,2,3,4,5", seeds=3).runs == 60
    with pytest.raises(ValueError) as raised:
        SweepSpec.parse("hidden1:16,32,64,128;epochs:1,2,3,4,5,6", seeds=3)
    assert str(raised.value) == (
        "This sweep would train 72 runs (4 × 6 values × 3 seeds); the limit is 60. "
        "Use fewer values or fewer seeds, or split it into several sweeps (stored runs are reused)."
    )


@pytest.mark.parametrize("seeds", ["0", "11", "three", "-2"])
def test_bad_seeds_in_a_link(seeds) -> None:
    with pytest.raises(ValueError, match=r"^seeds must be a whole number from 1 to 10"):
        SweepSpec.from_query({"sweep": "hidden1:16,32", "seeds": seeds})


@pytest.mark.parametrize("seeds", ["0,2", "1,2,3", "0,1,,2", "0,1,2,3,4,5,6,7,8,9,10", "0"])
def test_a_seeds_list_must_be_0_to_n_minus_1(seeds) -> None:
    with pytest.raises(ValueError, match=r"^seeds must be a whole number from 1 to 10 \(3: seeds"):
        sweeps.parse_seeds(seeds)


def test_seeds_are_a_count_or_the_list_it_stands_for() -> None:
    assert sweeps.parse_seeds("3") == sweeps.parse_seeds("0,1,2") == sweeps.parse_seeds(" 0, 1,2")
    assert sweeps.parse_seeds("") == 1
    counted = SweepSpec.from_query({"sweep": "hidden1:16,32", "seeds": "3"})
    listed = SweepSpec.from_query({"sweep": "hidden1:16,32", "seeds": "0,1,2"})
    assert counted == listed and counted.seeds == 3
    assert listed.to_query()["seeds"] == "3"


def test_the_command_lines_settings_are_the_same_sweep_as_a_link() -> None:
    settings = {"hidden1": "64,16,32", "epochs": "3,1", "hidden2": "0", "batch_size": None}
    spec = SweepSpec.from_settings(settings, seeds="0,1")
    assert spec == SweepSpec.parse("hidden1:16,32,64;epochs:1,3", TrainingConfig(hidden2=0), 2)
    assert spec.base.hidden2 == 0 and spec.runs == 12


@pytest.mark.parametrize(
    ("settings", "seeds", "message"),
    [
        (
            {"hidden1": "8,16", "epochs": "1,2", "batch_size": "32,64"},
            "",
            "A sweep varies one or two settings; this one names 3",
        ),
        ({"hidden1": "8,16,32,64,128,256,512", "epochs": "1,2,3"}, "3", "the limit is 60"),
        ({"hidden1": "8,16"}, "5,7", "seeds must be a whole number from 1 to 10"),
        ({"hidden2": "0"}, "", "The sweep gives hidden2 only one value"),
    ],
    ids=["three settings", "over the cap", "other seeds", "nothing swept"],
)
def test_the_command_line_has_the_links_limits(settings, seeds, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        SweepSpec.from_settings(settings, seeds=seeds)


def test_a_bad_base_in_a_link_is_the_configs_own_message() -> None:
    with pytest.raises(ValueError, match=r"^hidden2 must be a whole number from 0 to 512"):
        SweepSpec.from_query({"sweep": "hidden1:16,32", "hidden2": "-1"})


# -- the runs ----------------------------------------------------------------------------------


def test_sweep_configs_is_the_grid_times_the_seeds() -> None:
    configs = sweeps.sweep_configs(SWEEP_GRID)
    assert len(configs) == len(set(configs)) == 12
    assert [(c.hidden1, c.epochs, c.seed) for c in configs[:4]] == [
        (16, 1, 0),
        (16, 1, 1),
        (16, 3, 0),
        (16, 3, 1),
    ]
    assert all(config.hidden2 == 0 for config in configs)
    once = sweeps.sweep_configs(SweepSpec.parse("hidden1:16,32", SWEEP_BASE.replace(seed=5)))
    assert [config.seed for config in once] == [5, 5]


def test_sweeping_the_optimizer_gives_each_its_default_rate() -> None:
    configs = sweeps.sweep_configs(
        SweepSpec.parse("optimizer:sgd,adam", TrainingConfig(learning_rate=0.05))
    )
    assert [(c.optimizer, c.learning_rate) for c in configs] == [("sgd", 0.01), ("adam", 0.001)]


def test_cell_configs_of_a_clicked_cell() -> None:
    assert sweeps.cell_configs(SWEEP_GRID, {"hidden1": 32, "epochs": 3}) == [
        SWEEP_BASE.replace(hidden1=32, seed=0),
        SWEEP_BASE.replace(hidden1=32, seed=1),
    ]
    with pytest.raises(ValueError, match="not part of this sweep"):
        sweeps.cell_configs(SWEEP_GRID, {"hidden1": 48, "epochs": 3})
    with pytest.raises(ValueError, match="names hidden1, epochs"):
        sweeps.cell_configs(SWEEP_GRID, {"hidden1": 32})


def test_plan_runs_counts_what_is_stored_joined_and_queued() -> None:
    configs = sweeps.sweep_configs(SWEEP_GRID)
    # 6 complete, 1 running, 1 failed (trained again), 4 never submitted.
    plan = sweeps.plan_runs(configs, lambda config: 10.0 * config.epochs, half_done_sweep())
    assert (plan.runs, plan.stored, plan.training, plan.to_train) == (12, 6, 1, 5)
    # Queued: the failed 32 × 3 (30 s) and the four 64s (10, 10, 30, 30 s).
    assert plan.seconds == 110.0 and plan.wall_seconds == 110.0
    assert plan.text == "12 runs: 6 stored, 1 training, 5 to train, about 1 min 50 s"
    # Two trainers, longest first: 30 + 10 + 10 = 50 and 30 + 30 = 60.
    two = sweeps.plan_runs(
        configs, lambda config: 10.0 * config.epochs, half_done_sweep(), workers=2
    )
    assert two.wall_seconds == 60.0
    assert two.text.endswith("about 1 min 00 s with 2 trainers")
    assert sweeps.plan_runs(configs[:2], lambda config: 1.0, half_done_sweep()).text == (
        "2 runs: 2 stored, 0 training, 0 to train"
    )


# -- the frame: the grid as data ---------------------------------------------------------------


def test_sweep_frame_has_one_row_per_cell_with_pending_cells_present() -> None:
    frame = sweeps.sweep_frame(SWEEP_GRID, half_done_sweep())
    assert len(frame) == 6
    assert frame[["hidden1", "epochs"]].values.tolist() == [
        [16, 1],
        [16, 3],
        [32, 1],
        [32, 3],
        [64, 1],
        [64, 3],
    ]
    assert frame["status"].tolist() == [
        "complete",
        "complete",
        "running",
        "failed",
        "pending",
        "pending",
    ]
    assert frame["runs"].tolist() == [2] * 6
    assert frame["complete"].tolist() == [2, 2, 1, 1, 0, 0]
    assert frame["n"].tolist() == [2, 2, 0, 1, 0, 0]
    # 16 × 1: 0.95 and 0.97; mean 0.96, SD √(2 · 0.01² / 1) = 0.01414.
    first = frame.iloc[0]
    assert first["mean"] == pytest.approx(0.96)
    assert first["std"] == pytest.approx(0.01 * math.sqrt(2))
    assert (first["low"], first["high"]) == (
        pytest.approx(0.96 - 0.01 * math.sqrt(2)),
        pytest.approx(0.96 + 0.01 * math.sqrt(2)),
    )
    # A running cell shows nothing yet, although one of its seeds is done.
    assert math.isnan(frame.iloc[2]["mean"])
    # A failed seed leaves the other's figure, with n = 1 and no spread.
    assert frame.iloc[3]["mean"] == 0.96 and math.isnan(frame.iloc[3]["std"])
    assert frame.iloc[3]["low"] == frame.iloc[3]["high"] == 0.96
    assert frame.iloc[4:][["mean", "std", "low", "high"]].isna().all().all()
    assert frame["cell"].iloc[0] == "hidden1 = 16 · epochs = 1"
    assert len(frame["run_ids"].iloc[0]) == 2 and frame["run_ids"].iloc[5] == []
    assert frame["parameters"].tolist() == [
        total_parameters(SWEEP_BASE.replace(hidden1=h)) for h in (16, 16, 32, 32, 64, 64)
    ]
    assert sweeps.progress_text(frame) == "3 of 6 cells done · 1 training · 2 waiting · 1 failed"


def test_sweep_frame_metrics() -> None:
    records = half_done_sweep()
    gap = sweeps.sweep_frame(SWEEP_GRID, records, "gap")
    assert gap["metric"].unique().tolist() == ["gap"]
    assert gap.iloc[0]["mean"] == 0.0  # run_record's train accuracy equals its test accuracy
    seconds = sweeps.sweep_frame(SWEEP_GRID, records, "train_seconds")
    assert seconds.iloc[0]["mean"] == 10.0 and seconds.iloc[0]["std"] == 0.0
    loss = sweeps.sweep_frame(SWEEP_GRID, records, "test_loss")
    assert loss.iloc[1]["mean"] == pytest.approx(0.1)
    # Parameters need no training: known for every cell, pending ones too.
    parameters = sweeps.sweep_frame(SWEEP_GRID, records, "parameters")
    assert parameters["mean"].tolist() == parameters["parameters"].tolist()
    assert parameters["n"].tolist() == [2] * 6
    with pytest.raises(ValueError, match="Unknown metric"):
        sweeps.sweep_frame(SWEEP_GRID, records, "accuracy")


def test_an_empty_sweep_frame_is_all_pending() -> None:
    frame = sweeps.sweep_frame(SWEEP_GRID, {})
    assert len(frame) == 6 and (frame["status"] == "pending").all()
    assert frame["mean"].isna().all() and (frame["n"] == 0).all()


def test_a_one_value_setting_in_a_sweep_link_is_set_not_swept() -> None:
    spec = SweepSpec.parse("hidden1:16,32,64;epochs:1", TrainingConfig(hidden2=0))
    assert spec.names == ("hidden1",) and spec.knobs[0].values == (16, 32, 64)
    assert spec.base == TrainingConfig(hidden2=0, epochs=1)
    assert [config.epochs for config in sweeps.sweep_configs(spec)] == [1, 1, 1]
    assert sweeps.fixed_settings("hidden1:16,32,64;epochs:1") == {"epochs": 1}
    assert sweeps.fixed_text({"epochs": 1}) == (
        "The link gives epochs one value (1): it is set for every cell, not swept."
    )
    with pytest.raises(ValueError, match="only one value"):
        SweepSpec.parse("epochs:1")  # nothing left to vary
