"""Parts of the page that follow the runs it asked for, on their own, while they train.

    live.part(draw_counts, pending=any_active(configs), args=(service, configs))

`draw` is drawn at once. While `pending` is true it is a fragment that redraws itself every
second or two (alone: the sliders and the rest of the page do not rerun); when one of its own
redraws finds nothing pending any more (`draw` returns False), the whole page reruns once, so
the buttons and counts elsewhere follow and the timer stops. Nothing polls while nothing is
pending.

Each session redraws at its own interval, drawn once at random between LOW_SECONDS and
HIGH_SECONDS, so a class whose runs finish together does not ask the server at the same moment.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import streamlit as st

LOW_SECONDS, HIGH_SECONDS = 1.0, 2.0
INTERVAL = "live_interval_seconds"  # this session's interval, drawn once


def interval() -> float:
    """This session's refresh interval in seconds (the same for all its live parts)."""
    state = st.session_state
    if INTERVAL not in state:
        state[INTERVAL] = round(random.uniform(LOW_SECONDS, HIGH_SECONDS), 2)
    return float(state[INTERVAL])


def part(draw: Callable[..., bool], *, pending: bool, args: tuple = ()) -> None:
    """Draw `draw(*args)` (it returns whether what it shows is still pending); redraw it every
    `interval()` seconds while `pending` is true, then rerun the page once it is not."""
    if not pending:
        draw(*args)
        return
    st.fragment(_follow, run_every=interval())(draw, args)


def _follow(draw: Callable[..., bool], args: tuple) -> None:
    # Named once, so the fragment keeps its identity from one page run to the next.
    if not draw(*args) and refreshing():
        st.rerun(scope="app")


def refreshing() -> bool:
    """Whether this is a fragment's own rerun (its timer), not a run of the whole page."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return bool(context is not None and context.fragment_ids_this_run)
