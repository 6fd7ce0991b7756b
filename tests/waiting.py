"""Waiting in tests: for a condition or for a line from a child process, always with a deadline.

wait_until(lambda: service.progress(run_id).finished, timeout=60)   # returns the value
line = read_line(process, "READY", timeout=20)                      # never blocks forever
"""

from __future__ import annotations

import select
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.01) -> T:
    """Call `condition` until it returns something true, and return that; fail at `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout:g} s")
        time.sleep(interval)


def read_line(process: subprocess.Popen, prefix: str = "", timeout: float = 20.0) -> str:
    """The first line of the child's stdout starting with `prefix` (fails if it dies first or
    says nothing in time). The child's stdout must be a text pipe."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.1)
        if ready:
            line = process.stdout.readline()
            if line.startswith(prefix) and line:
                return line.strip()
            if not line and process.poll() is not None:
                break
    process.kill()
    _, stderr = process.communicate(timeout=10)
    raise AssertionError(f"no {prefix!r} line from the child in {timeout:g} s; stderr:\n{stderr}")
