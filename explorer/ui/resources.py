"""What every session of this server shares: the training service, runs' predictions, charts.

    service = get_service(class_mode)              # made on the first page view
    predictions = run_predictions(service, run_id) # read-only arrays, read once per server
    show_curves(("curves", run_id), {"": history})       # loss and accuracy, side by side

Why cache charts: turning an Altair chart into Vega-Lite validates it against the whole schema,
which costs 10-20 ms of the server's single interpreter. A finished run's charts never change and
the live curves change once per epoch, so with a class of 30 sessions polling the same run,
almost every rerun can reuse a spec (bench/class_load.py). A key must name everything its chart
depends on.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable, Hashable

import streamlit as st

from explorer.service.queue import Limits
from explorer.service.service import TrainingService, create_service
from explorer.store.records import RunPredictions

MAX_CHARTS = 256  # a few hundred small specs: well under a megabyte
# Altair's default theme adds this; Streamlit draws Altair charts without it, and so do we.
_DEFAULT_VIEW = {"continuousWidth": 300, "continuousHeight": 300}


def server_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """`--data-dir D` and `--ray ADDRESS` given after `streamlit run app.py --`."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir")
    parser.add_argument("--ray")
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known


def get_service(class_mode: bool) -> TrainingService:
    """The service for this server's data folder, run store and trainers, made on the first
    page view. On a class server (`roles.class_mode()`) students get the class's limits
    (explorer.service.queue)."""
    arguments = server_arguments()
    home = os.environ.get("EXPLORER_HOME")
    return _service_for(arguments.data_dir, home, arguments.ray, class_mode)


@st.cache_resource(show_spinner=False)
def _service_for(
    data_dir: str | None, home: str | None, ray_address: str | None, class_mode: bool
) -> TrainingService:
    # Lives as long as the server; keyed by where data, runs and trainers are.
    limits = Limits.from_environment(class_mode)
    return create_service(data_dir, home, ray_address=ray_address, limits=limits)


@st.cache_resource(max_entries=64, show_spinner=False)
def run_predictions(_service: TrainingService, run_id: str) -> RunPredictions:
    """A finished run's predictions, read once per server: its files never change, so the run
    id is a safe key, and the arrays are read-only, so every session can share one copy."""
    return _service.predictions(run_id)


@st.cache_resource(max_entries=32, show_spinner=False)
def run_weights(_service: TrainingService, run_id: str) -> list:
    """A finished run's weights, read once per server and shared (read-only) by every session."""
    weights = _service.weights(run_id)
    for array in weights:
        array.setflags(write=False)
    return weights


@st.cache_data(max_entries=MAX_CHARTS, show_spinner=False)
def chart_spec(key: Hashable, _build: Callable[[], object]) -> dict:
    """The Vega-Lite spec of `_build()` (see `spec_of`), built on the first call for `key` and
    reused after (st.cache_data hands out a fresh copy each time, so Streamlit may change it)."""
    return spec_of(_build())


def spec_of(chart) -> dict:
    """The Vega-Lite spec of an Altair chart as the page sends it: the one way a chart becomes
    a spec, for `chart_spec` and for the class view's shared specs (explorer.ui.class_data).

    Without Altair's default view size (Streamlit draws Altair charts without it), and with
    the data as Arrow bytes.
    """
    spec = chart.to_dict()
    config = spec.get("config", {})
    if config.get("view") == _DEFAULT_VIEW:
        del config["view"]
        if not config:
            del spec["config"]
    # The data as Arrow bytes, made once here: Streamlit sends bytes as they are, and made them
    # again from the rows on every draw otherwise (a quarter of a result page's rerun, which a
    # class's burst of slider moves multiplies by 30).
    from streamlit import dataframe_util

    for name, rows in spec.get("datasets", {}).items():
        if isinstance(rows, list):
            spec["datasets"][name] = dataframe_util.convert_anything_to_arrow_bytes(rows)
    return spec


def show_chart(spec_key: Hashable, build: Callable[[], object], **options):
    """Draw the chart for `spec_key` (see `chart_spec`); `options` (a widget `key`, `on_select`)
    go to `st.vega_lite_chart`, and what it returns comes back (the selection)."""
    return st.vega_lite_chart(chart_spec(spec_key, build), width="stretch", **options)


def show_curves(key: Hashable, histories: dict, *, gap: bool = False) -> None:
    """Learning curves (charts.learning_curve_panels) side by side, one column per panel, so
    each fills its column at any width. `key` names the runs and epochs drawn."""
    from explorer.views import charts  # Altair loads when the first chart is drawn

    count = (3 if gap else 2) if charts.has_curves(histories) else 1
    panels = functools.cache(lambda: charts.learning_curve_panels(histories, gap=gap))
    # In a "wrap_" container (styles.py): on a narrow screen the panels go onto more lines.
    with st.container(key=f"wrap_curves_{key[0]}"):
        columns = st.columns(count) if count > 1 else [st.container()]
        for index, column in enumerate(columns):
            with column:
                show_chart((*key, index), lambda index=index: panels()[index])
