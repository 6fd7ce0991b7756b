"""The messages between a service and a trainer (a child process or a Ray task), in one place.

    connection.send(protocol.Train(config, run_id))         # the service asks for a run
    message = connection.recv()                             # the trainer answers, e.g.
    match message:
        case protocol.Beat(resident_mb=size): ...           # alive, and this big
        case protocol.Finished(result=result): ...          # the run's TrainingResult

Service to trainer: `LoadData`, `Train`, `Stop`, `Exit`. Trainer to service: `Ready` (a child
has loaded TensorFlow), `Placed` (a Ray task has found its node), `Beat`, the progress messages
`Started`, `Batch` and `Epoch` (`Job.receive` applies them), and one of `Finished` or `Failed`
per `Train`.

A trainer states the protocol's VERSION once, in `Ready` or `Placed`; a service that meets
another version ends the run with a message instead of misreading the next one. Raise VERSION
whenever a message gains, loses or changes a field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from explorer.config import TrainingConfig
    from explorer.data.sources import MnistData

VERSION = 1


# -- service to trainer ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoadData:
    """Hold these arrays for the runs that follow (a child warms its graphs on them)."""

    data: MnistData


@dataclass(frozen=True)
class Train:
    """Train `config` on the data in hand; `run_id` is what a later Stop names."""

    config: TrainingConfig
    run_id: str


@dataclass(frozen=True)
class Stop:
    """Stop run `run_id`, now or as soon as it starts; a Stop for another run is kept for it."""

    run_id: str


@dataclass(frozen=True)
class Exit:
    """Leave now: nothing is pending."""


# -- trainer to service ---------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    """A child has loaded TensorFlow, `start_seconds` after it started."""

    start_seconds: float
    version: int = VERSION


@dataclass(frozen=True)
class Placed:
    """A Ray task runs on node `node_id`."""

    node_id: str
    version: int = VERSION


@dataclass(frozen=True)
class Beat:
    """A child is alive and holds `resident_mb` MiB (sent every heartbeat)."""

    resident_mb: float


@dataclass(frozen=True)
class Started:
    """Training began: `epochs` epochs of `steps_per_epoch` batches over `train_samples`."""

    epochs: int
    steps_per_epoch: int
    train_samples: int


@dataclass(frozen=True)
class Batch:
    """Batch `step` of epoch `epoch` is done; `logs` holds its loss and accuracy."""

    epoch: int
    step: int
    logs: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Epoch:
    """Epoch `epoch` is done; `record` is its row of the run's history."""

    epoch: int
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finished:
    """The run ended with a TrainingResult (a stopped run too: its epochs so far)."""

    result: Any


@dataclass(frozen=True)
class Failed:
    """The training raised; `message` is "Kind: message"."""

    message: str

    @classmethod
    def from_error(cls, error: BaseException) -> Failed:
        return cls(f"{type(error).__name__}: {error}")


PROGRESS = (Started, Batch, Epoch)


def version_problem(version: int) -> str | None:
    """What is wrong with a trainer that speaks `version` (None when it is this one)."""
    if version == VERSION:
        return None
    return (
        f"The trainer speaks protocol version {version}, this server version {VERSION}: "
        "install the same version of the explorer on every machine that trains."
    )
