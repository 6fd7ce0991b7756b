"""Altair charts for the dashboard: learning curves, confusion heatmap, parameter bars.

Every function here is pure: it takes plain Python/NumPy data and returns an Altair chart
object, ready for ``st.altair_chart(chart)``. Nothing here imports Streamlit, so the charts
can be tested by inspecting ``chart.to_dict()`` (the Vega-Lite spec).

Example::

    from explorer import charts

    st.altair_chart(charts.learning_curves(history))
    st.altair_chart(charts.confusion_heatmap(matrix, title="Test set"))
    st.altair_chart(charts.parameter_bars(rows))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

SPLIT_COLOURS = {"train": "#1f77b4", "test": "#ff7f0e"}
# (history key, metric name shown in the chart, split) for every curve we draw.
HISTORY_SERIES = (
    ("loss", "Loss", "train"),
    ("test_loss", "Loss", "test"),
    ("accuracy", "Accuracy", "train"),
    ("test_accuracy", "Accuracy", "test"),
)
PANEL_WIDTH = 300
PANEL_HEIGHT = 240
HEATMAP_CELL_SIZE = 36


def _finite_number(value: object, description: str) -> float:
    """Return ``value`` as a float, raising ValueError for non-numbers (bools included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{description} must be a number, got {value!r}")
    return float(value)


def history_frame(history: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """Turn a training history into the long frame that :func:`learning_curves` draws.

    ``history`` holds one dict per completed epoch, e.g. ``{"epoch": 1, "loss": 0.9,
    "accuracy": 0.75, "test_loss": 0.5, "test_accuracy": 0.86}``. Any metric key may be
    missing for an epoch (the test set is not always evaluated); that point is then left out.
    Extra keys are ignored. The result has one row per (epoch, metric, split) with columns
    ``epoch`` (int), ``metric`` ("Loss"/"Accuracy"), ``split`` ("train"/"test") and ``value``
    (float; NaN or infinite values, e.g. from a diverged run, become NaN so they show as gaps).
    Rows are sorted by epoch, then in the order loss/test_loss/accuracy/test_accuracy.
    """
    if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Sequence):
        raise ValueError(f"history must be a list of dicts, got {type(history).__name__}")
    rows = []
    seen_epochs: set[int] = set()
    for position, entry in enumerate(history):
        if not isinstance(entry, Mapping):
            raise ValueError(f"history[{position}] must be a dict, got {type(entry).__name__}")
        epoch = entry.get("epoch")
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 1:
            raise ValueError(f"history[{position}]['epoch'] must be an int >= 1, got {epoch!r}")
        if int(epoch) in seen_epochs:
            raise ValueError(f"history has epoch {int(epoch)} more than once")
        seen_epochs.add(int(epoch))
        for key, metric, split in HISTORY_SERIES:
            if entry.get(key) is None:
                continue
            value = _finite_number(entry[key], f"history[{position}][{key!r}]")
            rows.append(
                {
                    "epoch": int(epoch),
                    "metric": metric,
                    "split": split,
                    "value": value if math.isfinite(value) else math.nan,
                }
            )
    frame = pd.DataFrame(rows, columns=["epoch", "metric", "split", "value"])
    frame = frame.astype({"epoch": "int64", "metric": "object", "split": "object"})
    frame["value"] = frame["value"].astype("float64")
    # A stable sort keeps the HISTORY_SERIES order within one epoch.
    return frame.sort_values("epoch", kind="stable").reset_index(drop=True)


def _message_chart(message: str) -> alt.Chart:
    """A chart that only shows ``message``, used instead of an empty plot."""
    return (
        alt.Chart(pd.DataFrame({"message": [message]}))
        .mark_text(fontSize=16, color="gray")
        .encode(text="message:N")
        .properties(width="container", height=PANEL_HEIGHT)
    )


def _metric_panel(metric: str, last_epoch: int) -> alt.Chart:
    """One learning-curve panel (loss or accuracy); data comes from the parent hconcat."""
    is_accuracy = metric == "Accuracy"
    value_format = ".2%" if is_accuracy else ".4f"
    y_axis = alt.Axis(format=".0%") if is_accuracy else alt.Axis()
    # zero=False zooms in on e.g. 0.95..0.99 accuracy instead of squashing it against 0..1.
    y_scale = alt.Scale(zero=False, nice=True)
    # A fixed domain from epoch 1 with a little pixel padding keeps a single epoch visible
    # (not centred on a degenerate scale) and avoids a meaningless epoch 0.
    x_scale = alt.Scale(domain=[1, max(last_epoch, 2)], nice=False, padding=12)
    title = "Loss (lower is better)" if not is_accuracy else "Accuracy (higher is better)"
    return (
        alt.Chart(title=title)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True))
        .encode(
            x=alt.X(
                "epoch:Q",
                title="Epoch",
                scale=x_scale,
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            y=alt.Y("value:Q", title=metric, scale=y_scale, axis=y_axis),
            color=alt.Color(
                "split:N",
                title="Split",
                scale=alt.Scale(domain=list(SPLIT_COLOURS), range=list(SPLIT_COLOURS.values())),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("epoch:Q", title="Epoch", format="d"),
                alt.Tooltip("split:N", title="Split"),
                alt.Tooltip("value:Q", title=metric, format=value_format),
            ],
        )
        .transform_filter(alt.datum.metric == metric)
        .properties(width=PANEL_WIDTH, height=PANEL_HEIGHT)
    )


def learning_curves(history: Sequence[Mapping[str, object]]) -> alt.HConcatChart | alt.Chart:
    """Loss and accuracy per epoch, side by side, train vs test in two colours.

    Returns an ``alt.HConcatChart`` of two fixed-size panels (Streamlit shows hconcat charts
    at their natural width by default), or, for an empty history, a single ``alt.Chart`` with
    the text "No epochs yet". See :func:`history_frame` for the accepted input.
    """
    frame = history_frame(history)
    if frame.empty:
        return _message_chart("No epochs yet")
    last_epoch = int(frame["epoch"].max())
    # Explicit "pad" autosize: Streamlit would otherwise set "fit", which Vega-Lite ignores
    # (with a console warning) for concatenated views.
    return alt.hconcat(
        _metric_panel("Loss", last_epoch),
        _metric_panel("Accuracy", last_epoch),
        data=frame,
        autosize=alt.AutoSizeParams(type="pad"),
    )


def _validated_matrix(matrix: object) -> np.ndarray:
    """Return ``matrix`` as a square int64 array, or raise ValueError saying what is wrong."""
    array = np.asarray(matrix)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] == 0:
        raise ValueError(f"confusion matrix must be square k x k (k >= 1), got {array.shape}")
    if array.dtype == bool or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"confusion matrix must hold integer counts, got dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.floating):
        # Accept whole-number floats (e.g. from np.zeros + np.add.at), reject real fractions.
        if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
            raise ValueError("confusion matrix must hold whole-number counts")
    elif not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"confusion matrix must hold integer counts, got dtype {array.dtype}")
    if np.any(array < 0):
        raise ValueError("confusion matrix counts must be non-negative")
    return array.astype(np.int64)


def confusion_frame(matrix: np.ndarray) -> pd.DataFrame:
    """One row per cell of a k x k confusion matrix (rows = true label, columns = predicted).

    Columns: ``true``, ``predicted``, ``count`` (ints) and ``row_share``: count divided by
    the number of examples of that true class (0.0 for a class with no examples). Rows are
    in row-major order: true 0 predicted 0, true 0 predicted 1, ...
    """
    counts = _validated_matrix(matrix)
    size = counts.shape[0]
    row_totals = counts.sum(axis=1, keepdims=True)
    # Divide only where the class has examples, so an empty class gives 0 instead of NaN.
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    true_labels, predicted_labels = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return pd.DataFrame(
        {
            "true": true_labels.ravel(),
            "predicted": predicted_labels.ravel(),
            "count": counts.ravel(),
            "row_share": shares.ravel(),
        }
    )


def confusion_heatmap(matrix: np.ndarray, title: str | None = None) -> alt.LayerChart:
    """Heatmap of a confusion matrix with the counts written in the cells.

    x = predicted label, y = true label, every label shown in order. Colour uses a symlog
    scale so a handful of mistakes stays visible next to a diagonal of ~1000. Zero cells have
    no number, to keep the picture readable. Raises ValueError for a matrix that is not a
    square array of non-negative whole numbers.
    """
    frame = confusion_frame(matrix)
    labels = list(range(np.asarray(matrix).shape[0]))
    largest = max(int(frame["count"].max()), 1)
    # The blues scheme gets dark above ~55 % of the symlog range: white text from there on.
    dark_from = math.expm1(0.55 * math.log1p(largest))
    base = alt.Chart(frame).encode(
        x=alt.X("predicted:O", title="Predicted label", scale=alt.Scale(domain=labels)).axis(
            labelAngle=0, orient="top"
        ),
        y=alt.Y("true:O", title="True label", scale=alt.Scale(domain=labels)),
        tooltip=[
            alt.Tooltip("true:O", title="True"),
            alt.Tooltip("predicted:O", title="Predicted"),
            alt.Tooltip("count:Q", title="Count", format=","),
            alt.Tooltip("row_share:Q", title="Share of the true class", format=".1%"),
        ],
    )
    cells = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=alt.Color(
            "count:Q",
            title="Count",
            scale=alt.Scale(type="symlog", domain=[0, largest], scheme="blues"),
        )
    )
    numbers = (
        base.mark_text(fontSize=11)
        .encode(
            text=alt.Text("count:Q", format="d"),
            color=alt.when(alt.datum.count > dark_from)
            .then(alt.value("white"))
            .otherwise(alt.value("black")),
        )
        .transform_filter(alt.datum.count > 0)
    )
    size = HEATMAP_CELL_SIZE * len(labels)
    chart = alt.layer(cells, numbers).properties(width=size, height=size)
    return chart.properties(title=title) if title is not None else chart


def parameter_bars(rows: Sequence[Mapping[str, object]]) -> alt.LayerChart:
    """Horizontal bars: how many trainable parameters each layer has, labelled with the count.

    ``rows`` are dicts like ``{"layer": "Dense 1 (hidden1)", "inputs": 784, "units": 400,
    "weights": 313600, "biases": 400, "parameters": 314000}``; only ``layer`` and
    ``parameters`` are required, the others are shown in the tooltip when present. Bars keep
    the order of ``rows`` (input side on top). Raises ValueError for empty or malformed rows.
    """
    if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Sequence) or not rows:
        raise ValueError("rows must be a non-empty list of dicts")
    records = []
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping) or "layer" not in row or "parameters" not in row:
            raise ValueError(f"rows[{position}] must be a dict with 'layer' and 'parameters'")
        count = row["parameters"]
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
            raise ValueError(f"rows[{position}]['parameters'] must be an int >= 0, got {count!r}")
        records.append({**row, "layer": str(row["layer"]), "parameters": int(count)})
    frame = pd.DataFrame(records)
    total = int(frame["parameters"].sum())
    frame["share"] = frame["parameters"] / total if total else 0.0
    frame["label"] = [
        f"{count:,} ({share:.1%})"
        for count, share in zip(frame["parameters"], frame["share"], strict=True)
    ]
    optional = [name for name in ("inputs", "units", "weights", "biases") if name in frame]
    base = alt.Chart(frame).encode(
        y=alt.Y("layer:N", title=None, sort=None, axis=alt.Axis(labelLimit=220)),
        # Extra room on the right so the label of the longest bar is not clipped; no axis,
        # since every bar carries its exact count.
        x=alt.X(
            "parameters:Q",
            scale=alt.Scale(domain=[0, max(int(frame["parameters"].max()), 1) * 1.35], nice=False),
            axis=None,
        ),
        tooltip=[alt.Tooltip("layer:N", title="Layer")]
        + [alt.Tooltip(f"{name}:Q", title=name.capitalize(), format=",") for name in optional]
        + [
            alt.Tooltip("parameters:Q", title="Parameters", format=","),
            alt.Tooltip("share:Q", title="Share of all parameters", format=".1%"),
        ],
    )
    bars = base.mark_bar(color=SPLIT_COLOURS["train"])
    labels = base.mark_text(align="left", baseline="middle", dx=4).encode(text="label:N")
    # Fill the container's width; the height follows from the number of bars ("fit-x").
    return alt.layer(bars, labels).properties(
        width="container",
        height=alt.Step(28),
        title=f"Trainable parameters per layer ({total:,} in total)",
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
    )
