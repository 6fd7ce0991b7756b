"""The Explore view's runs take turns: one session's at a time, the others wait a moment.

    with turns.one_at_a_time():
        explore(service)

When a class moves its sliders together, thirty script threads draw the same page at once.
Python runs one thread at a time, and thirty threads that each hand the interpreter over at
every element they send (Streamlit wakes its event loop for each one) spend much of their time
handing it over: in a burst of 29 slider moves (bench/class_load.py) a result page's rerun cost
the server about 24 ms of CPU with every thread drawing at once, and 17 ms when they drew one
after another, and the last of the 29 was drawn sooner. Two or four at a time gained nothing.

A session waits at most WAIT_SECONDS for its turn and then draws anyway, so a run that blocks
(the first view loading MNIST, a slow disk) can never hold the class up for longer. Only the
Explore view takes turns: it is what a class reruns together; the other views and the live
parts' own redraws run as before.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

WAIT_SECONDS = 2.0
_TURN = threading.Lock()


@contextlib.contextmanager
def one_at_a_time() -> Iterator[bool]:
    """Wait (at most WAIT_SECONDS) until no other session is drawing inside this block; yields
    whether this run got the turn (False: it waited long enough and draws alongside)."""
    turn = _TURN.acquire(timeout=WAIT_SECONDS)
    try:
        yield turn
    finally:
        if turn:
            _TURN.release()
