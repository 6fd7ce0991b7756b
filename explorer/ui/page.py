"""The whole page, top to bottom. app.py calls `main()`.

Order matters for speed: the controls and the parameter table come first and need neither the
data nor TensorFlow, so they paint at once; the data loads next; TensorFlow loads only when a
training actually starts, on the worker thread.
"""

from __future__ import annotations

import streamlit as st

from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import StoreError
from explorer.ui import comparison, controls, links, network, plain, progress, results, roles
from explorer.ui.resources import get_service

# The last run this browser session trained: its result is "new", not shown with a cached badge.
SESSION_RUN = "started_run_id"


def main() -> None:
    st.set_page_config(page_title="MNIST Explorer", page_icon=":material/neurology:", layout="wide")
    st.title("MNIST Explorer")
    st.caption(
        "Choose a network with the sliders, press **Train**, and see what each choice does to "
        "a handwritten-digit classifier. Runs are kept: going back to a configuration shows it "
        "at once."
    )
    roles.setup()
    links.apply_link_once()
    roles.teacher_panel()
    config = controls.config_controls()
    pressed = controls.train_button(disabled=config is None)
    view = st.radio(
        "View",
        links.VIEWS,
        key=links.VIEW,
        horizontal=True,
        label_visibility="collapsed",
        format_func=lambda name: {"explore": "Explore a network", "compare": "Compare runs"}[name],
    )
    links.sync_link(config)
    service = _service()
    if service is not None:
        service.touch(roles.requester())
        service.warm()  # the first page view starts the trainers; TensorFlow loads meanwhile
        queue_line(service)
    if view == "compare":
        try:
            comparison.compare_page(get_service(), config, pressed)
        except (StoreError, ValueError) as error:
            plain.alert("error", str(error))
        return
    if config is None:
        return
    network.network_panel(config)
    metrics_slot = st.empty()
    with metrics_slot.container():  # the total paints now; the time estimate needs the data
        network.headline_metrics(config, None, None, None)

    try:
        service = get_service()
        with st.spinner("Loading MNIST…"):
            data = service.data
    except (StoreError, ValueError) as error:
        plain.alert("error", str(error))
        return
    _data_banner(data)
    with metrics_slot.container():
        network.headline_metrics(config, len(data.y_train), len(data.y_test), service.calibration())

    if pressed:
        try:
            submission = service.submit(config, roles.requester())
        except LimitError as error:
            plain.alert("warning", str(error))
        else:
            if submission.cached:
                st.toast("This configuration was trained before: showing the stored result.")
            else:
                st.session_state[SESSION_RUN] = submission.run_id
    run_panel(service, config)


def _service() -> TrainingService | None:
    try:
        return get_service()
    except (StoreError, ValueError) as error:
        plain.alert("error", str(error))
        return None


def queue_line(service: TrainingService) -> None:
    """One line on every page: what trains now and how many runs wait."""
    jobs = service.queue()
    running = [job for job in jobs if job.status == "running"]
    waiting = len(jobs) - len(running)
    if not jobs:
        return
    now = ", ".join(f"{job.config.label()} ({', '.join(job.waiters)})" for job in running)
    text = f"Training now: {now or 'starting'}" + (f" · {waiting} waiting" if waiting else "")
    plain.caption(text)


def run_panel(service: TrainingService, config: TrainingConfig) -> None:
    """The running job for this config, else its stored result, else a hint to press Train."""
    latest = service.latest(config)
    if latest is not None and latest.is_active:  # here, or in another process on the store
        progress.live_progress(service, latest.run_id)
        return
    record = service.lookup(config)
    if record is None:
        if latest is None:
            st.info("Not trained yet. Press **Train** in the sidebar.", icon=":material/info:")
            return
        if not latest.has_result:
            plain.alert(
                "error",
                f"The last run of this configuration ended as {latest.status}: "
                f"{latest.error or 'no details'}. Press Train to try again.",
            )
            return
        record = latest  # stopped: partial results, labelled as such
    elif latest.run_id != record.run_id and latest.status in ("failed", "interrupted"):
        plain.alert(
            "warning", f"A later retraining of this configuration did not finish: {latest.error}"
        )
    started_here = st.session_state.get(SESSION_RUN)
    results.result_view(service, record, cached=record.run_id != started_here)


def _data_banner(data: MnistData) -> None:
    if data.is_sample:
        st.warning(
            f"Using the small MNIST sample bundled with the app ({len(data.y_train):,} training "
            f"and {len(data.y_test):,} test digits), so accuracy will be lower than with the full "
            "set. To use all 70,000 digits, connect to the internet once (Keras downloads "
            "MNIST), or put `mnist.npz` or the four MNIST `.gz` files in a folder and start "
            "with `EXPLORER_DATA_DIR=that/folder streamlit run app.py`.",
            icon=":material/dataset:",
        )
    else:
        plain.caption(f"Data: {data.describe()}")
    if data.notes:
        with st.expander("How the data was found"):
            for note in data.notes:
                plain.caption(note)
