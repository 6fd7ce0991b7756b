"""Run records made by hand for the views' tests: a history from the test accuracies per epoch."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from explorer.config import TrainingConfig
from explorer.store.records import RunRecord
from explorer.views import repeats, sweeps


def run_record(
    config: TrainingConfig,
    status: str = "complete",
    test: Sequence[float] = (),
    train: Sequence[float] | None = None,
    seconds: float = 10.0,
    loss: float = 0.1,
) -> RunRecord:
    """A record of `config` whose epoch e has test accuracy test[e - 1] and train accuracy
    train[e - 1] (the test accuracy if not given). A complete run's summary holds the last
    test accuracy, `loss` and `seconds`; other runs have no summary."""
    train = list(test) if train is None else list(train)
    history = [
        {
            "epoch": epoch,
            "loss": 1 / epoch,
            "accuracy": train_accuracy,
            "test_loss": 2 / epoch,
            "test_accuracy": test_accuracy,
            "seconds": 1.0,
        }
        for epoch, (test_accuracy, train_accuracy) in enumerate(zip(test, train, strict=True), 1)
    ]
    summary = {}
    if status == "complete":
        summary = {"test_accuracy": test[-1], "test_loss": loss, "train_seconds": seconds}
    run_id = format(abs(hash(config)) % 16**16, "016x")
    return RunRecord(run_id, "key", config, "sample", status, 0.0, history=history, summary=summary)


# A sweep shared by the tests of its runs and of its pictures: 3 × 2 cells × 2 seeds.
SWEEP_BASE = TrainingConfig(hidden2=0, epochs=3)
SWEEP_GRID = sweeps.SweepSpec.parse("hidden1:16,32,64;epochs:1,3", SWEEP_BASE, seeds=2)


def half_done_sweep() -> dict:
    """Records of SWEEP_GRID's runs. hidden1 16: both seeds complete (0.95, 0.97); 32 × 1
    epoch: one complete, one running; 32 × 3: one failed, one complete (0.96); the 64 cells
    never submitted."""
    configs = sweeps.sweep_configs(SWEEP_GRID)
    records = {
        configs[0]: run_record(configs[0], test=[0.95]),
        configs[1]: run_record(configs[1], test=[0.97]),
        configs[2]: run_record(configs[2], test=[0.94, 0.96]),
        configs[3]: run_record(configs[3], test=[0.96, 0.98]),
        configs[4]: run_record(configs[4], test=[0.95]),
        configs[5]: run_record(configs[5], "running", test=[0.9]),
        configs[6]: run_record(configs[6], "failed", test=[]),
        configs[7]: run_record(configs[7], test=[0.93, 0.96]),
    }
    return records


# Two groups of seeds shared by the tests of repeats and of their pictures.
REPEAT_BASE = TrainingConfig(hidden1=64, epochs=3)


def group_a() -> dict:
    """Seeds 0 and 1 complete (last test accuracy 0.96 and 0.98), seed 2 still running."""
    configs = repeats.repeat_configs(REPEAT_BASE, 3)
    return {
        configs[0]: run_record(configs[0], test=[0.95, 0.97, 0.96], train=[0.94, 0.97, 0.99]),
        configs[1]: run_record(configs[1], test=[0.95, 0.96, 0.98], train=[0.93, 0.96, 0.99]),
        configs[2]: run_record(configs[2], "running", test=[0.94]),
    }


def group_b() -> dict:
    """Three complete seeds of a wider network: 0.975, 0.980, 0.985 (mean 0.98, SD 0.005)."""
    configs = repeats.repeat_configs(REPEAT_BASE.replace(hidden1=128), 3)
    finals = [0.975, 0.980, 0.985]
    return {
        config: run_record(config, test=[0.97, final], seconds=12.0 + config.seed)
        for config, final in zip(configs, finals, strict=True)
    }


def both_groups() -> pd.DataFrame:
    frames = [repeats.seeds_frame(group_a(), "A"), repeats.seeds_frame(group_b(), "B")]
    return pd.concat(frames, ignore_index=True)
