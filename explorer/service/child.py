"""A trainer child: the process that `explorer.service.local.TrainerProcess` starts.

    python -m explorer.service.child FD PARENT_PID THREADS HEARTBEAT_SECONDS IDLE_SECONDS

Started by its parent only, with one end of a socket pair as FD. It loads TensorFlow once, says
it is ready, then takes data, jobs and stop requests from the socket and answers with a
heartbeat every HEARTBEAT_SECONDS, progress and a result. It exits after IDLE_SECONDS without a
job, or as soon as its parent is gone.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection

from explorer.data.sources import MnistData
from explorer.service import protocol
from explorer.service.jobs import Reporter

# Training yields to page reruns: a niceness of 5 gives the server the cores when it needs them.
CHILD_NICENESS = 5


@contextlib.contextmanager
def _quiet_stderr():
    """Send this process's stderr (file descriptor 2, where C++ libraries print) to /dev/null,
    then put it back. An import that fails still raises its error as usual."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _resident_mb() -> float:
    """This process's resident memory now, in MiB (its peak where /proc is missing)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_main(fd: int, parent_pid: int, threads: int, heartbeat: float, idle: float) -> None:
    """The child's loop: receive data and jobs, train, report. Not called directly."""
    started = time.monotonic()
    connection = Connection(fd)
    send_lock = threading.Lock()
    stop = threading.Event()  # set while the job in hand is asked to stop
    busy = threading.Event()
    jobs: list[object] = []
    # Stop names its run: one that arrives before its job is taken up (the trainer was still
    # warming up) still stops that job, and a late one never stops the next job.
    stops: set[str] = set()
    current: list[str | None] = [None]  # the run in hand
    wake = threading.Condition()

    def send(message: object) -> None:
        with send_lock:
            connection.send(message)

    def beat() -> None:  # liveness for the server's watchdog, and our size for recycling
        while True:
            if os.getppid() != parent_pid:  # the server is gone: nobody needs this training
                os._exit(1)
            with contextlib.suppress(OSError, ValueError):
                send(protocol.Beat(_resident_mb()))
            time.sleep(heartbeat)

    def listen() -> None:  # the main thread trains; this one hears Stop while it does
        while True:
            if not connection.poll(idle):
                with wake:
                    if not jobs and not busy.is_set():
                        os._exit(0)  # idle too long: give the memory back
                continue
            try:
                message = connection.recv()
            except (EOFError, OSError):
                os._exit(0)
            with wake:
                if isinstance(message, protocol.Stop):
                    stops.add(message.run_id)
                    if message.run_id == current[0]:
                        stop.set()
                    continue
                jobs.append(message)
                wake.notify()

    with contextlib.suppress(OSError):  # not allowed here: train at normal priority
        os.nice(CHILD_NICENESS)
    os.environ["EXPLORER_TRAINING_THREADS"] = str(threads)
    threading.Thread(target=beat, daemon=True).start()
    from explorer.training.loop import train, warm_up
    from explorer.training.runtime import load_tensorflow

    with _quiet_stderr():  # TensorFlow's start-up banner is noise in a teacher's terminal
        load_tensorflow()  # now, while nobody waits
    send(protocol.Ready(time.monotonic() - started))
    threading.Thread(target=listen, daemon=True).start()
    data: MnistData | None = None
    while True:
        with wake:
            wake.wait_for(lambda: jobs)
            message = jobs.pop(0)
        if isinstance(message, protocol.Exit):  # nothing is pending: skip the slow teardown
            os._exit(0)
        if isinstance(message, protocol.LoadData):
            data = message.data
            # Only a head start: if it fails, the job that follows meets the error and reports it.
            with contextlib.suppress(Exception):
                warm_up(data)
            continue
        config, run_id = message.config, message.run_id
        with wake:
            current[0] = run_id
            stop.clear()
            if run_id in stops:
                stop.set()
        busy.set()
        try:
            result = train(config, data, progress=Reporter(send), stop=stop)
            reply: protocol.Finished | protocol.Failed = protocol.Finished(result)
        except Exception as error:  # report it; the server marks the run failed
            traceback.print_exc()
            reply = protocol.Failed.from_error(error)
        finally:
            busy.clear()
            with wake:
                current[0] = None
                stops.discard(run_id)
        try:
            send(reply)
        except (OSError, ValueError):
            return


if __name__ == "__main__":
    child_main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:6]))
