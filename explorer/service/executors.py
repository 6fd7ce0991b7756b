"""Where a job trains: the one seam between the service (queue, dedup, fairness, progress, store)
and the machines that do the arithmetic.

    executor = make_executor()                        # child processes on this machine
    executor = make_executor(ray_address="auto")      # a Ray cluster
    executor = InProcess()                            # this process's worker thread (the CLI)
    result = executor.run(job, data, slot)            # blocks until the TrainingResult

An executor has `slots` (how many jobs it trains at once: the service runs one worker thread per
slot), `run`, `warm` (get ready before the first job), `start_seconds` (what the next job still
pays to get ready) and `close`. `run` forwards progress to the job (its ProgressListener
methods), obeys `job.stop_event`, sets `job`'s worker, and raises TrainingFailed or
TrainingInterrupted (explorer.service.jobs) when the run does not finish.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Protocol

from explorer.data.sources import MnistData
from explorer.service.jobs import Job


class Executor(Protocol):
    slots: int

    def run(self, job: Job, data: MnistData, slot: int): ...

    def warm(self, data: MnistData) -> None: ...

    def start_seconds(self) -> float: ...

    def close(self, timeout: float = 5.0) -> None: ...


class InProcess:
    """Trains on the service's own worker threads: for the command line (killing the command
    kills its training, and nothing else is started) and for tests with a fake trainer."""

    def __init__(self, trainer: Callable | None = None, slots: int = 1) -> None:
        self.slots = slots
        self._trainer = trainer

    def run(self, job: Job, data: MnistData, slot: int):
        trainer = self._trainer
        if trainer is None:
            from explorer.training.loop import train as trainer
        job.update(worker=f"local:{os.getpid()}")
        return trainer(job.config, data, progress=job, stop=job.stop_event)

    def warm(self, data: MnistData) -> None:
        pass

    def start_seconds(self) -> float:
        return 0.0

    def close(self, timeout: float = 5.0) -> None:
        pass


def make_executor(
    *, workers: int | None = None, ray_address: str | None = None, isolated: bool = True
) -> Executor:
    """The executor for these settings: Ray when an address is given (EXPLORER_RAY_ADDRESS
    counts), else child processes (`isolated`) or this process."""
    address = ray_address or os.environ.get("EXPLORER_RAY_ADDRESS", "").strip() or None
    if address:
        from explorer.service.ray_cluster import RayCluster  # Ray is imported only here

        return RayCluster(address, workers=workers)
    if isolated:
        from explorer.service.local import LocalPool

        return LocalPool(workers)
    return InProcess(slots=workers or 1)
