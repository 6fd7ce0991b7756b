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


@contextlib.asynccontextmanager
async def lifespan(_app):
    # On a thread: joining a Ray cluster may take a minute, and the server answers meanwhile.
    threading.Thread(target=_start, name="server-start", daemon=True).start()
    yield


def _start() -> None:
    from explorer.ui import roles
    from explorer.ui.resources import get_service

    try:
        get_service()
        if roles.class_mode():
            roles.start_checks()
    except Exception as error:  # a thread must not raise: the first page view shows it again
        print(f"The server could not get ready: {error}", file=sys.stderr, flush=True)
