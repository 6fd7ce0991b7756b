"""Run history: every stored run in a sortable table, with filters, selection, delete and export."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import RESULT_STATUSES, STATUSES, RunRecord, StoreError
from explorer.ui import links, plain, roles
from explorer.views.reports import (
    matches_filter,
    rows_to_csv,
    run_table_row,
    run_to_json,
    short_label,
)

_DELETING = "runs_to_delete"  # run ids waiting for the user's confirmation
# Few columns, one number format each, so the table fits a projector: the settings are in the
# label, the rest is in the CSV and JSON exports.
COLUMNS = {
    "status": st.column_config.TextColumn("Status", width="small"),
    "label": st.column_config.TextColumn(
        "Network and training",
        width="medium",
        help="The layers, then only what differs from the tutorial's training (SGD at its "
        "default rate, batch 200, 5 epochs, ReLU, all the data, seed 0, float32).",
    ),
    "accuracy_percent": st.column_config.NumberColumn("Test accuracy", format="%.2f %%"),
    "train_seconds": st.column_config.NumberColumn("Time (s)", format="%.1f"),
    "data": st.column_config.TextColumn("Data", width="small"),
    "created_at": st.column_config.TextColumn("When", width="small"),
    "run_id": st.column_config.TextColumn("Run", width="small"),
}


def history_table(service: TrainingService) -> list[RunRecord]:
    """Filters and the table; returns the runs selected in it (rows ticked by the user)."""
    records = service.runs()
    if not records:
        st.info("No runs stored yet. Train one in the Explore view (or with the command line).")
        return []
    filter_column, status_column = st.columns([2, 1])
    text = filter_column.text_input(
        "Filter",
        key="run_filter",
        placeholder="e.g. adam  or  hidden2=0  or  batch_size=32",
        help="Words that must appear in a run's description; field=value matches a setting.",
    )
    statuses = status_column.multiselect(
        "Status", STATUSES, default=list(RESULT_STATUSES), key="status_filter"
    )
    shown = [
        r
        for r in records
        if (not statuses or r.status in statuses) and matches_filter(run_table_row(r), text)
    ]
    frame = pd.DataFrame([run_table_row(record) for record in shown])
    if not frame.empty:  # a run without a result shows an empty cell, not "None"
        frame["accuracy_percent"] = pd.to_numeric(frame["test_accuracy"], errors="coerce") * 100
        frame["train_seconds"] = pd.to_numeric(frame["train_seconds"], errors="coerce")
        frame["label"] = [
            short_label(r) if r.config else label
            for r, label in zip(shown, frame["label"], strict=True)
        ]
    if frame.empty:
        st.caption(f"No run matches the filter ({len(records)} stored).")
        return []
    event = st.dataframe(
        frame,
        key="run_table",
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        column_config=COLUMNS,
        column_order=list(COLUMNS),
    )
    # A ticked row can be gone (deleted, filtered out) before the table redraws.
    selected = [shown[index] for index in event.selection.rows if index < len(shown)]
    st.caption(
        f"{len(shown)} of {len(records)} runs shown. Tick rows to compare (2 to "
        f"{links.MAX_COMPARED_RUNS}), export or delete them. Click a column header to sort."
    )
    _actions(service, shown, selected)
    return selected


def _actions(service: TrainingService, shown: list[RunRecord], selected: list[RunRecord]) -> None:
    # A row that wraps, each button as wide as its label: four equal columns cut the labels
    # short on a projector ("Compar…", "CSV (17 …").
    with st.container(horizontal=True, wrap=True, gap="small", key="run_actions"):
        _action_buttons(selected or shown, selected)
    if st.session_state.get(_DELETING):
        _confirm_delete(service, st.session_state[_DELETING])


def _action_buttons(chosen: list[RunRecord], selected: list[RunRecord]) -> None:
    st.button(
        "Compare selected",
        key="compare_selected",
        icon=":material/compare_arrows:",
        disabled=not 2 <= len(selected) <= links.MAX_COMPARED_RUNS,
        on_click=_set_compared,
        args=([r.run_id for r in selected],),
        help=f"Put 2 to {links.MAX_COMPARED_RUNS} ticked runs side by side below.",
    )
    which = "selected" if selected else "shown"
    st.download_button(
        f"CSV ({len(chosen)} {which})",
        rows_to_csv([run_table_row(r) for r in chosen]),
        file_name="mnist-explorer-runs.csv",
        mime="text/csv",
        key="export_csv",
        icon=":material/download:",
    )
    st.download_button(
        f"JSON ({len(chosen)} {which})",
        json.dumps([run_to_json(r) for r in chosen], indent=2),
        file_name="mnist-explorer-runs.json",
        mime="application/json",
        key="export_json",
        icon=":material/download:",
    )
    if not roles.is_teacher() or st.session_state.get(links.PRESENT):
        return  # students never delete and see no control for it; nor does a projector
    st.button(
        "Delete selected…",
        key="delete_selected",
        icon=":material/delete:",
        disabled=not selected,
        on_click=_ask_to_delete,
        args=([r.run_id for r in selected],),
    )


def _set_compared(run_ids: list[str]) -> None:
    st.session_state[links.COMPARED] = run_ids
    st.session_state["compare_runs"] = run_ids


def _ask_to_delete(run_ids: list[str]) -> None:
    st.session_state[_DELETING] = run_ids


def _confirm_delete(service: TrainingService, run_ids: list[str]) -> None:
    """Ask before deleting, in the page itself, with Delete and Cancel."""
    with st.container(border=True, key="delete_confirmation"):
        st.markdown(
            f"**Delete {len(run_ids)} run(s) and their files?** This cannot be undone; the "
            "configurations can be trained again."
        )
        confirm, cancel = st.columns(2)
        if cancel.button("Cancel", key="cancel_delete"):
            del st.session_state[_DELETING]
            st.rerun()
        if confirm.button("Delete", type="primary", key="confirm_delete"):
            try:
                service.delete(run_ids, roles.requester())
            except (StoreError, LimitError) as error:
                plain.alert("error", str(error))
                return
            del st.session_state[_DELETING]
            st.session_state[links.COMPARED] = [
                r for r in st.session_state.get(links.COMPARED, []) if r not in run_ids
            ]
            st.rerun()
