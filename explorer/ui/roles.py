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
enters a link, a log line or an export. Wrong guesses are slowed down per session and bounded
for the whole server, without ever keeping the right secret out (explorer.service.guesses). A
password shorter than 12 characters is refused. Sessions are told apart by a random id, never
by their address, which can be spoofed and behind a proxy is the same for everyone.
"""

from __future__ import annotations

import hmac
import os
import secrets

import streamlit as st

from explorer.service.guesses import WRONG, GuessLimiter, check_secret_strength
from explorer.service.jobs import Requester, Role
from explorer.ui import lazy
from explorer.ui.resources import get_service

LOCAL_ADDRESSES = ("localhost", "127.0.0.1", "::1", "")
SESSION = "session_id"
TEACHER = "is_teacher"


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
    if problem := start_checks():
        from explorer.ui import plain

        plain.alert("error", problem)
        st.stop()
    guess = st.query_params.get("teacher")
    if guess is not None:
        _forget_link_secret()
        _unlock(guess)
        st.stop()  # the browser reruns the page once the secret has left its history


# Runs in the page: overwrite the history entry that holds the secret (never push a new one,
# which would leave it one Back away), then let Streamlit rerun from the cleaned address.
_REPLACE_HISTORY = """<script>
(() => {
  const url = new URL(window.location.href);
  if (!url.searchParams.has("teacher")) return;
  url.searchParams.delete("teacher");
  window.history.replaceState(window.history.state, "", url.toString());
  window.dispatchEvent(new PopStateEvent("popstate", {state: window.history.state}));
})();
</script>"""


def _forget_link_secret() -> None:
    """Take `?teacher=` out of the address bar and out of the browser's history.

    `del st.query_params[...]` would make Streamlit push a new history entry without the secret,
    and Back would return to the one with it. Instead the server forgets the parameter without
    telling the browser, and a script in the page replaces the current entry in place."""
    from urllib.parse import urlencode

    from streamlit.runtime.scriptrunner import get_script_run_ctx
    from streamlit.runtime.state.session_state_proxy import get_session_state

    with get_session_state().query_params() as parameters:
        parameters._query_params.pop("teacher", None)  # no message: the page script does it
        remaining = dict(parameters._query_params)
    context = get_script_run_ctx()
    if context is not None:
        context.query_string = urlencode(remaining, doseq=True)
    st.html(_REPLACE_HISTORY, unsafe_allow_javascript=True)


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
    # Drawn only while open (explorer.ui.lazy): every student's rerun would pay for it.
    with lazy.expander("Teacher", "panel_teacher", sidebar) as open_now:
        if open_now:
            with st.form("teacher_form", clear_on_submit=True, border=False):
                guess = st.text_input("Teacher password", type="password", key="teacher_password")
                if st.form_submit_button("Unlock") and guess:
                    _unlock(guess)
                    st.rerun()
    # Under the panel, not in it: the answer to a guess shows whether or not the panel is open.
    if message := st.session_state.pop("teacher_message", None):
        sidebar.caption(message)


def _unlock(guess: str) -> None:
    secret = teacher_secret().encode("utf-8")
    verdict = _limiter().attempt(
        st.session_state[SESSION], lambda: hmac.compare_digest(guess.encode("utf-8"), secret)
    )
    if verdict.unlocked:
        st.session_state[TEACHER] = True
        return
    st.session_state["teacher_message"] = verdict.message
    if verdict.message == WRONG:  # heard and wrong: the teacher sees guessing in the terminal
        session = st.session_state[SESSION]
        print(f"A wrong guess at the teacher's password (session {session})", flush=True)


@st.cache_resource(show_spinner=False)
def start_checks() -> str:
    """Once per server, at its start (explorer.ui.startup): the reason it must not serve (a
    short password), else "". Also warns in the terminal when the secret would cross the
    network in clear text."""
    address = str(st.get_option("server.address") or "").strip().lower()
    if address not in LOCAL_ADDRESSES and not st.get_option("server.sslCertFile"):
        print(
            f"Warning: this class server listens on {address} without HTTPS: the teacher's "
            "secret crosses the network in clear text. See the README (HTTPS for a class "
            "server): server.sslCertFile and server.sslKeyFile, or a reverse proxy.",
            flush=True,
        )
    try:
        teacher_secret()
    except ValueError as error:
        print(f"Refused: {error}", flush=True)
        return str(error)
    return ""


@st.cache_resource(show_spinner=False)
def teacher_secret() -> str:
    """The secret that unlocks teacher actions (see the module docstring), looked up once.
    ValueError for a password too short to withstand guessing."""
    if password := os.environ.get("EXPLORER_TEACHER_PASSWORD", ""):
        check_secret_strength(password)
        return password
    try:
        if password := str(st.secrets.get("teacher_password", "") or ""):
            check_secret_strength(password, "teacher_password of .streamlit/secrets.toml")
            return password
    except (FileNotFoundError, st.errors.StreamlitSecretNotFoundError):
        pass  # no secrets file: not an error
    token = get_service(class_mode()).teacher_token()
    port = st.get_option("server.port")
    scheme = "https" if st.get_option("server.sslCertFile") else "http"
    print(f"Teacher link (keep it to yourself): {scheme}://<this computer>:{port}/?teacher={token}")
    return token


@st.cache_resource(show_spinner=False)
def _limiter() -> GuessLimiter:
    """One limiter for the whole server: every session's guesses count against it."""
    return GuessLimiter()
