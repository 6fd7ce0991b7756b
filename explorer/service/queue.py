"""A fair queue of training jobs, and the limits a class server puts on them.

    queue = FairQueue()
    queue.put(job)              # job.requester decides its place
    job = queue.take(timeout=1) # the next job to train, or None
    queue.waiting()             # the jobs still waiting, in the order they will start

**Fair** means round robin between the people asking: a job's round is how many unfinished jobs
its requester already had when it was queued, and the queue serves the lowest round first, in
order of arrival. So if A queues three jobs and then B and C one each, they train A1, B1, C1, A2,
A3, and one student's long list never holds back another student's first job.

The machine's search (explorer.service.search) asks as the session MACHINE_SESSION: the service
queues its jobs `last`, behind every other waiting job, so they start only when nobody else's
job waits.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from explorer.service.jobs import Job

# The session of the machine's search: one more participant, served last.
MACHINE_SESSION = "machine"


@dataclass(frozen=True)
class Limits:
    """What a class server allows students (the teacher and the command line are not limited).

    Read from the environment by `from_environment`; the teacher can change them on the page.
    """

    # Jobs a session may have queued or training at once.
    max_jobs_per_session: int = 3
    # A student's job estimated to take longer than this is refused before it is queued.
    max_job_seconds: float | None = None
    # A queued job nobody waits for any more (and the command line did not ask for) is dropped
    # before it starts, once its sessions have been silent for `orphan_seconds`.
    drop_orphans: bool = True
    orphan_seconds: float = 120.0

    @classmethod
    def from_environment(cls, class_mode: bool = False) -> Limits:
        """EXPLORER_MAX_JOBS_PER_SESSION, EXPLORER_MAX_JOB_SECONDS (default 600 s in class
        mode, none on a laptop), EXPLORER_DROP_ORPHANS (1/0)."""
        cap = os.environ.get("EXPLORER_MAX_JOB_SECONDS", "").strip()
        jobs = os.environ.get("EXPLORER_MAX_JOBS_PER_SESSION", "").strip()
        drop = os.environ.get("EXPLORER_DROP_ORPHANS", "").strip().lower()
        return cls(
            max_jobs_per_session=_positive_int("EXPLORER_MAX_JOBS_PER_SESSION", jobs) or 3,
            max_job_seconds=_positive_float("EXPLORER_MAX_JOB_SECONDS", cap)
            or (600.0 if class_mode else None),
            drop_orphans=drop not in ("0", "false", "no", "off"),
        )


def _positive_int(name: str, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1; got {text!r}.")
    return int(text)


def _positive_float(name: str, text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ValueError(f"{name} must be a number of seconds above 0; got {text!r}.")
    return value


class FairQueue:
    """Jobs waiting to train, served round robin between requesters (see the module docstring)."""

    def __init__(self) -> None:
        self._waiting: list[Job] = []
        self._sequence = 0
        self._ready = threading.Condition()
        self._closed = False

    def put(self, job: Job, unfinished_of_requester: int, *, last: bool = False) -> None:
        """Queue `job`; `unfinished_of_requester` is how many jobs its requester already has
        queued or training (the service counts them): that is its round. A `last` job (the
        machine's) waits behind every other job, whatever its round."""
        with self._ready:
            self._sequence += 1
            job.fair_round, job.sequence = unfinished_of_requester, self._sequence
            job.last = last
            self._waiting.append(job)
            self._waiting.sort(key=lambda queued: (queued.last, queued.fair_round, queued.sequence))
            self._ready.notify()

    def take(self, timeout: float | None = None) -> Job | None:
        """The next job to train (removed from the queue), or None after `timeout` or close."""
        with self._ready:
            if not self._ready.wait_for(lambda: self._waiting or self._closed, timeout):
                return None
            return self._waiting.pop(0) if self._waiting else None

    def remove(self, job: Job) -> bool:
        """Take `job` out before it starts; False if it is not waiting."""
        with self._ready:
            if job in self._waiting:
                self._waiting.remove(job)
                return True
            return False

    def waiting(self) -> list[Job]:
        """The waiting jobs in the order they will start."""
        with self._ready:
            return list(self._waiting)

    def close(self) -> None:
        """Wake every worker waiting in `take`; they get None from now on."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()
