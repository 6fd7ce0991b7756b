"""Compare runs: run history, a pinned baseline, and up to four runs side by side against it.

Everything here reads stored runs only: nothing retrains and TensorFlow is never loaded. The
comparison is a fragment, so changing what is compared reruns only this part of the page.

Runs keep their names whatever the baseline: the baseline is "Baseline", the compared runs are
A, B, C and D in the order they were chosen, and every chart and table uses these names.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import RESULT_STATUSES, RunRecord, Status, StoreError
from explorer.ui import drawing, history, links, live, plain, roles
from explorer.ui.resources import run_predictions, show_chart, show_curves
from explorer.views import charts, comparison, digits, metrics_table, repeats, reports
from explorer.views.text import data_text

BASELINE = "Baseline"
LETTERS = "ABCD"
FORMAT_OF = {metric.key: metric.kind for metric in comparison.METRICS}
TUTORIAL = TrainingConfig()
HEATMAPS_PER_ROW = 3
DRILL_DOWN_DIGITS = 30  # the most digits a click shows; the caption says how many there are


def compare_page(service: TrainingService) -> None:
    """The Compare view: history table, then the comparison of the chosen runs."""
    _from_lesson(service)
    st.subheader("Run history")
    history.history_table(service)
    comparison_section(service)


def _from_lesson(service: TrainingService) -> None:
    """A lesson's Compare step names configs: compare their stored runs (first = baseline)."""
    configs = st.session_state.pop(links.LESSON_RUNS, None)
    if not configs:
        return
    records = [service.lookup(config) for config in configs]
    baseline = records[0].run_id if records[0] is not None else None
    # The picker's own state too: it keeps what it showed before (the tutorial's network when
    # the step's runs were not stored yet) over the index it is drawn with.
    st.session_state[links.BASELINE] = st.session_state["baseline_choice"] = baseline
    chosen = [record.run_id for record in records[1:] if record is not None]
    st.session_state[links.COMPARED] = chosen
    st.session_state["compare_runs"] = chosen


@st.fragment
def comparison_section(service: TrainingService) -> None:
    st.subheader("Side by side")
    records = {r.run_id: r for r in service.runs(RESULT_STATUSES)}
    baseline = _baseline(service, records)
    chosen = _chosen_runs(service, records, baseline)
    links.sync_link(None)
    runs = ([baseline] if baseline is not None else []) + chosen
    if len(runs) < 2:
        st.info(
            "Choose runs to compare: tick rows above and press **Compare selected**, or pick "
            "them here. The baseline is shown with them."
        )
        return
    base = runs[0]
    names = {run.run_id: _name(index, baseline is not None) for index, run in enumerate(runs)}
    runs = _same_test_set(runs, names)
    if len(runs) < 2:
        return
    try:
        predictions = {run.run_id: run_predictions(service, run.run_id) for run in runs}
    except StoreError as error:
        plain.alert("error", str(error))
        return
    _settings(runs, names)
    _metric_cards(runs, names, base)
    # The verdicts follow the seeds that "Repeat them over 3 seeds" trains, as they finish.
    live.part(
        _real_or_noise, pending=_seeds_pending(service, runs), args=(service, runs, names, base)
    )
    st.markdown("**Learning curves**: solid = train, dashed = test.")
    histories = {names[r.run_id]: r.history for r in runs}
    key = tuple((r.run_id, len(r.history)) for r in runs)
    show_curves(("compare", key), histories, gap=True)
    _confusions(service, runs, names, predictions, base)
    _digit_rows(service, runs, names, predictions)
    drawing.compare_panel(service, {names[run.run_id]: run for run in runs})


def _name(index: int, has_baseline: bool) -> str:
    if has_baseline:
        return BASELINE if index == 0 else LETTERS[index - 1]
    return LETTERS[index]


def _baseline(service: TrainingService, records: dict[str, RunRecord]) -> RunRecord | None:
    pinned = st.session_state.get(links.BASELINE)
    options = [None, *records]
    if pinned is not None and pinned not in records:
        # Named, and kept in the link until another baseline is chosen.
        reason = "was deleted" if service.was_deleted(pinned) else "is not stored on this server"
        plain.alert(
            "warning",
            f"The baseline {pinned} {reason}; the tutorial's network is the baseline instead.",
        )
    choice = st.selectbox(
        "Baseline",
        options,
        index=options.index(pinned) if pinned in records else 0,
        key="baseline_choice",
        on_change=_baseline_chosen,
        format_func=lambda run_id: (
            "The tutorial's network (784-400-20-10, SGD, batch 200, 5 epochs)"
            if run_id is None
            else f"{records[run_id].config.label()} ({run_id})"
        ),
        help="Deltas and difference charts are measured against this run. Pin any run.",
    )
    if choice is not None:
        return records[choice]
    tutorial = service.lookup(TUTORIAL)
    if tutorial is None:
        left, right = st.columns([3, 1])
        left.warning("The tutorial's network has not been trained yet, so there is no baseline.")
        if right.button("Train it", key="train_baseline", icon=":material/play_arrow:"):
            try:
                service.submit(TUTORIAL, roles.requester())
            except LimitError as error:
                plain.alert("warning", str(error))
            else:
                st.toast("Training the tutorial's network; it appears in the table when done.")
    return tutorial


def _baseline_chosen() -> None:
    st.session_state[links.BASELINE] = st.session_state["baseline_choice"]


def _chosen_runs(
    service: TrainingService, records: dict[str, RunRecord], baseline: RunRecord | None
) -> list[RunRecord]:
    # The widget's own state is dropped while the Explore view is shown; the plain mirror
    # (links.COMPARED) keeps the choice. Runs that are not stored are named, not dropped silently.
    wanted = st.session_state.get("compare_runs", st.session_state.get(links.COMPARED, []))
    missing = [
        run_id for run_id in st.session_state.get(links.COMPARED, []) if run_id not in records
    ]
    for run_id in missing:
        reason = "was deleted" if service.was_deleted(run_id) else "is not stored on this server"
        plain.alert("warning", f"Run {run_id} {reason}, so it is left out of the comparison.")
    st.session_state["compare_runs"] = [run_id for run_id in wanted if run_id in records]
    chosen = st.multiselect(
        "Runs to compare",
        list(records),
        key="compare_runs",
        max_selections=len(LETTERS),
        format_func=lambda run_id: f"{records[run_id].config.label()} ({run_id})",
    )
    # Runs the link named that are not here stay in the link, so it still says what it meant.
    st.session_state[links.COMPARED] = chosen + [r for r in missing if r not in chosen]
    base_id = baseline.run_id if baseline is not None else None
    return [records[run_id] for run_id in chosen if run_id != base_id]


def _same_test_set(runs: list[RunRecord], names: dict[str, str]) -> list[RunRecord]:
    """The runs scored on the baseline's test digits; the others are named and set aside."""
    base = runs[0]
    kept = [base]
    for run in runs[1:]:
        if comparison.same_test_set({"base": base.confusion_matrix, "run": run.confusion_matrix}):
            kept.append(run)
            continue
        plain.alert(
            "warning",
            f"{names[run.run_id]} was tested on {_data(run)}, the baseline on {_data(base)}: "
            "different test digits cannot be compared, so it is left out. Compare it with a "
            "baseline trained on the same data.",
        )
    return kept


def _data(run: RunRecord) -> str:
    return data_text(run.data_source, int(run.confusion_matrix.sum()))


def _settings(runs: list[RunRecord], names: dict[str, str]) -> None:
    table = comparison.config_diff(
        {names[r.run_id]: r.config for r in runs},
        {"Data": {names[r.run_id]: _data(r) for r in runs}},
    )
    differs = table.pop("differs")
    changed = ", ".join(name.lower() for name in table.index[differs]) or "nothing"
    st.markdown(f"**What differs**: {changed}")
    styled = table.style.apply(
        lambda row: (
            ["background-color: #fff3bf; font-weight: 600" if differs[row.name] else ""] * len(row)
        ),
        axis=1,
    )
    # Tall enough for every row: a scrollbar inside the table would hide the last settings.
    st.dataframe(styled, width="stretch", height=36 * (len(table) + 1) + 4, key="config_diff")


def _metric_cards(runs: list[RunRecord], names: dict[str, str], base: RunRecord) -> None:
    summaries = {
        names[r.run_id]: {**r.summary, "parameters": total_parameters(r.config)} for r in runs
    }
    deltas = comparison.metric_deltas(summaries, names[base.run_id])
    for column, run in zip(st.columns(len(runs)), runs, strict=True):
        name = names[run.run_id]
        # The run's name and what differs from the tutorial; the full label and the run id are
        # in the hover. In a projector's narrow column the label wrapped over five lines and
        # the id over two, and runs were hard to tell apart.
        column.markdown(f"**{name}**")
        label = reports.short_label(run) + (" · stopped" if run.status == Status.STOPPED else "")
        column.caption(label, help=f"{run.config.label()} · run {run.run_id}")
        for row in deltas[deltas["run"] == name].itertuples():
            kind = FORMAT_OF[row.metric]
            delta = (
                None
                if run is base or row.delta == 0
                else metrics_table.format_delta(kind, row.delta)
            )
            column.metric(
                row.label,
                metrics_table.format_value(kind, row.value),
                # Streamlit reads the sign from a leading ASCII minus to pick the arrow.
                delta=None if delta in (None, "—") else delta.replace("−", "-"),
                delta_color=_delta_colour(row),
            )


def _seeds_pending(service: TrainingService, runs: list[RunRecord]) -> bool:
    """Whether seed 0, 1 or 2 of a compared configuration is queued or training."""
    for run in runs:
        for config in repeats.repeat_configs(run.config.replace(seed=0), 3):
            latest = service.latest(config)
            if latest is not None and latest.is_active:
                return True
    return False


def _real_or_noise(service, runs, names, base) -> bool:
    """Is each difference from the baseline bigger than the seed-to-seed spread? Every run
    counts with the other seeds of its config that the store holds. Returns whether a seed of
    a compared configuration is still queued or training."""
    complete = [r for r in service.runs((Status.COMPLETE,)) if r.config is not None]
    groups = {}
    for run in runs:
        family = run.config.replace(seed=0)
        stored = {r.config: r for r in complete if r.config.replace(seed=0) == family}
        name = names[run.run_id]
        groups[name] = repeats.seeds_frame(stored or {run.config: run}, name)
    frame = pd.concat(groups.values(), ignore_index=True)
    verdicts = repeats.group_verdicts(frame, names[base.run_id])
    with st.container(border=True, key="real_or_noise"):
        st.markdown("**Real or noise?**", help=repeats.COMPARISON_HELP)
        for name, sentence in verdicts.items():
            plain.caption(f"{name} against {names[base.run_id]}: {sentence}")
        single = [name for name, part in groups.items() if (part["status"] == "complete").sum() < 2]
        if single and st.button(
            "Repeat them over 3 seeds",
            key="repeat_compared",
            icon=":material/replay:",
            help="Trains seeds 0, 1 and 2 of every compared configuration (stored ones count).",
        ):
            try:
                for run in runs:
                    for config in repeats.repeat_configs(run.config.replace(seed=0), 3):
                        service.submit(config, roles.requester())
            except LimitError as error:
                plain.alert("warning", str(error))
            else:
                st.toast("Repeating: the verdicts update as the seeds finish.")
                st.rerun()  # from now on the verdicts follow the seeds
        if not single:
            deltas = repeats.group_deltas(frame, names[base.run_id], ("test_accuracy",))
            for row in deltas[deltas["group"] != names[base.run_id]].itertuples():
                plain.caption(f"{row.group}: {row.text} · change {row.delta_text}")
    return _seeds_pending(service, runs)


def _delta_colour(row) -> str:
    # Streamlit colours a positive delta green; flip it where lower is better (loss, time).
    if row.better is None:
        return "off"
    return "normal" if (row.delta >= 0) == bool(row.better) else "inverse"


def _grid(runs: list[RunRecord]):
    """Columns for small charts, HEATMAPS_PER_ROW to a row, one per run."""
    for start in range(0, len(runs), HEATMAPS_PER_ROW):
        row = runs[start : start + HEATMAPS_PER_ROW]
        yield from zip(st.columns(HEATMAPS_PER_ROW), row, strict=False)


def _confusions(service, runs, names, predictions, base) -> None:
    st.markdown("**Confusion matrices** (click a cell to see the digits behind it)")
    clicked = None  # (run id, true digit, predicted digit) or (run id, digit)
    for column, run in _grid(runs):
        with column:
            event = show_chart(
                ("confusion-small", run.run_id, names[run.run_id]),
                lambda run=run: charts.confusion_heatmap(
                    run.confusion_matrix, names[run.run_id], small=True
                ),
                on_select="rerun",
                key=f"confusion_{run.run_id}",
            )
            clicked = _cell_clicked(event, run.run_id) or clicked
    others = [run for run in runs if run is not base]
    st.markdown(
        f"**Change against {names[base.run_id]}**: blue = better (more right on the diagonal, "
        "fewer mistakes off it), red = worse."
    )
    for column, run in _grid(others):
        with column:
            title = f"{names[run.run_id]} − {names[base.run_id]}"
            event = show_chart(
                ("difference-small", run.run_id, base.run_id, title),
                lambda run=run, title=title: charts.difference_heatmap(
                    comparison.confusion_difference(run.confusion_matrix, base.confusion_matrix),
                    title,
                    small=True,
                ),
                on_select="rerun",
                key=f"difference_{run.run_id}",
            )
            clicked = _cell_clicked(event, run.run_id) or clicked
    st.markdown(
        f"**Per-digit accuracy change** against {names[base.run_id]} (click a bar to see the "
        "digits that changed)"
    )
    event = show_chart(
        ("class-deltas", base.run_id, tuple((run.run_id, names[run.run_id]) for run in runs)),
        lambda: charts.per_class_delta_bars(
            comparison.per_class_accuracy_frame(
                {names[r.run_id]: r.confusion_matrix for r in runs}, names[base.run_id]
            )
        ),
        on_select="rerun",
        key="class_deltas",
    )
    bars = (event or {}).get("selection", {}).get("digit") or []
    if bars:
        by_name = {names[run.run_id]: run.run_id for run in runs}
        clicked = (by_name[bars[0]["run"]], int(bars[0]["digit"]))
    if clicked is None:
        return
    if len(clicked) == 3:
        _cell_digits(service, names, predictions, *clicked)
    else:
        _changed_digits(service, names, predictions, base, *clicked)


def _cell_clicked(event, run_id: str) -> tuple[str, int, int] | None:
    points = (event or {}).get("selection", {}).get("cell") or []
    if not points:
        return None
    return run_id, int(points[0]["true"]), int(points[0]["predicted"])


def _cell_digits(service, names, predictions, run_id: str, true: int, predicted: int) -> None:
    data = service.data
    run = predictions[run_id]
    every = comparison.examples_for_cell(
        data.y_test, run.predicted_labels, run.confidence, true, predicted, limit=None
    )
    chosen = every[:DRILL_DOWN_DIGITS]
    st.markdown(
        f"**Test digits behind the click** (true {true}, predicted {predicted}, "
        f"run {names[run_id]})"
    )
    if not len(chosen):
        st.caption("No test digits there.")
        return
    count = comparison.part_of(len(chosen), len(every))
    plural = "s" * (len(every) != 1)
    _digit_grid(data, run, chosen, f"{count} digit{plural}, most confident first.")


def _digit_grid(data, run, chosen, caption: str) -> None:
    """Test digits `chosen` with what `run` predicted for them."""
    st.html(
        digits.digit_grid_html(
            data.x_test[chosen],
            run.predicted_labels[chosen],
            data.y_test[chosen],
            run.confidence[chosen],
            caption=caption,
        )
    )


def _changed_digits(service, names, predictions, base, run_id: str, digit: int) -> None:
    data = service.data
    run = predictions[run_id]
    fixed, broken = comparison.changed_examples(
        data.y_test, run.predicted_labels, predictions[base.run_id].predicted_labels, digit, None
    )
    name, base_name = names[run_id], names[base.run_id]
    st.markdown(f"**The {digit}s that changed** between {base_name} and run {name}")
    for every, what in (
        (fixed, f"{name} gets right and {base_name} got wrong"),
        (broken, f"{name} gets wrong and {base_name} got right"),
    ):
        if not len(every):
            st.caption(f"No {digit}s that {what}.")
            continue
        chosen = every[:DRILL_DOWN_DIGITS]
        count = comparison.part_of(len(chosen), len(every))
        _digit_grid(
            data, run, chosen, f"{count} {digit}s that {what} (labels: run {name}'s answers)."
        )


def _digit_rows(service, runs, names, predictions) -> None:
    data = service.data
    st.markdown("**The same test digits for every run** (amber columns: the runs disagree)")
    mode_column, count_column = st.columns([3, 1])
    mode = mode_column.radio(
        "Which digits",
        comparison.DIGIT_MODES,
        horizontal=True,
        key="digit_mode",
        format_func=lambda m: {
            "first": "The first ones",
            "disagree": "Where the runs disagree",
            "all_wrong": "Those every run gets wrong",
        }[m],
    )
    count = count_column.number_input("How many", 5, 50, 20, step=5, key="digit_count")
    labels = {r.run_id: predictions[r.run_id].predicted_labels for r in runs}
    chosen = comparison.select_digits(data.y_test, labels, mode, int(count))
    rate = comparison.disagreement_rate(labels)
    st.caption(f"The runs disagree on {rate:.1%} of the {len(data.y_test):,} test digits.")
    if not len(chosen):
        st.caption("No such digits.")
        return
    rows = [
        (names[r.run_id], labels[r.run_id][chosen], predictions[r.run_id].confidence[chosen])
        for r in runs
    ]
    st.html(digits.digit_rows_html(data.x_test[chosen], data.y_test[chosen], rows))
