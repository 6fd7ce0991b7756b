"""Training in a child process, so the server that draws the pages never loads TensorFlow.

    trainer = TrainerProcess()
    record = trainer.run(job, data, store)    # blocks; forwards progress to `job`; obeys job's stop
    trainer.close()

Why a process and not a thread: a training holds both cores for seconds. In the server's own
process it competes with every page rerun for the interpreter, and once Keras is imported,
Streamlit clears the Keras session and collects garbage after every script run (measured in
bench/class_load.py: reruns of 26 s at p50 with 30 sessions). A child process keeps the server
light (no TensorFlow, no float32 copy of the data) and runs at a lower priority, so pages stay
instant while it trains.

One child serves jobs one at a time and lives as long as the service, so TensorFlow is imported
once, not once per run. The child writes the result to the run store itself (the large arrays
never cross the pipe) and sends small messages back: start, batch, epoch, finished or failed.
If the child dies, the job fails with a message and the next job starts a new child. If the
server dies, the child notices within a second and exits, and the run is later marked
interrupted like any run whose process died.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
import traceback
import weakref
from typing import Any

from explorer.data.sources import MnistData
from explorer.service.jobs import Job
from explorer.store.records import RunRecord
from explorer.store.registry import RunStore

# How often the server checks the stop button and the child's health while waiting for messages.
POLL_SECONDS = 0.1
# Training yields to page reruns: a niceness of 5 gives the server the cores when it needs them.
CHILD_NICENESS = 5


# Every TrainerProcess of this process, so tests (and clean exits) can end their children.
_ALL: weakref.WeakSet[TrainerProcess] = weakref.WeakSet()


def close_all(timeout: float = 5.0) -> None:
    """End the child of every TrainerProcess in this process."""
    for trainer in list(_ALL):
        trainer.close(timeout)


class TrainingProcessError(RuntimeError):
    """A training in the child process failed; the message says why, for the page to show."""


class TrainerProcess:
    """Owns one child training process; `run` is called by the service's worker thread only."""

    def __init__(self) -> None:
        self._context = multiprocessing.get_context("spawn")  # fork is unsafe with threads
        self._process = None
        self._connection = None
        # Made with the child: a multiprocessing Event starts a helper process, which a page
        # view that never trains should not pay for.
        self._stop = None
        self._data_fingerprint: str | None = None
        # Starting and ending the child happen on the worker thread and on shutdown: one at once.
        self._lifecycle = threading.Lock()
        _ALL.add(self)

    def run(self, job: Job, data: MnistData, store: RunStore) -> RunRecord:
        """Train `job.config` on `data` in the child; return the stored record when it ends.

        Raises TrainingProcessError if the training fails or the child dies.
        """
        connection = self._ensure_child(data)
        self._stop.clear()
        connection.send(("train", job.run_id, job.config, str(store.home)))
        while True:
            if job.stop_event.is_set():
                self._stop.set()
            if not connection.poll(POLL_SECONDS):
                if not self._process.is_alive():
                    raise self._died()
                continue
            try:
                message = connection.recv()
            except (EOFError, OSError):
                raise self._died() from None
            kind = message[0]
            if kind == "start":
                job.on_start(*message[1:])
            elif kind == "batch":
                job.on_batch(*message[1:])
            elif kind == "epoch":
                job.on_epoch(*message[1:])
            elif kind == "finished":
                record = store.get(job.run_id)
                if record is None:
                    raise TrainingProcessError("The finished run vanished from the store.")
                return record
            elif kind == "failed":
                raise TrainingProcessError(message[1])

    def close(self, timeout: float = 5.0) -> None:
        """Ask the child to exit after its current job; kill it if it does not."""
        with self._lifecycle:
            self._close(timeout)

    def _close(self, timeout: float) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._connection is not None:
            with contextlib.suppress(OSError, ValueError):  # already gone
                self._connection.send(("exit",))
        if self._process is not None:
            self._process.join(timeout)
            if self._process.is_alive():
                self._process.kill()
                self._process.join(timeout)
        self._process = self._connection = None

    def _ensure_child(self, data: MnistData):
        with self._lifecycle:
            if self._process is None or not self._process.is_alive():
                self._start_child()
        if self._data_fingerprint != data.fingerprint:
            self._connection.send(("data", data))
            self._data_fingerprint = data.fingerprint
        return self._connection

    def _start_child(self) -> None:
        self._close(timeout=1.0)
        parent_end, child_end = self._context.Pipe()
        self._stop = self._context.Event()
        self._process = self._context.Process(
            target=child_main,
            args=(child_end, self._stop, os.getpid()),
            name="explorer-trainer",
            daemon=True,  # ends with the server
        )
        self._process.start()
        child_end.close()
        self._connection = parent_end
        self._data_fingerprint = None

    def _died(self) -> TrainingProcessError:
        process = self._process
        process.join(1.0)
        code = process.exitcode
        self._process = self._connection = None
        return TrainingProcessError(
            f"The training process ended unexpectedly (exit code {code}). Train again to retry."
        )


class _PipeListener:
    """The training loop's ProgressListener, forwarding each call to the server."""

    def __init__(self, connection) -> None:
        self._connection = connection

    def on_start(self, epochs: int, steps_per_epoch: int, train_samples: int) -> None:
        self._connection.send(("start", epochs, steps_per_epoch, train_samples))

    def on_batch(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        self._connection.send(("batch", epoch, step, {k: float(v) for k, v in logs.items()}))

    def on_epoch(self, epoch: int, record: dict[str, float]) -> None:
        self._connection.send(("epoch", epoch, record))


def child_main(connection, stop, parent_pid: int) -> None:
    """The child's loop: receive data and jobs, train, store, report. Not called directly."""
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    with contextlib.suppress(OSError):  # not allowed here: train at normal priority
        os.nice(CHILD_NICENESS)
    from explorer.training.loop import train

    data: MnistData | None = None
    while True:
        try:
            message: tuple[Any, ...] = connection.recv()
        except (EOFError, OSError):  # the server closed the pipe
            return
        if message[0] == "exit":
            return
        if message[0] == "data":
            data = message[1]
            continue
        _, run_id, config, home = message
        try:
            result = train(config, data, progress=_PipeListener(connection), stop=stop)
            RunStore(home).finish(run_id, result)
            reply: tuple[Any, ...] = ("finished",)
        except Exception as error:  # report it; the server marks the run failed
            traceback.print_exc()
            reply = ("failed", f"{type(error).__name__}: {error}")
        try:
            connection.send(reply)
        except (OSError, ValueError):
            return


def _exit_with_parent(parent_pid: int) -> None:
    """Exit at once if the server process goes away (killed), instead of training for nobody."""
    while True:
        if os.getppid() != parent_pid:
            os._exit(1)
        time.sleep(1.0)
