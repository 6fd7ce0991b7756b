"""Charts that cannot change, turned into Vega-Lite once per server instead of once per rerun.

    show_chart(("curves", run_id, len(history)), lambda: charts.learning_curves(history))

Why: turning an Altair chart into Vega-Lite validates it against the whole schema, which costs
10-20 ms of the single interpreter the server has. A finished run's charts never change, and
the live curves change once per epoch, so with a class of 30 sessions polling the same run,
almost every rerun can reuse a spec (measured in bench/class_load.py). The key must name
everything the chart depends on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import altair as alt
import streamlit as st

MAX_CHARTS = 256  # a few hundred small specs: well under a megabyte
# Altair's default theme adds this; Streamlit draws Altair charts without it, and so do we.
_DEFAULT_VIEW = {"continuousWidth": 300, "continuousHeight": 300}


@st.cache_data(max_entries=MAX_CHARTS, show_spinner=False)
def chart_spec(key: Hashable, _build: Callable[[], alt.TopLevelMixin]) -> dict:
    """The Vega-Lite spec of `_build()`, built on the first call for `key` and reused after
    (st.cache_data hands out a fresh copy each time, so Streamlit may change it)."""
    spec = _build().to_dict()
    config = spec.get("config", {})
    if config.get("view") == _DEFAULT_VIEW:
        del config["view"]
        if not config:
            del spec["config"]
    return spec


def show_chart(key: Hashable, build: Callable[[], alt.TopLevelMixin], **options) -> None:
    """Draw the chart for `key` (see `chart_spec`); `options` go to `st.vega_lite_chart`."""
    st.vega_lite_chart(chart_spec(key, build), **options)
