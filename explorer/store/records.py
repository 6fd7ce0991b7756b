"""What a run is, independent of where it is kept: statuses, ids, records and predictions.

Status         a run's status, e.g. Status.COMPLETE ("complete"); `sql_statuses` spells some in SQL
RunRecord      one row of the run registry (config, status, history, scores, confusion)
RunPredictions what a finished run predicted for each test digit
check_run_id   validate a run id before it names a folder
StoreError     what the store cannot do, and why (NoKerasModel: a run kept without its model)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from explorer.config import TrainingConfig


class Status(StrEnum):
    """A run's status. A member is its own string ("complete"), so rows, links and JSON keep
    the plain words; in SQL a status is spelled by `sql_statuses` only."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"  # trained every epoch; the cache serves it
    STOPPED = "stopped"  # someone pressed Stop: the epochs so far are kept
    FAILED = "failed"  # the training raised
    INTERRUPTED = "interrupted"  # cut off from outside: a lost process, a stopped server
    # Never written: what a row that cannot be read is listed as, so that it can still be seen
    # and deleted.
    DAMAGED = "damaged"


STATUSES = tuple(Status)
ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
# Statuses whose runs have scores and predictions.
RESULT_STATUSES = (Status.COMPLETE, Status.STOPPED)


def sql_statuses(statuses: Iterable[str]) -> str:
    """The SQL list for `status IN ...`, e.g. "('queued', 'running')": the one place a status
    becomes SQL. Raises ValueError for a word that is not a status."""
    return "(" + ", ".join(f"'{Status(status).value}'" for status in statuses) + ")"


RUN_ID_PATTERN = re.compile(r"^[0-9a-f]{16}$")


class StoreError(ValueError):
    """The run store cannot do what was asked; the message says what and why."""


class NoKerasModel(StoreError):
    """A finished run stored before runs kept their Keras model: its weights are there, its
    `.keras` file is not (the command line can build one from the weights)."""


def check_run_id(run_id: str) -> str:
    """Return `run_id` if it is a well-formed run id, else raise: ids become folder names."""
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.match(run_id):
        raise StoreError(f"{str(run_id)[:40]!r} is not a valid run id (16 hex characters).")
    return run_id


@dataclass(frozen=True)
class RunRecord:
    """One row of the registry: what was trained, how it went and its headline figures.

    A row too damaged to read has status "damaged", `config` None and `error` saying why.
    """

    run_id: str
    cache_key: str
    config: TrainingConfig | None
    data_source: str
    status: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    history: list[dict] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    confusion_matrix: np.ndarray | None = None
    error: str | None = None
    owner: str | None = None  # the instance (server or command) whose lease keeps it active
    worker: str | None = None  # where it trained, e.g. "local:4242" or "ray:ab12..."
    requested_by: str | None = None  # who asked first, e.g. "student 3f2a" or "command line"
    stop_requested: bool = False

    @property
    def is_complete(self) -> bool:
        return self.status == Status.COMPLETE

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def has_result(self) -> bool:
        """Complete or stopped runs have scores, a confusion matrix and predictions."""
        return self.status in RESULT_STATUSES and self.confusion_matrix is not None

    @property
    def test_samples(self) -> int:
        """How many test digits it was scored on (0 before it has a result)."""
        return 0 if self.confusion_matrix is None else int(self.confusion_matrix.sum())


@dataclass(frozen=True)
class RunPredictions:
    """What a run predicted for every test digit, kept in a file next to the registry.

    The arrays are read-only: one copy is shared by every page that shows the run.
    """

    predicted_labels: np.ndarray  # (n_test,) uint8
    confidence: np.ndarray  # (n_test,) float32: probability of the predicted class
    probabilities: np.ndarray  # (n_test, 10) float16
