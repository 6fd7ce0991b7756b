"""What the server does when it starts, before anyone opens the page.

`streamlit run app.py` finds the `st.App` in app.py, imports app.py once to serve it, and runs
`lifespan` at the server's start; every page view then runs app.py as its script. At the start:

- the run service is made, so runs that a server killed mid-run left "running" are marked
  interrupted now (and by its lease heartbeat afterwards), not at the first page view;
- a class server checks the teacher's secret (a short password is refused, on the page and in
  the terminal) and, listening beyond this computer without HTTPS, says once that the secret
  would cross the network in clear text.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.service.service import TrainingService

# The service made at the start (the same one every page view gets from get_service).
_started: list[TrainingService] = []


@contextlib.asynccontextmanager
async def lifespan(_app):
    # On a thread: joining a Ray cluster may take a minute, and the server answers meanwhile.
    threading.Thread(target=_start, name="server-start", daemon=True).start()
    try:
        yield
    finally:
        _stop()


def _start() -> None:
    from explorer.ui import roles
    from explorer.ui.resources import get_service

    try:
        _started.append(get_service(roles.class_mode()))
        if roles.class_mode():
            roles.start_checks()
    except Exception as error:  # a thread must not raise: the first page view shows it again
        print(f"The server could not get ready: {error}", file=sys.stderr, flush=True)


def _stop() -> None:
    # The server is stopping (SIGTERM from `docker stop` or systemd, Ctrl+C): the runs it trains
    # end as interrupted, with the reason, now; Python's exit handlers do not run on this path.
    for service in _started:
        try:
            service.shutdown(timeout=2.0)
        except Exception as error:  # the server must still stop
            print(f"The server could not stop cleanly: {error}", file=sys.stderr, flush=True)
