"""Parts of the page that follow the runs it asked for, on their own, while they train.

    live.part(draw_counts, pending=any_active(configs), args=(service, configs))

`draw` is drawn at once, as a fragment. While `pending` is true the fragment redraws itself
every second or two (alone: the sliders and the rest of the page do not rerun); when one of its
own redraws finds nothing pending any more (`draw` returns False), the whole page reruns once,
so the buttons and counts elsewhere follow and the timer stops. Nothing polls while nothing is
pending. A button inside `draw` that changes more than the part calls `st.rerun()`.

Give a live part a place that does not move: anything drawn above it only on some runs goes
into a container drawn on every run (page.py's slots). A part that moved between two runs of
the page was left behind as a stale copy, redrawn at its old place by a timer that fired
meanwhile.

A part may sit inside a larger fragment (the Explore view is one, see page.py): wrap that
fragment's body in `live.enclosing()`, so a rerun of the larger fragment is not taken for a
part's own timer.

Each session redraws at its own interval, drawn once at random between LOW_SECONDS and
HIGH_SECONDS, so a class whose runs finish together does not ask the server at the same moment.
"""

from __future__ import annotations

import contextlib
import contextvars
import random
from collections.abc import Callable, Iterator

import streamlit as st

LOW_SECONDS, HIGH_SECONDS = 1.0, 2.0
INTERVAL = "live_interval_seconds"  # this session's interval, drawn once
_TICK = "live_ticking"
# True while the body of a fragment that encloses live parts runs (`enclosing`).
_ENCLOSING = contextvars.ContextVar("live_enclosing", default=False)


def interval() -> float:
    """This session's refresh interval in seconds (the same for all its live parts)."""
    state = st.session_state
    seconds = state.get(INTERVAL)
    if seconds is None:
        seconds = state[INTERVAL] = round(random.uniform(LOW_SECONDS, HIGH_SECONDS), 2)
    return float(seconds)


def part(draw: Callable[..., bool], *, pending: bool, args: tuple = ()) -> None:
    """Draw `draw(*args)` (it returns whether what it shows is still pending); redraw it every
    `interval()` seconds while `pending` is true, then rerun the page once it is not.

    It is a fragment either way, so the part keeps its place on the page (an element drawn
    outside a fragment and then inside one was left behind as a stale copy)."""
    run_every = interval() if pending else None
    st.fragment(_follow, run_every=run_every)(draw, args, pending)


def _follow(draw: Callable[..., bool], args: tuple, timed: bool) -> None:
    # Named once, so the fragment keeps its identity from one page run to the next.
    st.session_state[_TICK] = timed and refreshing()
    try:
        still_pending = draw(*args)
    finally:
        st.session_state[_TICK] = False
    if timed and not still_pending and refreshing():
        st.rerun(scope="app")


def ticking() -> bool:
    """Whether the part being drawn is redrawing itself on its timer (not for a click, not as
    part of the whole page): a `draw` that finds its runs done can then act on it once."""
    return bool(st.session_state.get(_TICK))


def refreshing() -> bool:
    """Whether this is a live part's own rerun (its timer): not a run of the whole page, nor
    of a fragment around the part (`enclosing`)."""
    return in_fragment_run() and not _ENCLOSING.get()


def in_fragment_run() -> bool:
    """Whether this run redraws one fragment, not the whole page."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return bool(context is not None and context.fragment_ids_this_run)


@contextlib.contextmanager
def enclosing() -> Iterator[None]:
    """Wrap the body of a fragment that holds live parts: while it runs, the parts inside it
    are drawn as part of it, not as their own timed redraws."""
    token = _ENCLOSING.set(True)
    try:
        yield
    finally:
        _ENCLOSING.reset(token)
