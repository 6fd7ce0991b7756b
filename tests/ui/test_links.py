"""Links: the page's state to query parameters and back, and bad values in links."""

import pytest

from explorer.config import TrainingConfig
from explorer.ui.links import parse_query, to_query

RUN_A, RUN_B = "0123456789abcdef", "fedcba9876543210"


def test_default_state_is_an_empty_query():
    assert to_query(TrainingConfig()) == {}
    assert parse_query({}).config == TrainingConfig()


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(hidden1=64, hidden2=0),
        TrainingConfig(optimizer="adam"),
        TrainingConfig(optimizer="adam", learning_rate=0.01, batch_size=32, epochs=2),
        TrainingConfig(activation="tanh", seed=7, train_fraction=0.1, learning_rate=0.003),
    ],
)
def test_round_trip(config):
    query = to_query(config, view="compare", run_ids=[RUN_A, RUN_B], baseline=RUN_B)
    state = parse_query(query)
    assert state.config == config
    assert (state.view, state.run_ids, state.baseline) == ("compare", (RUN_A, RUN_B), RUN_B)
    assert state.warnings == ()


def test_only_non_default_values_are_written():
    assert to_query(TrainingConfig(hidden2=0)) == {"hidden2": "0"}
    assert to_query(TrainingConfig(optimizer="adam")) == {"optimizer": "adam"}


@pytest.mark.parametrize(
    ("params", "warning"),
    [
        ({"hidden1": "many"}, "Ignored hidden1 from the link: hidden1 must be a whole number"),
        ({"hidden1": "-3"}, "Ignored hidden1"),
        ({"hidden1": "0"}, "Ignored hidden1"),
        ({"epochs": "1e9"}, "Ignored epochs"),
        ({"learning_rate": "nan"}, "Ignored learning_rate"),
        ({"learning_rate": "inf"}, "Ignored learning_rate"),
        ({"optimizer": "adagrad"}, "Ignored optimizer"),
        ({"activation": "<script>"}, "Ignored activation"),
        ({"train_fraction": "0"}, "Ignored train_fraction"),
        ({"view": "admin"}, "Ignored view='admin'"),
        ({"runs": "../../etc/passwd"}, "not a run id"),
        ({"baseline": "x; DROP TABLE runs"}, "not a run id"),
        ({"colour": "red"}, "does not know: 'colour'"),
    ],
)
def test_bad_values_fall_back_to_defaults_with_a_warning(params, warning):
    state = parse_query({"hidden2": "0", **params})
    assert any(warning in text for text in state.warnings), state.warnings
    assert state.config.hidden2 == 0  # the good values of the link still apply
    bad_field = next(iter(params))
    if bad_field in TrainingConfig.__dataclass_fields__:
        assert getattr(state.config, bad_field) == getattr(TrainingConfig(), bad_field)


def test_repeated_keys_take_the_last_value_and_runs_are_deduplicated():
    state = parse_query({"hidden1": ["10", "20"], "runs": f"{RUN_A},{RUN_A.upper()},{RUN_B}"})
    assert state.config.hidden1 == 20
    assert state.run_ids == (RUN_A, RUN_B)


def test_at_most_four_runs_are_compared():
    ids = [f"{index:016x}" for index in range(6)]
    state = parse_query({"runs": ",".join(ids)})
    assert state.run_ids == tuple(ids[:4])
    assert any("only the first 4" in text for text in state.warnings)
