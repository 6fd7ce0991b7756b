"""Compare runs: run history, a pinned baseline, and 2 to 4 runs side by side.

Everything here reads stored runs only: nothing retrains and TensorFlow is never loaded. The
comparison is a fragment, so changing what is compared reruns only this part of the page.
"""

from __future__ import annotations

import streamlit as st

from explorer import compare, compare_charts, images
from explorer.config import TrainingConfig
from explorer.jobs import TrainingService
from explorer.model import total_parameters
from explorer.runs import RunArtifacts, RunRecord, StoreError
from explorer.share import MAX_COMPARED_RUNS
from explorer.ui import history, link, results

LETTERS = "ABCD"
FORMAT_OF = {metric.key: metric.format for metric in compare.METRICS}
TUTORIAL = TrainingConfig()


def compare_page(service: TrainingService, config: TrainingConfig | None, pressed: bool) -> None:
    """The Compare view: history table, then the comparison of the chosen runs."""
    if pressed and config is not None:
        submission = service.submit(config)
        st.toast(
            "Already trained: it is in the table." if submission.cached
            else "Training started; the run appears in the table when it is done."
        )  # fmt: skip
    st.subheader("Run history")
    history.history_table(service)
    comparison_section(service)


@st.fragment
def comparison_section(service: TrainingService) -> None:
    st.subheader("Side by side")
    records = {r.run_id: r for r in service.store.list_runs(("complete", "stopped"))}
    baseline = _baseline(service, records)
    chosen = _chosen_runs(records, baseline)
    link.sync_link(None)
    runs = (([baseline] if baseline is not None else []) + chosen)[:MAX_COMPARED_RUNS]
    if len(runs) < 2:
        st.info(
            "Choose runs to compare above (tick rows and press **Compare selected**), or pick "
            "them here. The baseline is shown with them."
        )
        return
    names = {run.run_id: _name(index, run, baseline) for index, run in enumerate(runs)}
    try:
        artifacts = {run.run_id: results.load_artifacts(service, run.run_id) for run in runs}
    except StoreError as error:
        st.error(f"{error}")
        return
    base = runs[0]
    _config_diff(runs, names)
    _metric_cards(runs, names, base)
    st.markdown("**Learning curves**: solid = train, dashed = test. A growing gap is overfitting.")
    st.altair_chart(
        compare_charts.overlaid_learning_curves({names[r.run_id]: r.history for r in runs}),
        key="compare_curves",
    )
    _confusions(service, runs, names, artifacts, base)
    _digit_rows(service, runs, names, artifacts)


def _baseline(service: TrainingService, records: dict[str, RunRecord]) -> RunRecord | None:
    pinned = st.session_state.get(link.BASELINE)
    tutorial = service.lookup(TUTORIAL)
    options = [None, *records]
    if pinned not in records:
        pinned = None
    choice = st.selectbox(
        "Baseline", options, index=options.index(pinned), key="baseline_choice",
        format_func=lambda run_id: (
            "The tutorial's network (784-400-20-10, SGD, batch 200, 5 epochs)" if run_id is None
            else f"{records[run_id].config.label()} ({run_id})"
        ),
        help="Deltas and difference charts are measured against this run. Pin any run.",
    )  # fmt: skip
    st.session_state[link.BASELINE] = choice
    if choice is not None:
        return records[choice]
    if tutorial is None:
        left, right = st.columns([3, 1])
        left.warning("The tutorial's network has not been trained yet, so there is no baseline.")
        if right.button("Train it", key="train_baseline", icon=":material/play_arrow:"):
            service.submit(TUTORIAL)
            st.toast("Training the tutorial's network; it appears in the table when done.")
    return tutorial


def _chosen_runs(records: dict[str, RunRecord], baseline: RunRecord | None) -> list[RunRecord]:
    # The widget's own state is dropped while the Explore view is shown; the plain mirror
    # (link.COMPARED) keeps the choice, and deleted runs fall out of both.
    current = st.session_state.get("compare_runs", st.session_state.get(link.COMPARED, []))
    st.session_state["compare_runs"] = [run_id for run_id in current if run_id in records]
    chosen = st.multiselect(
        "Runs to compare", list(records), key="compare_runs",
        max_selections=MAX_COMPARED_RUNS,
        format_func=lambda run_id: f"{records[run_id].config.label()} ({run_id})",
    )  # fmt: skip
    st.session_state[link.COMPARED] = chosen
    base_id = baseline.run_id if baseline is not None else None
    return [records[run_id] for run_id in chosen if run_id != base_id]


def _name(index: int, run: RunRecord, baseline: RunRecord | None) -> str:
    suffix = " (baseline)" if baseline is not None and run.run_id == baseline.run_id else ""
    return f"{LETTERS[index]}: {run.config.label()}{suffix}"


def _short(names: dict[str, str], run: RunRecord) -> str:
    """ "A" or "A (baseline)": the letter that names a run in titles."""
    letter = names[run.run_id].split(":")[0]
    return f"{letter} (baseline)" if names[run.run_id].endswith("(baseline)") else letter


def _config_diff(runs: list[RunRecord], names: dict[str, str]) -> None:
    table = compare.config_diff({names[r.run_id]: r.config for r in runs})
    differs = table.pop("differs")
    st.markdown(f"**What differs**: {', '.join(table.index[differs]) or 'nothing'}")
    styled = table.style.apply(
        lambda row: (
            ["background-color: #fff3bf; font-weight: 600" if differs[row.name] else ""] * len(row)
        ),
        axis=1,
    )
    st.dataframe(styled, width="stretch", key="config_diff")


def _metric_cards(runs: list[RunRecord], names: dict[str, str], base: RunRecord) -> None:
    summaries = {
        names[r.run_id]: {**r.summary, "parameters": total_parameters(r.config)} for r in runs
    }
    deltas = compare.metric_deltas(summaries, names[base.run_id])
    for column, run in zip(st.columns(len(runs)), runs, strict=True):
        name = names[run.run_id]
        column.markdown(f"**{name.split(':')[0]}** · `{run.run_id}`")
        column.caption(run.config.label() + (" · stopped" if run.status == "stopped" else ""))
        for row in deltas[deltas["run"] == name].itertuples():
            kind = FORMAT_OF[row.metric]
            delta = None if run is base else compare.format_delta(kind, row.delta)
            column.metric(
                row.label,
                compare.format_value(kind, row.value),
                # Streamlit reads the sign from a leading ASCII minus to pick the arrow.
                delta=None if delta in (None, "—") else delta.replace("−", "-"),
                delta_color=_delta_colour(row),
            )


def _delta_colour(row) -> str:
    # Streamlit colours a positive delta green; flip it where lower is better (loss, time).
    if row.better is None:
        return "off"
    return "normal" if (row.delta >= 0) == bool(row.better) else "inverse"


def _confusions(service, runs, names, artifacts, base) -> None:
    st.markdown("**Confusion matrices** (click a cell to see the digits behind it)")
    clicked: tuple[str, dict] | None = None
    for column, run in zip(st.columns(len(runs)), runs, strict=True):
        with column:
            event = st.altair_chart(
                compare_charts.small_confusion_heatmap(run.confusion_matrix, _short(names, run)),
                on_select="rerun", key=f"confusion_{run.run_id}", width="content",
            )  # fmt: skip
            clicked = _first_selection(event, "cell", run.run_id) or clicked
    others = [run for run in runs if run is not base]
    if others:
        st.markdown(
            f"**Change against the baseline** ({names[base.run_id].split(':')[0]}): blue = "
            "better (more right on the diagonal, fewer mistakes off it), red = worse."
        )
        for column, run in zip(st.columns(len(others)), others, strict=True):
            with column:
                difference = compare.confusion_difference(
                    run.confusion_matrix, base.confusion_matrix
                )
                event = st.altair_chart(
                    compare_charts.confusion_difference_heatmap(
                        difference, f"{names[run.run_id].split(':')[0]} − baseline"
                    ),
                    on_select="rerun", key=f"difference_{run.run_id}", width="content",
                )  # fmt: skip
                clicked = _first_selection(event, "cell", run.run_id) or clicked
        frame = compare.per_class_accuracy_frame(
            {names[r.run_id]: r.confusion_matrix for r in runs}, names[base.run_id]
        )
        st.markdown("**Per-digit accuracy change** against the baseline (click a digit)")
        event = st.altair_chart(
            compare_charts.per_class_delta_bars(frame), on_select="rerun", key="class_deltas"
        )
        digit = _first_selection(event, "digit", others[0].run_id)
        if digit is not None:
            clicked = (digit[0], {"true": digit[1]["digit"]})
    if clicked is not None:
        _cell_digits(service, runs, names, artifacts, *clicked)


def _first_selection(event, parameter: str, run_id: str) -> tuple[str, dict] | None:
    points = (event or {}).get("selection", {}).get(parameter) or []
    return (run_id, points[0]) if points else None


def _cell_digits(service, runs, names, artifacts, run_id: str, point: dict) -> None:
    data = service.data
    true_digit = int(point["true"])
    predicted_digit = int(point["predicted"]) if "predicted" in point else None
    run_artifacts: RunArtifacts = artifacts[run_id]
    chosen = compare.examples_for_cell(
        data.y_test, run_artifacts.predicted_labels, run_artifacts.confidence,
        true_digit, predicted_digit, limit=30,
    )  # fmt: skip
    what = f"true {true_digit}" + (
        f", predicted {predicted_digit}" if predicted_digit is not None else ""
    )
    st.markdown(f"**Test digits behind the click** ({what}, run {names[run_id].split(':')[0]})")
    if not len(chosen):
        st.caption("No test digits there.")
        return
    st.html(
        images.digit_grid_html(
            data.x_test[chosen], run_artifacts.predicted_labels[chosen], data.y_test[chosen],
            run_artifacts.confidence[chosen],
            caption=f"{len(chosen)} digit{'s' * (len(chosen) != 1)}, most confident first.",
        )
    )  # fmt: skip


def _digit_rows(service, runs, names, artifacts) -> None:
    data = service.data
    st.markdown("**The same test digits for every run** (amber columns: the runs disagree)")
    mode_column, count_column = st.columns([3, 1])
    mode = mode_column.radio(
        "Which digits", compare.DIGIT_MODES, horizontal=True, key="digit_mode",
        format_func=lambda m: {
            "first": "The first ones (as in the tutorial)",
            "disagree": "Where the runs disagree",
            "all_wrong": "Those every run gets wrong",
        }[m],
    )  # fmt: skip
    count = count_column.number_input("How many", 5, 50, 20, step=5, key="digit_count")
    predictions = {r.run_id: artifacts[r.run_id].predicted_labels for r in runs}
    chosen = compare.select_digits(data.y_test, predictions, mode, int(count))
    rate = compare.disagreement_rate(predictions)
    st.caption(f"The runs disagree on {rate:.1%} of the {len(data.y_test):,} test digits.")
    if not len(chosen):
        st.caption("No such digits.")
        return
    rows = [
        (names[r.run_id].split(":")[0], predictions[r.run_id][chosen],
         artifacts[r.run_id].confidence[chosen])
        for r in runs
    ]  # fmt: skip
    st.html(compare_charts.digit_rows_html(data.x_test[chosen], data.y_test[chosen], rows))
