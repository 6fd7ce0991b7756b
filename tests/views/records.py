"""Run records made by hand for the views' tests: a history from the test accuracies per epoch."""

from __future__ import annotations

from collections.abc import Sequence

from explorer.config import TrainingConfig
from explorer.store.records import RunRecord


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
