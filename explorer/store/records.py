"""What a run is, independent of where it is kept: statuses, ids, records and artifacts.

RunRecord      one row of the run registry (config, status, history, scores, confusion)
RunPredictions what a finished run predicted for each test digit
check_run_id   validate a run id before it names a folder
process_alive  whether the process that owns an active run still exists
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from explorer.config import TrainingConfig

STATUSES = ("queued", "running", "complete", "stopped", "failed", "interrupted")
ACTIVE_STATUSES = ("queued", "running")
RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")


class StoreError(ValueError):
    """The run store cannot do what was asked; the message says what and why."""


def check_run_id(run_id: str) -> str:
    """Return `run_id` if it is a well-formed run id, else raise: ids become folder names."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise StoreError(f"{run_id!r} is not a valid run id (16 lowercase hex characters).")
    return run_id


@dataclass(frozen=True)
class RunRecord:
    """One row of the registry: what was trained, how it went and its headline figures."""

    run_id: str
    cache_key: str
    config: TrainingConfig
    data_source: str
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    history: list[dict] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    confusion_matrix: np.ndarray | None = None
    error: str | None = None
    owner_pid: int | None = None

    @property
    def is_complete(self) -> bool:
        return self.status == "complete"

    @property
    def has_result(self) -> bool:
        """Complete or stopped runs have scores, a confusion matrix and predictions."""
        return self.status in ("complete", "stopped") and self.confusion_matrix is not None


@dataclass(frozen=True)
class RunPredictions:
    """What a run predicted for every test digit, kept in a file next to the registry.

    The arrays are read-only: one copy is shared by every page that shows the run.
    """

    predicted_labels: np.ndarray  # (n_test,) uint8
    confidence: np.ndarray  # (n_test,) float32: probability of the predicted class
    probabilities: np.ndarray  # (n_test, 10) float16


def process_alive(pid: int | None) -> bool:
    """Whether a process with this id exists (the owner of an active run)."""
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by another user
    return True
