"""A training job as the service keeps it and any session reads it, and who asked for it.

    teacher = Requester("a1b2c3d4", "teacher")        # the page makes one per browser session
    job = Job(run_id, config, teacher)                 # the service makes one per queued training
    job.snapshot()                                     # a frozen Progress: status, epoch k/N, ETA
    job.on_start / on_batch / on_epoch                 # the training loop's ProgressListener

A job can be waited for by several sessions at once (they asked for the same configuration);
it keeps who they are, so a student's Stop only cancels a run nobody else waits for.

Every executor (explorer.service.executors) raises TrainingFailed or TrainingInterrupted, from
here, when a run ends without a result; the service marks the run "failed" or "interrupted".
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from explorer.config import TrainingConfig
from explorer.service import protocol
from explorer.store.records import ACTIVE_STATUSES, Status


class Role(StrEnum):
    """Who a requester is. A member is its own string ("teacher")."""

    TEACHER = "teacher"
    STUDENT = "student"
    COMMAND = "command"  # the command line, on the server, with the teacher's rights
    MACHINE = "machine"  # the machine's search (explorer.service.search), started by the teacher


ROLES = tuple(Role)
# How the queue, the history and the store's `requested_by` name a requester of each role
# (a student's name also carries the start of its session id).
ROLE_LABELS = {
    Role.TEACHER: "teacher",
    Role.STUDENT: "student",
    Role.COMMAND: "command line",
    Role.MACHINE: "machine",
}


@dataclass(frozen=True)
class Requester:
    """Who asks the service for something: a browser session or the command line.

    `session` is a random id the page gives each browser session (never an IP address, which
    can be spoofed and behind a proxy is the same for everyone). `role` is a Role.
    """

    session: str
    role: str = Role.TEACHER

    @property
    def is_teacher(self) -> bool:
        """The teacher, the command line or the machine's search: both run on the server with
        the teacher's rights (no student limits)."""
        return self.role in (Role.TEACHER, Role.COMMAND, Role.MACHINE)

    @property
    def always_waits(self) -> bool:
        """The command line and the machine's search wait for their jobs themselves, with no
        page to be seen: their jobs are never dropped as orphans."""
        return self.role in (Role.COMMAND, Role.MACHINE)

    @property
    def label(self) -> str:
        """How others see this requester: "student 3f2a", "teacher", "command line", "machine"."""
        label = ROLE_LABELS.get(self.role, ROLE_LABELS[Role.STUDENT])
        return f"{label} {self.session[:4]}" if label == ROLE_LABELS[Role.STUDENT] else label


COMMAND_LINE = Requester("command", Role.COMMAND)


@dataclass(frozen=True)
class Progress:
    """A snapshot of a job that a page can draw without locks."""

    run_id: str
    config: TrainingConfig
    status: str  # a Status: queued, running, complete, stopped, failed, interrupted
    epoch: int = 0  # the epoch in progress (1-based), or the last one
    epochs: int = 0
    step: int = 0  # batches done in the current epoch
    steps_per_epoch: int = 0
    elapsed_seconds: float = 0.0
    eta_seconds: float | None = None
    history: list[dict] = field(default_factory=list)
    latest: dict[str, float] = field(default_factory=dict)  # the last batch's loss and accuracy
    error: str | None = None
    stop_requested: bool = False
    remote: bool = False  # trained by another process sharing the store
    worker: str | None = None  # where it trains, e.g. "local:4242" or "ray:ab12..."
    waiters: tuple[str, ...] = ()  # labels of the sessions waiting for it
    position: int | None = None  # 0 = next to start, while queued
    wait_seconds: float | None = None  # estimated wait before it starts, while queued

    @property
    def fraction(self) -> float:
        """Share of all batches done, 0..1."""
        total = self.epochs * self.steps_per_epoch
        if self.status == Status.COMPLETE:
            return 1.0
        if not total:
            return 0.0
        return min(1.0, ((self.epoch - 1) * self.steps_per_epoch + self.step) / total)

    @property
    def finished(self) -> bool:
        return self.status not in ACTIVE_STATUSES


@dataclass(frozen=True)
class Submission:
    """What `submit` did: `cached` (a stored result), or a job to follow (`attached` if shared)."""

    run_id: str
    cached: bool
    attached: bool


class Reporter:
    """The training loop's ProgressListener for a training elsewhere (a child process, a Ray
    worker): each call becomes a protocol message for `send`, and `Job.receive` turns it back."""

    def __init__(self, send: Callable[[object], None]) -> None:
        self._send = send

    def on_start(self, epochs: int, steps_per_epoch: int, train_samples: int) -> None:
        self._send(protocol.Started(epochs, steps_per_epoch, train_samples))

    def on_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        self._send(protocol.Batch(epoch, step, {k: float(v) for k, v in logs.items()}))

    def on_epoch(self, epoch: int, record: dict[str, float]) -> None:
        self._send(protocol.Epoch(epoch, record))


class LimitError(ValueError):
    """A request the class's limits refuse; the message says why and what to change."""


class TrainingInterrupted(RuntimeError):
    """The run was cut off from outside (a signal, a hung trainer, a lost node): "interrupted"."""


class TrainingFailed(RuntimeError):
    """The training itself failed; the message is the child's "Kind: message"."""


class Job:
    """A queued or running training, updated by a worker and read by any session."""

    def __init__(self, run_id: str, config: TrainingConfig, requester: Requester) -> None:
        self.run_id = run_id
        self.config = config
        self.requester = requester  # who asked first: the queue is fair between them
        self.waiters: dict[str, Requester] = {requester.session: requester}
        self.fair_round = 0  # set by the queue: this requester's unfinished jobs before it
        self.sequence = 0  # set by the queue: arrival order
        self.estimate_seconds = 0.0  # the service's estimate of its training time
        self.stop_event = threading.Event()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._state = Progress(
            run_id=run_id, config=config, status=Status.QUEUED, epochs=config.epochs
        )
        self._started = 0.0
        # Called with the history after every finished epoch (the service saves it to the store).
        self.epoch_listener: Callable[[list[dict]], None] | None = None

    def snapshot(self) -> Progress:
        with self._lock:
            return dataclasses.replace(
                self._state, waiters=tuple(r.label for r in self.waiters.values())
            )

    def update(self, **changes) -> None:
        """Replace fields of the snapshot (the worker and the service call this)."""
        with self._lock:
            self._state = dataclasses.replace(self._state, **changes)

    @property
    def finished(self) -> bool:
        return self.snapshot().finished

    def remaining_seconds(self) -> float:
        """How much longer it should train: its estimate less the time it has run."""
        state = self.snapshot()
        if state.status == Status.RUNNING and state.eta_seconds is not None:
            return state.eta_seconds
        return max(0.0, self.estimate_seconds - state.elapsed_seconds)

    def receive(self, message: object) -> bool:
        """Apply a Reporter's message; False if it is not a progress message."""
        if isinstance(message, protocol.Started):
            self.on_start(message.epochs, message.steps_per_epoch, message.train_samples)
        elif isinstance(message, protocol.Batch):
            self.on_batch(message.epoch, message.step, message.logs)
        elif isinstance(message, protocol.Epoch):
            self.on_epoch(message.epoch, message.record)
        else:
            return False
        return True

    # ProgressListener methods (explorer.training.loop), called on the worker thread.
    def on_start(self, epochs: int, steps: int, train_samples: int) -> None:
        self._started = time.perf_counter()
        self.update(status=Status.RUNNING, epochs=epochs, steps_per_epoch=steps, epoch=1, step=0)

    def on_batch(self, epoch: int, step: int, logs: dict) -> None:
        elapsed = time.perf_counter() - self._started
        state = self.snapshot()
        done = (epoch - 1) * state.steps_per_epoch + step
        total = state.epochs * state.steps_per_epoch
        eta = elapsed / done * (total - done) if done else None
        latest = {k: float(v) for k, v in logs.items() if k in ("loss", "accuracy")}
        self.update(epoch=epoch, step=step, elapsed_seconds=elapsed, eta_seconds=eta, latest=latest)

    def on_epoch(self, epoch: int, record: dict) -> None:
        self.update(history=[*self.snapshot().history, record])
        if self.epoch_listener is not None:
            self.epoch_listener(self.snapshot().history)
