"""Training on this machine, in child processes, so the server that draws pages never loads
TensorFlow.

    pool = LocalPool(workers=2)                 # two children, each with its share of the cores
    pool.warm(data)                             # start them now: TensorFlow loads meanwhile
    result = pool.run(job, data, slot=0)        # blocks; forwards progress; obeys job.stop_event
    pool.close()

Why processes: a training holds a core for seconds. In the server's own process it would compete
with every page rerun for the interpreter, and Streamlit clears Keras and collects garbage after
every script run once Keras is imported (bench/class_load.py: reruns of 26 s with 30 sessions).

Each child is `python -m explorer.service.child`: it imports the training code and nothing of the
page. It lives for many jobs, so TensorFlow loads once, and talks to the server over a socket:
the server sends data, jobs and stop requests; the child sends a heartbeat every second, progress,
and the result (the server writes the store). The server ends a child that
- stops answering for `watchdog_seconds` (hung, or stopped with SIGSTOP): the run is interrupted;
- does not obey Stop within `stop_grace_seconds`;
- has trained `max_runs` runs or grown past `max_rss_mb` (TensorFlow's memory grows run by run):
  between jobs, so the next job starts a fresh child;
and a child exits by itself after `idle_seconds` without a job, giving its memory back, or as soon
as its server is gone.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from explorer.data.sources import MnistData
from explorer.service import protocol
from explorer.service.jobs import Job, TrainingFailed, TrainingInterrupted
from explorer.training.runtime import training_threads

# How often the server checks the stop button and the child's health while waiting for messages.
POLL_SECONDS = 0.1


@dataclass(frozen=True)
class TrainerSettings:
    """How the server looks after its trainer children (see the module docstring)."""

    heartbeat_seconds: float = 1.0
    watchdog_seconds: float = 30.0
    stop_grace_seconds: float = 10.0
    max_runs: int = 100
    max_rss_mb: float = 2500.0
    idle_seconds: float = 600.0

    @classmethod
    def from_environment(cls) -> TrainerSettings:
        """EXPLORER_WATCHDOG_SECONDS, EXPLORER_TRAINER_MAX_RUNS, EXPLORER_TRAINER_MAX_MB and
        EXPLORER_TRAINER_IDLE_SECONDS override the defaults."""
        values: dict[str, Any] = {}
        for name, field_name, kind in (
            ("EXPLORER_WATCHDOG_SECONDS", "watchdog_seconds", float),
            ("EXPLORER_TRAINER_MAX_RUNS", "max_runs", int),
            ("EXPLORER_TRAINER_MAX_MB", "max_rss_mb", float),
            ("EXPLORER_TRAINER_IDLE_SECONDS", "idle_seconds", float),
        ):
            text = os.environ.get(name, "").strip()
            if not text:
                continue
            try:
                values[field_name] = kind(text)
            except ValueError:
                raise ValueError(f"{name} must be a number; got {text!r}.") from None
            if values[field_name] <= 0:
                raise ValueError(f"{name} must be above 0; got {text!r}.")
        return cls(**values)


def default_workers() -> int:
    """EXPLORER_WORKERS, else one child per core but one, which is left for the pages."""
    text = os.environ.get("EXPLORER_WORKERS", "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise ValueError(f"EXPLORER_WORKERS must be a whole number above 0; got {text!r}.")
        return int(text)
    return max(1, (os.cpu_count() or 2) - 1)


class LocalPool:
    """The executor that trains in `workers` child processes on this machine."""

    def __init__(self, workers: int | None = None, settings: TrainerSettings | None = None):
        self.slots = workers or default_workers()
        threads = training_threads(self.slots)
        settings = settings or TrainerSettings.from_environment()
        self.trainers = [TrainerProcess(threads, settings) for _ in range(self.slots)]

    def run(self, job: Job, data: MnistData, slot: int):
        return self.trainers[slot].run(job, data)

    def warm(self, data: MnistData) -> None:
        """Start every child now (the service calls this on a thread of its own), so the next
        Train does not wait for TensorFlow to load."""
        starting = [
            threading.Thread(target=trainer.start, args=(data,), daemon=True)
            for trainer in self.trainers
        ]
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join()

    def start_seconds(self) -> float:
        """What the next job still pays to start a child (0 when one is ready)."""
        return min(trainer.start_seconds() for trainer in self.trainers)

    def close(self, timeout: float = 5.0) -> None:
        for trainer in self.trainers:
            trainer.close(timeout)


class TrainerProcess:
    """One child training process; `run` is called by one worker thread of the service."""

    # Seconds a child took to be ready (import TensorFlow) last time: the estimate's start cost.
    measured_start_seconds = 8.0

    def __init__(self, threads: int, settings: TrainerSettings) -> None:
        self.threads = threads
        self.settings = settings
        self.process: subprocess.Popen | None = None
        self.runs = 0  # runs this child trained
        self.recycles = 0  # children ended for their age or size
        self.rss_mb = 0.0
        self.version_problem: str | None = None  # the child speaks another protocol version
        self._connection: Connection | None = None
        self._data_fingerprint: str | None = None
        self._ready = False
        self._started_at = 0.0
        self._lock = threading.Lock()  # starting and ending the child: one at a time
        self._send_lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, data: MnistData) -> None:
        """Make sure a child runs and holds `data` (a fresh child loads TensorFlow first)."""
        with self._lock:
            if self.process is None or self.process.poll() is not None:
                self._spawn()
                self._await_ready()
            if self._data_fingerprint != data.fingerprint:
                self._send(protocol.LoadData(data))
                self._data_fingerprint = data.fingerprint

    def start_seconds(self) -> float:
        """What a job sent now still pays for the child to be ready (loading TensorFlow)."""
        if self.process is None or self.process.poll() is not None:  # none, or it exited idle
            return TrainerProcess.measured_start_seconds
        if self._ready:
            return 0.0
        elapsed = time.monotonic() - self._started_at
        return max(0.0, TrainerProcess.measured_start_seconds - elapsed)

    def run(self, job: Job, data: MnistData):
        """Train `job.config` in the child; return its TrainingResult when it ends.

        Raises TrainingFailed if the training fails, TrainingInterrupted if the child dies, is
        killed, hangs, or ignores Stop.
        """
        self.start(data)
        if self.version_problem is not None:
            raise TrainingFailed(self.version_problem)
        job.update(worker=f"local:{self.pid}")
        self._send(protocol.Train(job.config, job.run_id))
        settings = self.settings
        heard = time.monotonic()
        stop_sent = None
        try:
            while True:
                now = time.monotonic()
                if job.stop_event.is_set() and stop_sent is None:
                    self._send(protocol.Stop(job.run_id))
                    stop_sent = now
                if stop_sent is not None and now - stop_sent > settings.stop_grace_seconds:
                    raise TrainingInterrupted(
                        f"Stopped: the trainer did not stop within "
                        f"{settings.stop_grace_seconds:g} s, so it was ended."
                    )
                if now - heard > settings.watchdog_seconds:
                    raise TrainingInterrupted(
                        f"The trainer stopped answering for {settings.watchdog_seconds:g} s, so "
                        "it was ended. Train again to retry."
                    )
                if not self._connection.poll(POLL_SECONDS):
                    if self.process.poll() is not None:
                        raise self._died()
                    continue
                try:
                    message = self._connection.recv()
                except (EOFError, OSError):
                    raise self._died() from None
                heard = time.monotonic()
                if self._note_state(message) or job.receive(message):
                    pass
                elif isinstance(message, protocol.Finished):
                    self.runs += 1
                    return message.result
                elif isinstance(message, protocol.Failed):
                    self.runs += 1
                    raise TrainingFailed(message.message)
        except TrainingInterrupted:
            self.close(timeout=1.0)
            raise
        finally:
            self._recycle_if_due()

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to exit; kill it if it does not within `timeout`."""
        with self._lock:
            self._end(timeout)

    def _recycle_if_due(self) -> None:
        settings = self.settings
        if self.process is None or self.process.poll() is not None:
            return
        if self.runs >= settings.max_runs or self.rss_mb > settings.max_rss_mb:
            self.recycles += 1
            self.close()

    def _spawn(self) -> None:
        self._end(timeout=1.0)
        ours, theirs = socket.socketpair()
        command = [sys.executable, "-m", "explorer.service.child", str(theirs.fileno())]
        command += [str(os.getpid()), str(self.threads), repr(self.settings.heartbeat_seconds)]
        command.append(repr(self.settings.idle_seconds))
        environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, pass_fds=[theirs.fileno()], env=environment, stdin=subprocess.DEVNULL
        )
        theirs.close()
        self._connection = Connection(ours.detach())
        self._data_fingerprint = None
        self._ready = False
        self._started_at = time.monotonic()
        self.runs = 0
        self.rss_mb = 0.0

    def _await_ready(self) -> None:
        """Read the new child's messages until it says it is ready, so that `start_seconds`
        (the page's estimate) drops to 0 the moment TensorFlow has loaded. Gives up quietly if
        the child dies or stays silent past the watchdog: `run` then reports why."""
        deadline = time.monotonic() + self.settings.watchdog_seconds
        while not self._ready and time.monotonic() < deadline:
            if not self._connection.poll(POLL_SECONDS):
                if self.process.poll() is not None:
                    return
                continue
            try:
                message = self._connection.recv()
            except (EOFError, OSError):
                return
            self._note_state(message)

    def _note_state(self, message: object) -> bool:
        """Take in a message about the child itself (its size, its readiness); False for any
        other message."""
        if isinstance(message, protocol.Beat):
            self.rss_mb = message.resident_mb
        elif isinstance(message, protocol.Ready):
            self._ready = True
            self.version_problem = protocol.version_problem(message.version)
            TrainerProcess.measured_start_seconds = message.start_seconds
        else:
            return False
        return True

    def _end(self, timeout: float) -> None:
        process, connection = self.process, self._connection
        self.process = self._connection = None
        self._data_fingerprint = None
        if connection is not None:
            with contextlib.suppress(OSError, ValueError):
                connection.send(protocol.Exit())
        if process is not None:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        if connection is not None:
            connection.close()

    def _send(self, message: object) -> None:
        with self._send_lock:
            self._connection.send(message)

    def _died(self) -> Exception:
        process = self.process
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(1.0)
        code = process.returncode
        with self._lock:
            self._end(timeout=1.0)
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else -code
            return TrainingInterrupted(f"The training process was ended by signal {name}.")
        return TrainingFailed(
            f"The training process ended unexpectedly (exit code {code}). Train again to retry."
        )
