"""Who is at the page: the teacher, or a student on a class server.

    roles.setup()                 # first thing on every run: class mode, a ?teacher= link
    requester = roles.requester() # Requester(session id, "teacher" | "student") for the service
    roles.unlock_panel()          # in the sidebar: unlock with the secret, or "Teacher" if unlocked

**Laptop** (the server listens on localhost only, the default): the one user is the teacher.
**Class server** (it listens on any other address, or EXPLORER_TEACHER_PASSWORD is set): every
session is a student until it unlocks with the teacher's secret, from `?teacher=SECRET` or the
sidebar's "Teacher" field. The secret is, in this order: EXPLORER_TEACHER_PASSWORD;
`teacher_password` in .streamlit/secrets.toml; a token the service makes once, keeps in
EXPLORER_HOME/teacher_token (mode 0600, `TrainingService.teacher_token`), and the server prints
in its terminal as a `?teacher=` link.

The secret is compared with `hmac.compare_digest`, leaves the address bar at once, and never
enters a link, a log line or an export. Wrong guesses are slowed down: each one doubles the wait
before the next guess is heard (per session, and for the whole server). Sessions are told apart
by a random id, never by their address, which can be spoofed and behind a proxy is the same for
everyone.
"""

from __future__ import annotations

import hmac
import os
import secrets
import threading
import time

import streamlit as st

from explorer.service.jobs import Requester, Role
from explorer.ui.resources import get_service

LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1", "")
SESSION = "session_id"
TEACHER = "is_teacher"
# The wait after a wrong guess doubles from this, up to MAX_DELAY_SECONDS.
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 60.0


def class_mode() -> bool:
    """Whether this server is a class server (see the module docstring)."""
    if os.environ.get("EXPLORER_TEACHER_PASSWORD"):
        return True
    address = str(st.get_option("server.address") or "").strip().lower()
    return address not in LOCAL_ADDRESSES


def setup() -> None:
    """Run first on every page run: make this session's id, hide tracebacks from students on a
    class server, and take a `?teacher=` secret out of the address bar (unlocking if right)."""
    if SESSION not in st.session_state:
        st.session_state[SESSION] = secrets.token_hex(4)
    if not class_mode():
        return
    # Students get a short message; the server's log keeps the details.
    if st.get_option("client.showErrorDetails") != "none":
        st.set_option("client.showErrorDetails", "none")
    guess = st.query_params.get("teacher")
    if guess is not None:
        del st.query_params["teacher"]  # out of the address bar before anything else runs
        _unlock(guess)


def is_teacher() -> bool:
    return not class_mode() or bool(st.session_state.get(TEACHER))


def requester() -> Requester:
    """This session as the service knows it."""
    role = Role.TEACHER if is_teacher() else Role.STUDENT
    return Requester(st.session_state[SESSION], role)


def unlock_panel() -> None:
    """On a class server: the sidebar's Teacher field, or a note that this session is the
    teacher's (with a way to lock it again). The teacher's own panel is explorer.ui.teacher."""
    if not class_mode():
        return
    sidebar = st.sidebar
    if is_teacher():
        sidebar.success("Teacher: you can stop any run, delete runs and set limits.")
        if sidebar.button("Lock teacher actions", key="teacher_lock"):
            st.session_state[TEACHER] = False
            st.rerun()
        return
    with sidebar.expander("Teacher"):
        with st.form("teacher_form", clear_on_submit=True, border=False):
            guess = st.text_input("Teacher password", type="password", key="teacher_password")
            if st.form_submit_button("Unlock") and guess:
                _unlock(guess)
                st.rerun()
        if message := st.session_state.pop("teacher_message", None):
            st.caption(message)


def _unlock(guess: str) -> None:
    guard = _guard()
    session = st.session_state[SESSION]
    wait = guard.wait_seconds(session)
    if wait > 0:
        st.session_state["teacher_message"] = f"Too many wrong guesses: try again in {wait:.0f} s."
        return
    if hmac.compare_digest(guess.encode("utf-8"), teacher_secret().encode("utf-8")):
        guard.forget(session)
        st.session_state[TEACHER] = True
        return
    guard.failed(session)
    st.session_state["teacher_message"] = "That is not the teacher's password."


@st.cache_resource(show_spinner=False)
def teacher_secret() -> str:
    """The secret that unlocks teacher actions (see the module docstring), looked up once."""
    if password := os.environ.get("EXPLORER_TEACHER_PASSWORD", ""):
        return password
    try:
        if password := str(st.secrets.get("teacher_password", "") or ""):
            return password
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        pass  # no secrets file: not an error
    token = get_service(class_mode()).teacher_token()
    port = st.get_option("server.port")
    print(f"Teacher link (keep it to yourself): http://<this computer>:{port}/?teacher={token}")
    return token


class _Guard:
    """Wrong guesses per session and for the whole server; each doubles the next wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, tuple[int, float]] = {}  # who -> (failures, next allowed)

    def wait_seconds(self, session: str) -> float:
        now = time.monotonic()
        with self._lock:
            return max(self._failures.get(key, (0, 0.0))[1] - now for key in (session, "everyone"))

    def failed(self, session: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in (session, "everyone"):
                count, _ = self._failures.get(key, (0, 0.0))
                delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2**count)
                if key == "everyone":  # the whole server: a slower doubling, for many guessers
                    delay = min(MAX_DELAY_SECONDS, FIRST_DELAY_SECONDS * 2 ** (count // 5)) - 1
                self._failures[key] = (count + 1, now + max(0.0, delay))

    def forget(self, session: str) -> None:
        with self._lock:
            self._failures.pop(session, None)


@st.cache_resource(show_spinner=False)
def _guard() -> _Guard:
    return _Guard()
