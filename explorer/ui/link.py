"""Shareable links: the page's state in the URL (st.query_params), as TensorFlow Playground does.

`apply_link_once` reads the URL on a session's first run and puts its (validated) values into the
widgets' state; `sync_link` writes the current state back after every run, so the address bar
always holds a link that reproduces what is on screen.
"""

from __future__ import annotations

import streamlit as st

from explorer import share
from explorer.config import TrainingConfig
from explorer.ui import controls

# Plain (non-widget) keys: they survive runs in which their widgets are not drawn.
COMPARED = "compared_run_ids"
BASELINE = "baseline_run_id"
VIEW = "view"
_APPLIED = "link_applied"
_LAST_CONFIG = "last_valid_config"


def apply_link_once() -> None:
    """On a session's first run, take the configuration, view and runs from the URL."""
    if st.session_state.get(_APPLIED):
        return
    st.session_state[_APPLIED] = True
    state = share.parse_query(st.query_params.to_dict())
    controls.set_config(state.config)
    st.session_state[VIEW] = state.view
    st.session_state[COMPARED] = list(state.run_ids)
    st.session_state[BASELINE] = state.baseline
    for warning in state.warnings:
        st.warning(warning, icon=":material/link_off:")


def sync_link(config: TrainingConfig | None) -> None:
    """Write the current state into the URL (only when it changed, to spare the browser).

    `config` None means the last valid one (fragments rerun without the sidebar).
    """
    if config is not None:
        st.session_state[_LAST_CONFIG] = config
    config = st.session_state.get(_LAST_CONFIG)
    if config is None:
        return
    query = share.to_query(
        config,
        view=st.session_state.get(VIEW, "explore"),
        run_ids=st.session_state.get(COMPARED, []),
        baseline=st.session_state.get(BASELINE),
    )
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
