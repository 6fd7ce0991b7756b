"""Panels whose contents are drawn only while they are open.

    with lazy.expander("Queue", "panel_queue", st.sidebar) as open_now:
        if open_now:
            draw_the_queue()

Streamlit runs the body of a closed `st.expander` on every rerun and sends all of it to the
browser. The sidebar's teacher panels and "More settings" hold a dozen widgets that are closed
almost all of the time, and when thirty students move a slider at once, every one of those
reruns paid for them: a third of a result page's rerun in a profile of the class's burst
(bench/class_load.py). An expander made with `on_change="rerun"` tells the server whether it is
open (Streamlit 1.51+), so its body can be skipped while it is closed. Opening it costs one
rerun, the same as switching a tab of the "Inside the network" panel.

A widget that is not drawn is forgotten by Streamlit: keep what must survive a closed panel in
the session's own state (explorer.ui.controls puts the configuration back from LAST_CONFIG).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import streamlit as st


@contextlib.contextmanager
def expander(label: str, key: str, where=st, *, expanded: bool = False) -> Iterator[bool]:
    """An expander in `where` (the page or `st.sidebar`) that yields whether it is open now.

    `expanded` is how it first appears; after that the viewer's clicks decide (kept under
    `key` in the session state, where a test can open it too: `session_state[key] = True`).
    """
    panel = where.expander(label, expanded=expanded, key=key, on_change="rerun")
    with panel:
        yield bool(panel.open)
