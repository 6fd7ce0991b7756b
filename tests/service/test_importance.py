"""What mattered: Optuna's importances over stored runs, deterministic, with the seed as noise."""

from __future__ import annotations

import itertools
import math

import pytest

from explorer.config import TrainingConfig
from explorer.service.importance import MIN_RUNS, setting_importance

# What each seed adds to the accuracy: the noise the importances must see through.
SEED_NOISE = {0: 0.004, 1: -0.006, 2: 0.010, 3: -0.003, 4: 0.001}


def grid_runs() -> list[tuple[TrainingConfig, float]]:
    """A sweep of five settings over five seeds whose accuracy depends on hidden1 alone."""
    runs = []
    for hidden1, hidden2, batch, optimizer, activation, seed in itertools.product(
        (16, 64, 256), (0, 32), (64, 256), ("sgd", "adam"), ("relu", "tanh"), range(5)
    ):
        config = TrainingConfig(
            hidden1=hidden1,
            hidden2=hidden2,
            batch_size=batch,
            optimizer=optimizer,
            activation=activation,
            seed=seed,
        )
        runs.append((config, 0.85 + 0.01 * math.log2(hidden1 / 16) + SEED_NOISE[seed]))
    return runs


def test_a_setting_that_decides_accuracy_ranks_first_and_the_rest_are_noise():
    result = setting_importance(grid_runs())
    assert result.can_tell and result.runs == 240
    assert result.importances[0].setting == "hidden1"
    assert result.importances[0].above_noise
    assert result.importances[0].share > result.seed_share > 0
    others = result.importances[1:]
    assert {item.setting for item in others} == {
        "hidden2",
        "batch_size",
        "optimizer",
        "learning_rate",  # follows the optimizer's default
        "activation",
    }
    assert not any(item.above_noise for item in others)
    total = sum(item.share for item in result.importances) + result.seed_share
    assert total == pytest.approx(1.0)


def test_the_same_runs_give_identical_numbers_in_any_order():
    runs = grid_runs()
    first = setting_importance(runs).to_json()
    assert setting_importance(list(reversed(runs))).to_json() == first
    assert setting_importance(runs).to_json() == first


def test_too_few_runs_cannot_tell_and_say_what_would():
    result = setting_importance(grid_runs()[: MIN_RUNS - 1])
    assert not result.can_tell and result.importances == []
    assert result.reason.startswith(f"Cannot tell yet: {MIN_RUNS - 1} complete runs")
    assert "at least 10 are needed" in result.reason


def test_one_varying_setting_cannot_tell():
    runs = [
        (TrainingConfig(hidden1=hidden1, seed=seed), 0.9 + hidden1 / 1e4 + seed / 1e3)
        for hidden1 in (16, 32, 64, 128)
        for seed in range(3)
    ]
    result = setting_importance(runs)
    assert not result.can_tell
    assert "at least two settings that vary (now: hidden1)" in result.reason


def test_runs_over_one_seed_cannot_tell_the_noise_level():
    runs = [(config, accuracy) for config, accuracy in grid_runs() if config.seed == 0]
    result = setting_importance(runs)
    assert not result.can_tell
    assert "runs over at least two seeds" in result.reason
