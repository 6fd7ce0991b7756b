"""Guesses at the teacher's secret: slow for a guessing session, bounded for the whole server,
and never a way to keep the teacher out.

    limiter = GuessLimiter()
    verdict = limiter.attempt(session_id, lambda: hmac.compare_digest(guess, secret))
    verdict.unlocked, verdict.message      # True, "" | False, "That is not the teacher's ..."
    check_secret_strength(password)        # ValueError for a password shorter than 12 characters

Two limits. JupyterHub's NativeAuthenticator refuses a user name for a while after a few failed
logins, and Jupyter Server relies on a long random token; with one secret and no user names, a
lockout would let a student lock the teacher out, so here guesses are slowed and queued instead:

- **Per session.** After a session's n-th wrong guess its next guess is not even heard for
  2^(n-1) seconds (1, 2, 4 ... up to 60). A student at one page soon waits a minute per guess.
- **For the whole server.** Every guess that is heard takes a ticket from a bucket that holds
  `BURST` tickets and gets one back every `60 / GUESSES_PER_MINUTE` seconds: however many
  sessions guess, the server checks at most `GUESSES_PER_MINUTE` a minute (after a first burst).
  A guess that finds the bucket empty waits in line, first come first served, for the next
  ticket, so the window passes instead of growing: it is never refused for the teacher. One
  student session has at most one guess in line (its page waits for the answer), so it delays
  the teacher's right secret by one ticket at most (`60 / GUESSES_PER_MINUTE` seconds).

A per-session limit alone would not bound the rate (a script opens new sessions), and a server
limit that refuses guesses would let a student lock the teacher out, which is why the server's
limit queues instead. Sessions are told apart by a random id, never by their address.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
from collections.abc import Callable

# The whole server hears at most this many guesses a minute, after a first burst of BURST.
GUESSES_PER_MINUTE = 60
BURST = 10
# A session's wait after its n-th wrong guess: FIRST_DELAY * 2^(n-1), at most MAX_DELAY.
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0
# A session that has not guessed wrong for this long starts again from its first delay.
FORGET_AFTER_SECONDS = 600.0
# A guess waits at most this long in the server's line before it is told to try again.
MAX_WAIT_SECONDS = 30.0
# A password set by the teacher must be at least this long: at GUESSES_PER_MINUTE, trying every
# 12-character password of lower-case letters alone takes three billion years.
MIN_PASSWORD_LENGTH = 12

WRONG = "That is not the teacher's password."
BUSY = "The server is hearing many guesses: try again in a moment."


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What became of one guess: `unlocked`, or a short `message` for the sidebar."""

    unlocked: bool
    message: str = ""


@dataclasses.dataclass
class _Session:
    wrong: int = 0  # wrong guesses since this session last waited FORGET_AFTER_SECONDS
    heard_after: float = 0.0  # its next guess is not heard before this time
    last_wrong: float = 0.0


class GuessLimiter:
    """Hears guesses at the teacher's secret within the limits of the module docstring.

    Thread-safe: every session's page run calls `attempt` from its own thread. `checked` counts
    the guesses heard (right or wrong), for tests and benchmarks."""

    def __init__(
        self,
        *,
        guesses_per_minute: float = GUESSES_PER_MINUTE,
        burst: int = BURST,
        first_delay: float = FIRST_DELAY_SECONDS,
        max_delay: float = MAX_DELAY_SECONDS,
        max_wait: float = MAX_WAIT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refill_seconds = 60.0 / guesses_per_minute
        self.burst = burst
        self.first_delay, self.max_delay, self.max_wait = first_delay, max_delay, max_wait
        self._clock = clock
        self._condition = threading.Condition()
        self._tickets = float(burst)
        self._refilled_at = clock()
        self._line: collections.deque[object] = collections.deque()
        self._sessions: dict[str, _Session] = {}
        self.checked = 0

    def attempt(self, session: str, is_right: Callable[[], bool]) -> Verdict:
        """Hear one guess of `session` (unless it must still wait), checked by `is_right`."""
        with self._condition:
            now = self._clock()
            self._forget_quiet(now)
            record = self._sessions.get(session)
            if record is not None and now < record.heard_after:
                wait = record.heard_after - now
                return Verdict(False, f"Too many wrong guesses: try again in {wait:.0f} s.")
            if not self._take_ticket():
                return Verdict(False, BUSY)
            self.checked += 1
        right = is_right()
        with self._condition:
            now = self._clock()
            if right:
                self._sessions.pop(session, None)
                return Verdict(True)
            record = self._sessions.setdefault(session, _Session())
            record.wrong += 1
            record.last_wrong = now
            delay = min(self.max_delay, self.first_delay * 2 ** (record.wrong - 1))
            record.heard_after = now + delay
            return Verdict(False, WRONG)

    def wait_seconds(self, session: str) -> float:
        """How long `session` must wait before its next guess is heard (0 if it need not)."""
        with self._condition:
            record = self._sessions.get(session)
            return max(0.0, record.heard_after - self._clock()) if record else 0.0

    def _take_ticket(self) -> bool:
        """Wait in line for a ticket (the caller holds the condition); False past max_wait."""
        place = object()
        self._line.append(place)
        deadline = self._clock() + self.max_wait
        try:
            while True:
                self._refill()
                if self._line[0] is place and self._tickets >= 1:
                    self._tickets -= 1
                    return True
                remaining = deadline - self._clock()
                if remaining <= 0:
                    return False
                next_ticket = (1 - self._tickets % 1) * self.refill_seconds
                self._condition.wait(min(remaining, max(next_ticket, 0.001)))
        finally:
            self._line.remove(place)
            self._condition.notify_all()  # the next in line may take a ticket now

    def _refill(self) -> None:
        now = self._clock()
        earned = (now - self._refilled_at) / self.refill_seconds
        self._tickets = min(float(self.burst), self._tickets + earned)
        self._refilled_at = now

    def _forget_quiet(self, now: float) -> None:
        # Old records go, so a server up for weeks keeps a few entries, not one per visit.
        quiet = [
            name
            for name, record in self._sessions.items()
            if now - record.last_wrong > FORGET_AFTER_SECONDS and now >= record.heard_after
        ]
        for name in quiet:
            del self._sessions[name]


def check_secret_strength(password: str, source: str = "EXPLORER_TEACHER_PASSWORD") -> None:
    """Refuse a teacher password that a bounded guess rate would not protect (ValueError)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"The teacher password in {source} has {len(password)} characters: use at least "
            f"{MIN_PASSWORD_LENGTH} (a few words make a good one), or unset it to use the "
            "token the server makes. The class server does not start with a short password."
        )
