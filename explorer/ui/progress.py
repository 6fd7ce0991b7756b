"""Live progress of a training job, polled by a fragment so the rest of the page stays live."""

from __future__ import annotations

import streamlit as st

from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import Status
from explorer.ui import live, roles
from explorer.ui.resources import show_curves
from explorer.views.text import duration


def live_progress(service: TrainingService, run_id: str) -> None:
    """Progress bar, epoch k/N, ETA, live learning curves and a Stop button for one job.

    Re-runs itself every second or two (live.interval(): each session at its own pace, so a
    class does not poll at once); when the job ends it re-runs the whole page, which then shows
    the result instead of this panel.
    """
    st.fragment(_progress_panel, run_every=live.interval())(service, run_id)


def _progress_panel(service: TrainingService, run_id: str) -> None:
    progress = service.progress(run_id)
    if progress is None or progress.finished:
        st.rerun(scope="app")
        return
    st.subheader("Training")
    if progress.status == Status.QUEUED and progress.position is not None:
        wait = duration(progress.wait_seconds) if progress.wait_seconds else "moments"
        st.progress(
            0.0,
            text=f"Queued: {progress.position} run(s) ahead of it, about {wait} before it starts…",
        )
    elif not progress.steps_per_epoch:
        st.progress(0.0, text="Starting: loading TensorFlow and building the network…")
    elif progress.remote:
        st.progress(
            min(1.0, progress.epoch / max(1, progress.epochs)),
            text=f"Training in another process: {progress.epoch}/{progress.epochs} epochs done…",
        )
    else:
        eta = (
            ""
            if progress.eta_seconds is None
            else f" · about {duration(progress.eta_seconds)} left"
        )
        latest = progress.latest
        figures = (
            f" · loss {latest['loss']:.3f}, accuracy {latest['accuracy']:.1%}"
            if "loss" in latest and "accuracy" in latest
            else ""
        )
        st.progress(
            progress.fraction,
            text=(
                f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.step:,}/"
                f"{progress.steps_per_epoch:,}{eta}{figures}"
            ),
        )
    stop_column, note_column = st.columns([1, 4])
    requester = roles.requester()
    if progress.stop_requested:
        note_column.info("Stopping after the current batch…")
    elif progress.remote and not requester.is_teacher:
        note_column.caption("Started elsewhere (the command line or another server).")
    elif stop_column.button("Stop", key="stop", icon=":material/stop:"):
        try:
            note_column.info(service.stop(run_id, requester))
        except LimitError as error:
            note_column.warning(str(error))
    if progress.history:
        history = progress.history  # grows once per epoch: one chart per run and epoch
        show_curves(("live", run_id, len(history)), {"": history})
    else:
        st.caption("The learning curves appear after the first epoch.")
