"""Guesses at the teacher's secret: a guessing session slows down, the server's rate stays
bounded, and the right secret always gets in (explorer.service.guesses)."""

from __future__ import annotations

import threading
import time

import pytest

from explorer.service.guesses import BUSY, WRONG, GuessLimiter, check_secret_strength


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wrong() -> bool:
    return False


def right() -> bool:
    return True


def test_a_sessions_wrong_guesses_double_its_wait_up_to_a_minute():
    clock = FakeClock()
    limiter = GuessLimiter(burst=1000, clock=clock)
    waits = []
    for _ in range(9):
        assert limiter.attempt("student", wrong).message == WRONG
        waits.append(limiter.wait_seconds("student"))
        refused = limiter.attempt("student", right)  # not heard, even when right
        assert not refused.unlocked and "try again in" in refused.message
        clock.now += waits[-1]
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert limiter.checked == 9  # the refused tries were never checked


def test_one_sessions_guessing_never_delays_another_session():
    clock = FakeClock()
    limiter = GuessLimiter(clock=clock)
    for _ in range(5):
        limiter.attempt("student", wrong)
        clock.now += 1
    assert limiter.attempt("teacher", right).unlocked
    assert limiter.wait_seconds("teacher") == 0


def test_a_right_guess_clears_that_sessions_count_and_a_quiet_session_is_forgotten():
    clock = FakeClock()
    limiter = GuessLimiter(clock=clock)
    limiter.attempt("teacher", wrong)
    clock.now += 1
    assert limiter.attempt("teacher", right).unlocked
    assert limiter.wait_seconds("teacher") == 0
    for _ in range(3):
        limiter.attempt("student", wrong)
        clock.now += limiter.wait_seconds("student")
    clock.now += 601
    limiter.attempt("student", wrong)
    assert limiter.wait_seconds("student") == 1  # started again from the first delay


def test_the_server_hears_at_most_its_burst_then_one_guess_per_refill():
    # A script that opens a new session for every guess dodges the per-session wait: the
    # server's bucket still bounds the guesses heard, counted against the elapsed time.
    limiter = GuessLimiter(guesses_per_minute=600, burst=3, max_wait=5)  # one per 0.1 s
    stop = threading.Event()
    counter = iter(range(10**9))

    def guess_forever() -> None:
        while not stop.is_set():
            limiter.attempt(f"script-{next(counter)}", wrong)

    threads = [threading.Thread(target=guess_forever) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the load runs for a while; the assertion counts, it does not time
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    elapsed = time.monotonic() - started
    assert limiter.checked <= 3 + elapsed / 0.1 + 1
    assert limiter.checked >= 3  # the limiter did hear guesses


def test_the_teacher_waits_behind_at_most_the_guess_already_in_line():
    limiter = GuessLimiter(guesses_per_minute=600, burst=1, max_wait=5)
    order: list[str] = []
    stop = threading.Event()

    def student() -> None:
        while not stop.is_set():
            # A student page that ignores its own wait: still one guess in line at a time.
            limiter.attempt("student", lambda: order.append("student") or False)
            limiter._sessions.clear()  # as if from a fresh session each time

    thread = threading.Thread(target=student)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while order.count("student") < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        before = len(order)
        assert limiter.attempt("teacher", lambda: order.append("teacher") or True).unlocked
    finally:
        stop.set()
        thread.join(timeout=10)
    assert order.index("teacher", before) - before <= 1


def test_a_guess_that_waits_too_long_in_line_is_told_to_try_again():
    limiter = GuessLimiter(guesses_per_minute=6, burst=0, max_wait=0.05)
    assert limiter.attempt("someone", right).message == BUSY
    assert limiter.checked == 0


@pytest.mark.parametrize(
    ("password", "refused"),
    [("short", True), ("apple-pie-4", True), ("apple-pie-42", False), ("a" * 40, False)],
    ids=["5 characters", "11 characters", "12 characters", "40 characters"],
)
def test_a_teacher_password_shorter_than_12_characters_is_refused(password, refused):
    if refused:
        with pytest.raises(ValueError, match=f"has {len(password)} characters: use at least 12"):
            check_secret_strength(password)
    else:
        check_secret_strength(password)
