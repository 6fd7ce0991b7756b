"""The training service: one per server process (or command), shared by every session on it.

    service = create_service()                      # the run store, MNIST, child-process trainers
    student = Requester("3f2a9c01", "student")
    submission = service.submit(config, student)  # a stored result, the job training it, or
                                                  # a new job (LimitError past the class's limits)
    service.progress(submission.run_id)           # epoch, batch, ETA, queue position
    service.stop(submission.run_id, student)      # cancels only if nobody else waits for it
    service.queue()                               # what trains now and what waits (the teacher)

Jobs wait in a fair queue (explorer.service.queue) and train on an executor
(explorer.service.executors): child processes on this machine, a Ray cluster, or this process.
One worker thread per executor slot takes the next job, hands it to the executor and writes the
result to the store. A config that is already queued or training, here or in another process
using the same store, is joined rather than trained twice.

The service holds a lease in the store (explorer.store.registry) and renews it every few seconds;
its runs stay "running" only while it does. The same thread picks up stop requests that other
processes (the command line, another server) wrote into the store for its runs.
"""

from __future__ import annotations

import atexit
import dataclasses
import os
import secrets
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable

from explorer.architecture import SpeedCalibration
from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.service.estimates import TimeEstimates
from explorer.service.executors import Executor, InProcess, make_executor
from explorer.service.jobs import (
    COMMAND_LINE,
    Job,
    LimitError,
    Progress,
    Requester,
    Submission,
    TrainingFailed,
    TrainingInterrupted,
)
from explorer.service.queue import MACHINE_SESSION, FairQueue, Limits
from explorer.store.leases import LEASE_SECONDS, new_instance_id
from explorer.store.records import RunPredictions, RunRecord, Status, StoreError
from explorer.store.registry import RunStore

SERVER_STOPPED = "The server stopped before it finished."
# The class server's teacher token, in the run store's folder (see `teacher_token`).
TOKEN_FILE = "teacher_token"
# How often a job whose training runs in another process is re-read from the store.
REMOTE_POLL_SECONDS = 0.5


class TrainingService:
    """Queue, deduplicate, run and report trainings against one `RunStore`."""

    def __init__(
        self,
        store: RunStore,
        data_loader: Callable[[], MnistData],
        executor: Executor | None = None,
        *,
        trainer: Callable | None = None,
        limits: Limits | None = None,
    ) -> None:
        """`executor` decides where jobs train (default: this process, see
        explorer.service.executors); `trainer` replaces the training function of the default
        (tests inject fakes and failures here)."""
        self.store = store
        self.executor = executor or InProcess(trainer)
        self.limits = limits or Limits()
        self.instance_id = new_instance_id()
        self._data_loader = data_loader
        self._data: MnistData | None = None
        self._data_lock = threading.Lock()
        self._lock = threading.Lock()  # guards _jobs, claiming and the queue's bookkeeping
        self._jobs: dict[str, Job] = {}
        self._queue = FairQueue()
        self._seen: dict[str, float] = {}  # session -> when it last asked for anything
        self._deleted: set[str] = set()
        self._estimates = TimeEstimates(store)
        self._warming = threading.Event()  # a warm-up is under way
        self._reported = ""  # the last problem the warm-up printed to the log
        self._closed = threading.Event()
        # Called as hook(config, requester, submission) after every submit (the classroom notes
        # who asked for which run during a challenge: explorer.service.classroom).
        self.submit_hooks: list[Callable[[TrainingConfig, Requester, Submission], None]] = []
        self.store.register_instance(self.instance_id)
        # Runs left "running" by a server or command that is gone are not running: say so.
        self.store.interrupt_expired()
        self._workers = [
            threading.Thread(target=self._work, args=(slot,), name=f"training-{slot}", daemon=True)
            for slot in range(self.executor.slots)
        ]
        for worker in self._workers:
            worker.start()
        self._heart = threading.Thread(target=self._heartbeat, name="lease", daemon=True)
        self._heart.start()
        atexit.register(_end_at_exit, weakref.ref(self))

    # -- data ----------------------------------------------------------------------------------

    @property
    def data(self) -> MnistData:
        """The dataset, loaded once on first use (it is part of every cache key)."""
        with self._data_lock:
            if self._data is None:
                self._data = self._data_loader()
            return self._data

    @property
    def home(self):
        """The folder of the run store (the teacher's token is kept there too)."""
        return self.store.home

    def teacher_token(self) -> str:
        """The class server's teacher token: made once, kept in `home`/teacher_token (mode 0600,
        readable by the server's account only) and read from there after a restart."""
        path = self.home / TOKEN_FILE
        if path.is_file():
            return path.read_text().strip()
        token = secrets.token_urlsafe(16)
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as stream:
            stream.write(token)
        return token

    @property
    def slots(self) -> int:
        """How many runs train at once (one worker thread each)."""
        return self.executor.slots

    def start_seconds(self) -> float:
        """What the next run still pays before it trains (a trainer loading TensorFlow); 0 when
        one is ready."""
        return self.executor.start_seconds()

    def cache_key(self, config: TrainingConfig) -> str:
        return config.cache_key(self.data.fingerprint)

    @property
    def warming(self) -> bool:
        """Whether `warm` is still starting trainers in the background."""
        return self._warming.is_set()

    def warm(self) -> None:
        """Get the trainers ready in the background, so the next Train does not wait for
        TensorFlow to load. Every page view calls it: it starts a trainer only when none is
        ready (the first view, or after an idle trainer gave its memory back)."""
        if self._warming.is_set() or self.executor.start_seconds() == 0:
            return
        self._warming.set()

        def start() -> None:
            try:
                self.executor.warm(self.data)
            except Exception as error:  # a thread must not raise
                # The page explains a data problem to its reader; the log gets one plain line
                # per distinct problem, not a traceback from a thread on every page view.
                self._report_once(f"The trainers could not get ready: {error}")
            finally:
                self._warming.clear()

        threading.Thread(target=start, name="warm", daemon=True).start()

    def _report_once(self, line: str) -> None:
        """Print `line` to the server's log, unless it was the last line reported."""
        if line != self._reported:
            self._reported = line
            print(line, file=sys.stderr, flush=True)

    # -- stored runs: the page reads and deletes them here, never in the store itself --------

    def lookup(self, config: TrainingConfig) -> RunRecord | None:
        """The stored complete result for `config`, or None (never trains)."""
        return self.store.find_complete(self.cache_key(config))

    def latest(self, config: TrainingConfig) -> RunRecord | None:
        """The newest run of `config` in any state (complete, stopped, failed, ...)."""
        return self.store.find_latest(self.cache_key(config))

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
            self.store.mark_ended(run_id, str(error))
            raise

    def weights(self, run_id: str) -> list:
        """Kernel and bias of every layer of a finished run; StoreError if damaged."""
        return self.store.load_weights(run_id)

    def keras_model(self, run_id: str) -> bytes:
        """A finished run's trained network as `.keras` file bytes (for a download).

        NoKerasModel (a StoreError) for a run stored before runs kept their model: the page
        can say to export it from the command line; StoreError if its files are missing.
        """
        return self.store.load_keras_model(run_id)

    def delete(self, run_ids: list[str], requester: Requester = COMMAND_LINE) -> None:
        """Delete finished runs and their files (the teacher's right).

        Raises LimitError for a student, and StoreError, deleting nothing, if one of the runs
        is queued or training: its job would fail half-way, and whoever waits for it would lose
        it without a word. The message says who waits for it.
        """
        if not requester.is_teacher:
            raise LimitError("Only the teacher can delete runs.")
        for run_id in run_ids:
            record = self.store.get(run_id)
            if record is not None and record.is_active:
                job = self._jobs.get(run_id)
                who = ", ".join(job.snapshot().waiters) if job else record.requested_by
                raise StoreError(
                    f"Run {run_id} is still {record.status} (for {who or 'another process'}); "
                    "stop it before deleting it."
                )
        for run_id in run_ids:
            self.store.delete(run_id)
            self._deleted.add(run_id)

    def clear(self, requester: Requester = COMMAND_LINE) -> int:
        """Delete every finished run (the teacher's right); queued and training runs stay.
        Returns how many were deleted."""
        finished = [record.run_id for record in self.store.list_runs() if not record.is_active]
        self.delete(finished, requester)
        return len(finished)

    def set_limits(self, limits: Limits, requester: Requester) -> None:
        """Change the class's limits (the teacher's right); they apply to new jobs."""
        if not requester.is_teacher:
            raise LimitError("Only the teacher can change the limits.")
        self.limits = limits

    def was_deleted(self, run_id: str) -> bool:
        """Whether `run_id` was deleted through this service (so a page can say so)."""
        return run_id in self._deleted

    # -- training ------------------------------------------------------------------------------

    def submit(self, config: TrainingConfig, requester: Requester = COMMAND_LINE) -> Submission:
        """Return the stored result, join the job already training `config`, or queue a new one.

        A student's new job must fit the class's limits (`self.limits`): LimitError otherwise,
        with a message that says what to change.
        """
        submission = self._submit(config, requester)
        for hook in self.submit_hooks:
            hook(config, requester, submission)
        return submission

    def _submit(self, config: TrainingConfig, requester: Requester) -> Submission:
        self.touch(requester)
        key = self.cache_key(config)
        record = self.store.find_complete(key)
        if record is not None:
            if self.store.has_files(record.run_id):
                return Submission(record.run_id, cached=True, attached=False)
            # Its files are gone: train it again (damaged files are caught when read).
            self.store.mark_ended(record.run_id, "The run's files are missing.")
        with self._lock:
            job = self._active_job(config)
            if job is not None:  # someone here asked for it already: wait with them
                job.waiters.setdefault(requester.session, requester)
                return Submission(job.run_id, cached=False, attached=True)
            estimate = self.estimate(config)
            self._check_limits(requester, estimate)
            claim = {"owner": self.instance_id, "requested_by": requester.label}
            run_id, created = self.store.claim(config, key, self.data.source, **claim)
            if not created and self._abandoned(run_id):
                self.store.mark_ended(run_id, "Abandoned: its job had ended.", Status.INTERRUPTED)
                run_id, created = self.store.claim(config, key, self.data.source, **claim)
            if not created:
                record = self.store.get(run_id)
                cached = record is not None and record.is_complete  # finished a moment ago
                return Submission(run_id, cached=cached, attached=not cached)
            job = Job(run_id, config, requester)
            job.estimate_seconds = estimate
            job.epoch_listener = lambda history, rid=run_id: self.store.save_progress(rid, history)
            self._jobs[run_id] = job
            last = requester.session == MACHINE_SESSION  # the machine waits for everyone
            self._queue.put(job, self._unfinished_of(requester) - 1, last=last)
        return Submission(run_id, cached=False, attached=False)

    def _abandoned(self, run_id: str) -> bool:
        """An active run of this service that no live job here will finish (its end could not
        be written to the store, say): it must not be waited for."""
        record = self.store.get(run_id)
        if record is None or not record.is_active or record.owner != self.instance_id:
            return False
        job = self._jobs.get(run_id)
        return job is None or job.finished

    def _active_job(self, config: TrainingConfig) -> Job | None:
        return next(
            (job for job in self._jobs.values() if job.config == config and not job.finished),
            None,
        )

    def _unfinished_of(self, requester: Requester) -> int:
        return sum(
            1
            for job in self._jobs.values()
            if job.requester.session == requester.session and not job.finished
        )

    def _check_limits(self, requester: Requester, estimate: float) -> None:
        if requester.is_teacher:
            return
        limits = self.limits
        if self._unfinished_of(requester) >= limits.max_jobs_per_session:
            raise LimitError(
                f"You already have {limits.max_jobs_per_session} runs queued or training, the "
                "most one student may have at once. Wait for one to finish, or stop one."
            )
        cap = limits.max_job_seconds
        if cap is not None and estimate > cap:
            raise LimitError(
                f"This run would take about {_minutes(estimate)}, {_minutes(estimate - cap)} over "
                f"the class's limit of {_minutes(cap)}. Try fewer epochs, a bigger batch or a "
                "smaller share of the training data."
            )

    def touch(self, requester: Requester) -> None:
        """Note that a session is still there (its page reran): its queued jobs are kept."""
        self._seen[requester.session] = time.monotonic()

    def progress(self, run_id: str) -> Progress | None:
        """Where a job stands; works for jobs trained by another process, through the store."""
        job = self._jobs.get(run_id)
        if job is not None:
            state = job.snapshot()
            if state.status == Status.QUEUED:
                position, wait = self._place(job)
                return dataclasses.replace(state, position=position, wait_seconds=wait)
            return state
        record = self.store.get(run_id)
        if record is None or record.config is None:
            return None
        return Progress(
            run_id=run_id,
            config=record.config,
            status=record.status,
            epoch=len(record.history),
            epochs=record.config.epochs,
            history=record.history,
            error=record.error,
            remote=record.is_active,
            worker=record.worker,
            stop_requested=record.stop_requested,
            waiters=(record.requested_by,) if record.requested_by else (),
        )

    def _place(self, job: Job) -> tuple[int, float]:
        """Its position among the waiting jobs, and the estimated wait before it starts: the
        time left of the running jobs and the estimates of those ahead, shared among slots."""
        waiting = self._queue.waiting()
        position = waiting.index(job) if job in waiting else 0
        running = [
            other for other in self._jobs.values() if other.snapshot().status == Status.RUNNING
        ]
        busy = sum(other.remaining_seconds() for other in running)
        ahead = sum(other.estimate_seconds for other in waiting[:position])
        return position, (busy + ahead) / max(1, self.slots)

    def queue(self) -> list[Progress]:
        """Every job of this service not yet finished: training first, then waiting in order."""
        states = [job.snapshot() for job in list(self._jobs.values())]
        running = [state for state in states if state.status == Status.RUNNING]
        waiting = [self.progress(job.run_id) for job in self._queue.waiting()]
        return running + [state for state in waiting if state is not None]

    def stop(self, run_id: str, requester: Requester = COMMAND_LINE) -> str:
        """Stop a run, or take `requester` off it; returns what happened, in a sentence.

        The teacher (and the command line) stop any run. A student cancels a run only when no
        other session waits for it; otherwise they just stop waiting for it. A run trained by
        another process is asked to stop through the store (its owner polls for that).
        """
        job = self._jobs.get(run_id)
        if job is None or job.finished:
            record = self.store.get(run_id)
            if record is None or not record.is_active:
                return "That run is not queued or training."
            if not requester.is_teacher:
                raise LimitError("Only the teacher can stop a run started elsewhere.")
            self.store.request_stop(run_id)
            return "Asked its trainer to stop; it stops after the current batch."
        with self._lock:
            others = [session for session in job.waiters if session != requester.session]
            if others and not requester.is_teacher:
                job.waiters.pop(requester.session, None)
                return (
                    f"You stopped waiting for this run; {len(others)} other session(s) still "
                    "wait for it, so it goes on."
                )
            job.stop_event.set()
            job.update(stop_requested=True)
            if self._queue.remove(job):  # never started: nothing to wait for
                self._end_unstarted(job, "Stopped before it started.", Status.STOPPED)
                return "Stopped before it started."
        return "Stopping after the current batch…"

    def wait(self, run_id: str, timeout: float | None = None) -> Progress | None:
        """Block until the job ends (or `timeout` passes) and return its last snapshot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        job = self._jobs.get(run_id)
        if job is not None:
            job.done.wait(timeout)
            return self.progress(run_id)
        while True:  # trained by another process: poll the store
            progress = self.progress(run_id)
            if progress is None or progress.finished:
                return progress
            if deadline is not None and time.monotonic() > deadline:
                return progress
            time.sleep(REMOTE_POLL_SECONDS)

    def estimate(self, config: TrainingConfig) -> float:
        """Seconds to train `config` here, including any trainer start still to pay."""
        return self._estimates.seconds(config, self.data) + self.executor.start_seconds()

    def calibration(self) -> SpeedCalibration:
        """Training speed of this machine, learnt from the complete runs in the store
        (explorer.service.estimates: re-read every few seconds, and after a job here ends)."""
        return self._estimates.calibration()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop every job, the workers and the trainers, and end the lease (tests, clean exits)."""
        if self._closed.is_set():
            return
        self._closed.set()
        for job in list(self._jobs.values()):
            job.stop_event.set()
            if self._queue.remove(job):
                self._end_unstarted(job, SERVER_STOPPED, Status.INTERRUPTED)
        self._queue.close()
        for worker in self._workers:
            worker.join(timeout)
        self.executor.close(timeout)
        try:
            self.store.end_instance(self.instance_id, SERVER_STOPPED)
        except StoreError:
            traceback.print_exc()
        self.store.close()

    # -- workers -------------------------------------------------------------------------------

    def _work(self, slot: int) -> None:
        while not self._closed.is_set():
            job = self._queue.take(timeout=1.0)
            if job is None:
                continue
            try:
                self._run(job, slot)
            except Exception:  # never let one run's trouble end a worker
                traceback.print_exc()

    def _run(self, job: Job, slot: int) -> None:
        try:
            if job.stop_event.is_set():  # stopped while still queued
                self._end_unstarted(job, "Stopped before it started.", Status.STOPPED)
                return
            if self._orphaned(job):
                self._end_unstarted(
                    job,
                    "Nobody was waiting for it any more, so it was not trained.",
                    Status.STOPPED,
                )
                return
            self.store.mark_running(job.run_id)
            job.update(status=Status.RUNNING)
            result = self.executor.run(job, self.data, slot)
            if self._closed.is_set():  # cut short because the server is stopping
                raise TrainingInterrupted(SERVER_STOPPED)
            self.store.set_worker(job.run_id, job.snapshot().worker or "")
            record = self.store.finish(job.run_id, result)
            job.update(status=record.status, history=record.history)
        except Exception as error:  # the service must outlive any failed run
            interrupted = isinstance(error, TrainingInterrupted)
            status = Status.INTERRUPTED if interrupted else Status.FAILED
            if self._closed.is_set():
                status, error = Status.INTERRUPTED, TrainingInterrupted(SERVER_STOPPED)
            elif status == Status.INTERRUPTED and job.stop_event.is_set():
                status = Status.STOPPED  # cut off because someone pressed Stop: that is what it is
            message = _failure_message(error)
            if status == Status.FAILED:
                traceback.print_exc()
            job.update(status=status, error=message)
            try:
                self.store.mark_ended(job.run_id, message, status)
            except Exception:  # the store itself is failing (disk full): keep serving
                traceback.print_exc()
        finally:
            self._estimates.forget()  # a new run may change the estimate
            job.done.set()

    def _orphaned(self, job: Job) -> bool:
        """Whether nobody waits for a job any more (the command line and the machine always
        wait)."""
        limits = self.limits
        if not limits.drop_orphans:
            return False
        now = time.monotonic()
        return all(
            not requester.always_waits
            and now - self._seen.get(session, now) > limits.orphan_seconds
            for session, requester in job.waiters.items()
        )

    def _end_unstarted(self, job: Job, message: str, status: str) -> None:
        job.update(status=status, error=message)
        self.store.mark_ended(job.run_id, message, status)
        job.done.set()

    def _heartbeat(self) -> None:
        """Renew the lease, pick up stop requests written by other processes, and interrupt
        runs whose owners are gone."""
        while not self._closed.wait(LEASE_SECONDS / 5):
            try:
                self.store.renew_instance(self.instance_id)
                for run_id in self.store.stop_requests(self.instance_id):
                    job = self._jobs.get(run_id)
                    if job is not None and not job.finished:
                        self.stop(run_id, COMMAND_LINE)
                self.store.interrupt_expired()
            except StoreError:  # a full disk, say: the lease is retried on the next beat
                traceback.print_exc()


def _end_at_exit(reference: weakref.ref) -> None:
    service = reference()
    if service is not None:
        service.shutdown(timeout=2.0)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _failure_message(error: Exception) -> str:
    """What the page shows for a failed run, e.g. "ResourceExhaustedError: out of memory"."""
    if isinstance(error, (TrainingFailed, TrainingInterrupted)):  # already says what happened
        return str(error)
    return f"{type(error).__name__}: {error}"


def create_service(
    data_dir: str | None = None,
    home: str | None = None,
    *,
    isolated: bool = True,
    workers: int | None = None,
    ray_address: str | None = None,
    limits: Limits | None = None,
) -> TrainingService:
    """The standard service: the run store under `home` (or EXPLORER_HOME), MNIST found by
    `explorer.data.sources.load_mnist` from `data_dir` (or EXPLORER_DATA_DIR, Keras, the
    bundled sample), and the executor `make_executor` picks: Ray if `ray_address` (or
    EXPLORER_RAY_ADDRESS), else child processes (`isolated`, for servers) or this process."""
    from explorer.data.sources import load_mnist

    executor = make_executor(workers=workers, ray_address=ray_address, isolated=isolated)
    return TrainingService(
        RunStore(home), data_loader=lambda: load_mnist(data_dir), executor=executor, limits=limits
    )
