"""How long a run takes on this machine, learnt from the complete runs in the store.

    estimates = TimeEstimates(store)
    estimates.calibration().measured_runs          # how many runs it learnt from
    estimates.seconds(config, data)                # training seconds (no trainer start)
    estimates.forget()                             # a run ended: read the store again

The service adds what a trainer still pays to start (TrainingService.estimate).
"""

from __future__ import annotations

import time

from explorer.architecture import SpeedCalibration, estimate_training_seconds, time_features
from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.store.records import Status
from explorer.store.registry import RunStore

# Every page view asks for the time estimate; runs finished by other processes show up after this.
CALIBRATION_SECONDS = 5.0
# The newest complete runs the calibration learns from (read per page view: kept small).
CALIBRATION_RUNS = 40


class TimeEstimates:
    """The training speed of this machine, re-read from the store at most every
    CALIBRATION_SECONDS, and at once after `forget`."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._cached: tuple[float, SpeedCalibration] | None = None  # (when, what)

    def seconds(self, config: TrainingConfig, data: MnistData) -> float:
        """Seconds to train `config` on `data` here, a trainer's start not included."""
        used = max(1, round(len(data.y_train) * config.train_fraction))
        return estimate_training_seconds(config, used, len(data.y_test), self.calibration())

    def calibration(self) -> SpeedCalibration:
        """The speed learnt from the newest complete runs in the store."""
        cached = self._cached
        if cached is not None and time.monotonic() - cached[0] < CALIBRATION_SECONDS:
            return cached[1]
        samples = []
        for record in self.store.list_runs((Status.COMPLETE,), limit=CALIBRATION_RUNS):
            summary = record.summary
            seconds, train_samples = summary.get("train_seconds"), summary.get("train_samples")
            epochs = summary.get("epochs_completed", 0)
            if not seconds or not train_samples or not epochs:
                continue
            test = summary.get("test_samples", 0)
            samples.append((time_features(record.config, train_samples, test, epochs), seconds))
        calibration = SpeedCalibration.from_runs(samples)
        self._cached = (time.monotonic(), calibration)
        return calibration

    def forget(self) -> None:
        """Read the store again on the next call: a run that ended may change the estimate."""
        self._cached = None
