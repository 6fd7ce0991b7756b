"""A run's results: metric cards, learning curves, confusion matrix and the predicted digits."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer import metrics
from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.service.service import TrainingService
from explorer.store.records import RunPredictions, RunRecord, Status, StoreError
from explorer.ui import drawing, plain
from explorer.ui.resources import run_predictions, show_chart, show_curves
from explorer.views import charts, digits, repeat_charts, repeats, stats
from explorer.views.text import ago, duration, percent

GRID_SIZE = 20  # the tutorial shows the first 20 test digits


def repeat_summary(service: TrainingService, config: TrainingConfig) -> bool:
    """How the result varies over the seeds of `config`: every seed a point, the mean and its
    spread with n, the learning curves as bands, and best against last epoch. Returns whether
    a seed is still queued or training."""
    count = int(st.session_state.get("repeat_count", 3))
    seeds = {seed: service.latest(seed) for seed in repeats.repeat_configs(config, count)}
    frame = repeats.seeds_frame(seeds)
    with st.container(border=True, key="repeats"):
        st.markdown(
            f"**Repeated over seeds 0–{count - 1}**: test accuracy {repeats.headline(frame)}",
            help=stats.TEST_EXPLANATION,
        )
        done = tuple(frame["run_id"].dropna())
        key = ("repeat", done, tuple(frame["status"]))
        points, band = st.columns([1, 2])
        with points:
            show_chart((*key, "points"), lambda: repeat_charts.seed_points_chart(frame))
        with band:
            panels = repeat_charts.learning_band_panels(repeats.band_frame(seeds))
            show_chart((*key, "band"), lambda: panels[-1])  # accuracy: what the class compares
        plain.caption(repeats.best_last_text(frame))
    return any(record is not None and record.is_active for record in seeds.values())


def result_view(service: TrainingService, record: RunRecord, *, cached: bool) -> None:
    """Everything about one finished (complete or stopped) run."""
    _status_line(record, cached)
    _metric_cards(record)
    st.markdown(
        "**Learning curves**: train vs test per epoch. Test getting worse while train keeps "
        "improving is overfitting. Test can beat train in the first epoch: the train figure is "
        "an average over the epoch, while the network was still learning, and the test figure "
        "is measured at its end."
    )
    # A finished run's charts never change: built once per server, keyed by run id.
    show_curves(("curves", record.run_id), {"": record.history})
    # In a "wrap_" container (styles.py): on a projector the matrix gets the whole width, so
    # that its numbers stay inside their cells.
    with st.container(key="wrap_confusion"):
        confusion_column, digits_column = st.columns(2, gap="large")
    with confusion_column:
        st.markdown("**Confusion matrix**: rows are the true digit, columns the prediction.")
        show_chart(
            ("confusion", record.run_id), lambda: charts.confusion_heatmap(record.confusion_matrix)
        )
    with digits_column:
        try:
            predictions = run_predictions(service, record.run_id)
        except StoreError as error:
            plain.alert("error", str(error))
            return
        digit_grid(service.data, predictions)
    if record.has_result:
        drawing.inside_panel(service, record)


def _status_line(record: RunRecord, cached: bool) -> None:
    parts = []
    if cached:
        parts.append(f"trained {ago(record.finished_at)}; shown from the run store")
    if record.status == Status.STOPPED:
        done = record.summary.get("epochs_completed", len(record.history))
        st.warning(
            f"Stopped after {done} of {record.config.epochs} epochs: these results come from "
            "the partly trained network.",
            icon=":material/stop_circle:",
        )
    parts.append(f"run `{record.run_id}` · {record.config.label()}")
    # The badge sits in the caption's line: one element fewer on every rerun of a result.
    badge = ":green-badge[:material/bolt: cached] " if cached else ""
    st.caption(badge + " · ".join(parts))


def _metric_cards(record: RunRecord) -> None:
    summary = record.summary
    # One row that wraps, not four columns: five elements fewer on every rerun of a result.
    row = st.container(horizontal=True, wrap=True, gap="medium", key="metric_cards")
    tested = record.test_samples or summary.get("test_samples") or 0
    row.metric(
        "Test accuracy",
        percent(summary.get("test_accuracy")),
        help=f"Share of the {tested:,} test digits for which the digit the network finds most "
        "likely is the right one (its answer: the argmax of the ten probabilities).",
    )
    row.metric(
        "Tutorial's score",
        percent(summary.get("thresholded_accuracy")),
        help=metrics.THRESHOLDED_EXPLANATION,
    )
    speed = summary.get("samples_per_second")
    row.metric(
        "Training time",
        duration(summary.get("train_seconds")),
        help=f"{speed:,.0f} training examples per second." if speed else None,
    )
    row.metric("Parameters", f"{total_parameters(record.config):,}")
    scores = [entry.get("test_accuracy") for entry in record.history]
    if len(scores) > 1 and all(score is not None for score in scores):
        best = max(range(len(scores)), key=scores.__getitem__)
        if best < len(scores) - 1:  # it got worse after its best epoch: overfitting shows here
            plain.caption(
                f"Best epoch: {best + 1} ({scores[best]:.2%}) · last epoch: {len(scores)} "
                f"({scores[-1]:.2%}). Test accuracy fell after epoch {best + 1}."
            )
        else:
            plain.caption(f"Best epoch: the last one ({scores[-1]:.2%}).")


def digit_grid(data: MnistData, predictions: RunPredictions) -> None:
    """The tutorial's grid of test digits with predicted labels, or the worst mistakes."""
    st.markdown("**Test digits and what the network predicts**")
    show_mistakes = st.toggle(
        "Show the most confident mistakes",
        key="show_mistakes",
        help="Digits the network got wrong while being most sure of its answer.",
    )
    predicted, confidence = predictions.predicted_labels, predictions.confidence
    if show_mistakes:
        chosen = metrics.most_confident_mistakes(predicted, confidence, data.y_test, GRID_SIZE)
        caption = "Wrong answers, most confident first."
        if not len(chosen):
            st.success("No mistakes on the test set.")
            return
    else:
        chosen = np.arange(min(GRID_SIZE, len(data.y_test)))
        tutorial = " (as in the tutorial)" if len(data.y_test) == 10_000 else ""
        caption = f"The first {len(chosen)} test digits{tutorial}; wrong ones in red."
    wrong = int(np.sum(predicted[chosen] != data.y_test[chosen]))
    st.html(
        digits.digit_grid_html(
            data.x_test[chosen],
            predicted[chosen],
            data.y_test[chosen],
            confidence[chosen],
            columns=5,
            caption=f"{caption} {wrong} of {len(chosen)} wrong.",
        )
    )
