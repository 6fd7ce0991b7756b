"""The teacher's panel (sidebar): the whole queue with who asked, the class's limits, and
clearing the run store. Drawn only for the teacher, and never in presenter mode; unlocking it is
explorer.ui.roles.

    teacher.panel(service)
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import Status, StoreError
from explorer.ui import lazy, plain, roles
from explorer.views.text import duration


def panel(service: TrainingService) -> None:
    """The teacher's sidebar panels; each draws its contents only while it is open
    (explorer.ui.lazy: a closed panel costs a class's reruns nothing)."""
    requester = roles.requester()
    for label, key, draw in (
        ("Queue", "panel_queue", _queue),
        ("Class limits", "panel_limits", _limits),
        ("Clear the run store", "panel_clear", _clear),
    ):
        with lazy.expander(label, key, st.sidebar) as open_now:
            if open_now:
                draw(service, requester)


def _queue(service: TrainingService, requester) -> None:
    jobs = service.queue()
    if not jobs:
        st.caption("Nothing is training or waiting.")
    for job in jobs:
        where = (
            "training"
            if job.status == Status.RUNNING
            else f"waiting, #{(job.position or 0) + 1}, about {duration(job.wait_seconds)}"
        )
        plain.caption(f"{job.config.label()} · {where} · for {', '.join(job.waiters)}")
        if st.button("Stop", key=f"teacher_stop_{job.run_id}", icon=":material/stop:"):
            st.toast(service.stop(job.run_id, requester))


def _limits(service: TrainingService, requester) -> None:
    limits = service.limits
    jobs_each = st.number_input(
        "Runs a student may queue at once",
        1,
        50,
        limits.max_jobs_per_session,
        key="limit_jobs",
    )
    cap = st.number_input(
        "Longest run a student may start (minutes, 0 = no limit)",
        0,
        600,
        int((limits.max_job_seconds or 0) // 60),
        key="limit_minutes",
    )
    drop = st.toggle(
        "Drop queued runs nobody waits for any more", limits.drop_orphans, key="limit_drop"
    )
    changed = dataclasses.replace(
        limits,
        max_jobs_per_session=int(jobs_each),
        max_job_seconds=float(cap * 60) or None,
        drop_orphans=drop,
    )
    if changed != limits:
        service.set_limits(changed, requester)
        st.toast("Limits changed: they apply to new runs.")


def _clear(service: TrainingService, requester) -> None:
    st.caption("Deletes every finished run and its files. Queued and training runs stay.")
    if st.button("Delete all finished runs", key="clear_store", type="primary"):
        try:
            count = service.clear(requester)
        except (StoreError, LimitError) as error:
            plain.alert("error", str(error))
        else:
            st.toast(f"Deleted {count} run(s).")
