"""The training service: one per server process, shared by every session on it.

    service = TrainingService(RunStore(), data_loader=load_mnist)
    submission = service.submit(config)    # cached result, the running job, or a new queued job
    service.progress(submission.run_id)    # epoch, batch, ETA, curves so far: any session may ask
    service.stop(submission.run_id)        # any session may stop it; partial history is kept

Jobs run one at a time on a background worker thread (two cores are better spent on one training
than split between two), so moving a slider or closing a browser tab never stops a job. With
`isolated=True` (the page's service) the worker hands each job to a child process
(`explorer.trainer_process`), so the server never loads TensorFlow and stays quick while a class
waits; without it (the CLI, tests) the worker thread trains itself. A config
that is already queued or training, here or in another process using the same store, is joined
rather than trained twice.
"""

from __future__ import annotations

import os
import queue
import threading
import time
import traceback
from collections.abc import Callable

from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.model import SpeedCalibration, flops_per_epoch, steps_per_epoch
from explorer.service.jobs import Job, Progress, Submission
from explorer.store.records import (
    ACTIVE_STATUSES,
    RunPredictions,
    RunRecord,
    StoreError,
    process_alive,
)
from explorer.store.registry import RunStore

# How often a job whose training runs in another process is re-read from the store.
REMOTE_POLL_SECONDS = 0.5
# Every page view asks for the time estimate; runs finished by other processes show up after this.
CALIBRATION_SECONDS = 5.0


class TrainingService:
    """Queue, deduplicate, run and report trainings against one `RunStore`."""

    def __init__(
        self,
        store: RunStore,
        data_loader: Callable[[], MnistData],
        trainer: Callable | None = None,
        *,
        isolated: bool = False,
    ) -> None:
        self.store = store
        self._data_loader = data_loader
        self._data: MnistData | None = None
        self._trainer = trainer  # None: explorer.training.train (tests inject failures here)
        self._trainer_process = None
        if isolated and trainer is None:
            from explorer.service.local import TrainerProcess

            self._trainer_process = TrainerProcess()
        self._lock = threading.Lock()  # guards _jobs and claiming
        self._data_lock = threading.Lock()  # guards the one-time data load
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._calibration: tuple[float, SpeedCalibration] | None = None  # (when, what)
        self._deleted: set[str] = set()
        # Runs left "running" by a process that died are not running: say so, once, at start.
        self.store.mark_orphans_interrupted()

    @property
    def data(self) -> MnistData:
        """The dataset, loaded once on first use (it is part of every cache key)."""
        with self._data_lock:
            if self._data is None:
                self._data = self._data_loader()
            return self._data

    def cache_key(self, config: TrainingConfig) -> str:
        return config.cache_key(self.data.fingerprint)

    def lookup(self, config: TrainingConfig) -> RunRecord | None:
        """The stored complete result for `config`, or None (never trains)."""
        return self.store.find_complete(self.cache_key(config))

    def latest(self, config: TrainingConfig) -> RunRecord | None:
        """The newest run of `config` in any state (complete, stopped, failed, ...)."""
        return self.store.find_latest(self.cache_key(config))

    # -- stored runs: the page reads and deletes them here, never in the store itself --------

    def get(self, run_id: str) -> RunRecord | None:
        """One run by id, or None if there is no such run (or it was deleted)."""
        return self.store.get(run_id)

    def runs(
        self, statuses: tuple[str, ...] | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Stored runs, newest first, optionally only those with the given statuses."""
        return self.store.list_runs(statuses, limit)

    def predictions(self, run_id: str) -> RunPredictions:
        """What a finished run predicted for each test digit; StoreError if its file is damaged
        (the run is then marked failed, so Train trains it again)."""
        try:
            return self.store.load_predictions(run_id)
        except StoreError as error:
            self.store.mark_failed(run_id, str(error))
            raise

    def delete(self, run_ids: list[str]) -> None:
        """Delete finished runs and their files.

        Raises StoreError, deleting nothing, if one of them is queued or training: its job
        would fail half-way, and whoever waits for it would lose it without a word.
        """
        records = [self.store.get(run_id) for run_id in run_ids]
        active = [r.run_id for r in records if r is not None and r.status in ACTIVE_STATUSES]
        if active:
            raise StoreError(
                f"Run {', '.join(active)} is still queued or training; stop it before deleting."
            )
        for run_id in run_ids:
            self.store.delete(run_id)
            self._deleted.add(run_id)

    def was_deleted(self, run_id: str) -> bool:
        """Whether `run_id` was deleted through this service (so a page can say so)."""
        return run_id in self._deleted

    # -- training ---------------------------------------------------------------------------

    def submit(self, config: TrainingConfig) -> Submission:
        """Return the stored result, join the job already training `config`, or queue a new one."""
        key = self.cache_key(config)
        record = self.store.find_complete(key)
        if record is not None:
            if self.store.has_files(record.run_id):
                return Submission(record.run_id, cached=True, attached=False)
            # Its files are gone: train it again (damaged files are caught when read).
            self.store.mark_failed(record.run_id, "The run's files are missing.")
        source = self.data.source
        with self._lock:
            run_id, created = self.store.claim(config, key, source)
            if not created and self._abandoned(run_id):
                self.store.mark_failed(run_id, "Abandoned: its job had ended.", "interrupted")
                run_id, created = self.store.claim(config, key, source)
            if not created:
                record = self.store.get(run_id)
                if record is not None and record.is_complete:  # finished a moment ago
                    return Submission(run_id, cached=True, attached=False)
                return Submission(run_id, cached=False, attached=True)
            job = Job(run_id, config)
            job.epoch_listener = lambda history, rid=run_id: self.store.save_progress(rid, history)
            self._jobs[run_id] = job
            self._queue.put(job)
            self._ensure_worker()
        return Submission(run_id, cached=False, attached=False)

    def progress(self, run_id: str) -> Progress | None:
        """Where a job stands; works for jobs trained by another process through the store."""
        job = self._jobs.get(run_id)
        if job is not None:
            return job.snapshot()
        record = self.store.get(run_id)
        if record is None:
            return None
        if record.status in ACTIVE_STATUSES and not process_alive(record.owner_pid):
            self.store.mark_orphans_interrupted()  # its process died (killed, power lost)
            record = self.store.get(run_id)
        return Progress(
            run_id=run_id,
            config=record.config,
            status=record.status,
            epoch=len(record.history),
            epochs=record.config.epochs,
            history=record.history,
            error=record.error,
            remote=record.status in ACTIVE_STATUSES,
        )

    def jobs_ahead(self, run_id: str) -> int:
        """How many unfinished jobs were queued before `run_id` (0: it is next or running)."""
        ahead = 0
        for other_id, job in list(self._jobs.items()):
            if other_id == run_id:
                return ahead
            ahead += not job.snapshot().finished
        return 0

    def active_run_id(self, config: TrainingConfig) -> str | None:
        """The run id of a queued or running job for `config` in this process, if any."""
        for job in list(self._jobs.values()):
            if job.config == config and not job.snapshot().finished:
                return job.run_id
        return None

    def stop(self, run_id: str) -> bool:
        """Ask a job to stop after its current batch; True if it was active here."""
        job = self._jobs.get(run_id)
        if job is None or job.snapshot().finished:
            return False
        job.stop_event.set()
        job.update(stop_requested=True)
        return True

    def wait(self, run_id: str, timeout: float | None = None) -> Progress | None:
        """Block until the job ends (or `timeout` passes) and return its last snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self._jobs.get(run_id)
        if job is not None:
            job.done.wait(timeout)
            return job.snapshot()
        while True:  # trained by another process: poll the store
            progress = self.progress(run_id)
            if progress is None or progress.finished:
                return progress
            if deadline is not None and time.monotonic() > deadline:
                return progress
            time.sleep(REMOTE_POLL_SECONDS)

    def calibration(self) -> SpeedCalibration:
        """Training speed of this machine, learnt from the complete runs in the store.

        Re-read at most every CALIBRATION_SECONDS, and at once after a job of this service ends.
        """
        cached = self._calibration
        if cached is not None and time.monotonic() - cached[0] < CALIBRATION_SECONDS:
            return cached[1]
        samples = []
        for record in self.store.list_runs(("complete",), limit=20):  # read per page view
            summary = record.summary
            seconds, train_samples = summary.get("train_seconds"), summary.get("train_samples")
            epochs = summary.get("epochs_completed", 0)
            if not seconds or not train_samples or not epochs:
                continue
            test = summary.get("test_samples", 0)
            flops = flops_per_epoch(record.config, train_samples, test) * epochs
            steps = steps_per_epoch(record.config, train_samples) * epochs
            samples.append((flops, steps, seconds))
        calibration = SpeedCalibration.from_runs(samples)
        self._calibration = (time.monotonic(), calibration)
        return calibration

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job and the worker (tests and clean exits)."""
        for job in list(self._jobs.values()):
            job.stop_event.set()
        self._queue.put(None)
        if self._worker is not None:
            self._worker.join(timeout)
        if self._trainer_process is not None:
            self._trainer_process.close(timeout)

    def _abandoned(self, run_id: str) -> bool:
        """An active run of this process that no live job here will finish (an earlier service
        in the same process, or a job whose end could not be written to the store)."""
        record = self.store.get(run_id)
        if record is None or record.status not in ACTIVE_STATUSES:
            return False
        job = self._jobs.get(run_id)
        if job is not None:
            return job.snapshot().finished
        return record.owner_pid == os.getpid()

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="training-worker", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:
                self._run(job)
            except Exception:  # never let one run's trouble end the worker
                traceback.print_exc()

    def _run(self, job: Job) -> None:
        try:
            if job.stop_event.is_set():  # stopped while still queued
                self.store.mark_failed(job.run_id, "Stopped before it started.", "stopped")
                job.update(status="stopped")
                return
            self.store.mark_running(job.run_id)
            job.update(status="running")
            if self._trainer_process is not None:
                record = self._trainer_process.run(job, self.data, self.store)
            else:
                trainer = self._trainer
                if trainer is None:
                    from explorer.training.loop import train as trainer
                result = trainer(job.config, self.data, progress=job, stop=job.stop_event)
                record = self.store.finish(job.run_id, result)
            job.update(status=record.status, history=record.history)
        except Exception as error:  # the service must outlive any failed run
            message = _failure_message(error)
            traceback.print_exc()
            job.update(status="failed", error=message)
            try:
                self.store.mark_failed(job.run_id, message)
            except Exception:  # the store itself is failing (disk full): keep serving
                traceback.print_exc()
        finally:
            self._calibration = None  # a new run may change the estimate
            job.done.set()


def _failure_message(error: Exception) -> str:
    """What the page shows for a failed run, e.g. "ResourceExhaustedError: out of memory"."""
    from explorer.service.local import TrainingProcessError

    if isinstance(error, TrainingProcessError):  # already "Kind: message", from the child
        return str(error)
    return f"{type(error).__name__}: {error}"


def create_service(
    data_dir: str | None = None, home: str | None = None, *, isolated: bool = True
) -> TrainingService:
    """The standard service: the run store under `home` (or EXPLORER_HOME) and MNIST found by
    `explorer.data.load_mnist` from `data_dir` (or EXPLORER_DATA_DIR, Keras, the bundled sample).
    `isolated`: train in a child process (for servers); False trains on the worker thread."""
    from explorer.data.sources import load_mnist

    return TrainingService(
        RunStore(home), data_loader=lambda: load_mnist(data_dir), isolated=isolated
    )
