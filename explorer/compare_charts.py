"""Altair charts (and one HTML table) for the comparison view; the math is in explorer.compare.

Every run keeps one colour in every chart (run order = dict order, baseline first). The clickable
charts carry a named point selection; with ``event = st.altair_chart(chart, on_select="rerun")``
``event.selection["cell"]`` is a list like ``[{"true": 4, "predicted": 9}]`` (empty when nothing
is clicked) and ``event.selection["digit"]`` like ``[{"digit": 7}]``::

    overlaid_learning_curves({"A": history_a, "B": history_b})
    confusion_difference_heatmap(compare.confusion_difference(matrix_b, matrix_a), title="B − A")
    small_confusion_heatmap(matrix_b, title="B")
    per_class_delta_bars(compare.per_class_accuracy_frame(matrices, baseline="A"))
    st.html(digit_rows_html(images[shown], labels[shown], [("A", pred_a[shown], conf_a[shown])]))
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from explorer.charts import HEATMAP_CELL_SIZE, _message_chart, confusion_frame, history_frame
from explorer.compare import check_confusion
from explorer.images import RIGHT_COLOUR, WRONG_COLOUR, png_data_uri

RUN_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d")
SPLIT_DASHES = {"train": [1, 0], "test": [6, 4]}
PANEL_WIDTH, PANEL_HEIGHT, SMALL_HEATMAP_SIZE = 230, 220, 180  # small: grid only, ~225 in all
LEGEND_TITLE = ["vs baseline:", "blue better", "red worse"]
DISAGREE_BACKGROUND = "rgba(255, 179, 0, 0.28)"
ZERO_RULE = alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="gray").encode(y="zero:Q")
RUN_TIP, EPOCH_TIP = alt.Tooltip("run:N", title="Run"), alt.Tooltip("epoch:Q", title="Epoch")
CELL_TOOLTIP = [alt.Tooltip("true:O", title="True"), alt.Tooltip("predicted:O", title="Predicted")]


def run_colour_scale(runs: Sequence[str]) -> alt.Scale:
    """A colour scale giving each run the same colour in every comparison chart."""
    runs = list(dict.fromkeys(runs))
    colours = [RUN_COLOURS[position % len(RUN_COLOURS)] for position in range(len(runs))]
    return alt.Scale(domain=runs, range=colours)


def curves_frame(histories: Mapping[str, Sequence[Mapping]]) -> pd.DataFrame:
    """charts.history_frame of every run with a "run" column: run, epoch, metric, split, value."""
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError("histories must be a dict of run name -> history with at least one run.")
    parts = [history_frame(history).assign(run=run) for run, history in histories.items()]
    return pd.concat(parts, ignore_index=True)[["run", "epoch", "metric", "split", "value"]]


def gap_frame(curves: pd.DataFrame) -> pd.DataFrame:
    """From curves_frame: run, epoch, train_accuracy, test_accuracy, gap (train − test)."""
    accuracy = curves[curves["metric"] == "Accuracy"]
    wide = accuracy.pivot_table(index=["run", "epoch"], columns="split", values="value", sort=False)
    # Only epochs with both figures: a gap against a missing test score means nothing.
    wide = wide.reindex(columns=["train", "test"]).dropna().reset_index()
    wide.columns = ["run", "epoch", "train_accuracy", "test_accuracy"]
    return wide.assign(gap=wide["train_accuracy"] - wide["test_accuracy"])


def overlaid_learning_curves(histories: Mapping[str, Sequence[Mapping]]) -> alt.HConcatChart:
    """Loss, accuracy and generalisation gap per epoch of several runs, side by side.

    Colour = run, dash = split (train solid, test dashed). The gap panel shows train − test
    accuracy: above zero and growing means the run is overfitting. Runs may have different epoch
    counts or no epochs yet; with no epochs at all the result is a text-only chart.
    """
    curves = curves_frame(histories)
    if curves.empty:
        return _message_chart("No epochs yet")
    legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=600)
    colour = alt.Color("run:N", title="Run", scale=run_colour_scale(list(histories)), legend=legend)
    dash_scale = alt.Scale(domain=list(SPLIT_DASHES), range=list(SPLIT_DASHES.values()))
    dash_names = "datum.label == 'train' ? 'train (solid)' : 'test (dashed)'"
    dash_legend = alt.Legend(orient="bottom", labelExpr=dash_names)
    dash = alt.StrokeDash("split:N", title="Split", scale=dash_scale, legend=dash_legend)
    # A fixed domain from epoch 1 keeps one-epoch runs visible and avoids a meaningless epoch 0.
    epochs = alt.Scale(domain=[1, max(int(curves["epoch"].max()), 2)], nice=False)
    x = alt.X("epoch:Q", title="Epoch", scale=epochs, axis=alt.Axis(format="d", tickMinStep=1))
    point = alt.OverlayMarkDef(size=40, filled=True)
    # Three panels side by side must fit a wide page's main column (about 1,000 px).
    size = {"width": PANEL_WIDTH, "height": PANEL_HEIGHT}
    panels = []
    for metric, number_format in (("Loss", ".4f"), ("Accuracy", ".2%")):
        title = f"{metric} ({'higher' if metric == 'Accuracy' else 'lower'} is better)"
        y_axis = alt.Axis(format=".0%") if metric == "Accuracy" else alt.Axis()
        y = alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False), axis=y_axis)
        tooltip = [RUN_TIP, alt.Tooltip("split:N", title="Split"), EPOCH_TIP]
        tooltip.append(alt.Tooltip("value:Q", title=metric, format=number_format))
        panel = alt.Chart(curves, title=title).mark_line(point=point)
        panel = panel.encode(x=x, y=y, color=colour, strokeDash=dash, tooltip=tooltip)
        panels.append(panel.transform_filter(alt.datum.metric == metric).properties(**size))
    gap_tooltip = [RUN_TIP, EPOCH_TIP] + [
        alt.Tooltip(f"{split}_accuracy:Q", title=f"{split.title()} accuracy", format=".2%")
        for split in ("train", "test")
    ]
    gap_tooltip.append(alt.Tooltip("gap:Q", title="Gap", format="+.2%"))
    gap_y = alt.Y("gap:Q", title="Train − test accuracy", axis=alt.Axis(format=".1%"))
    gap = alt.Chart(gap_frame(curves)).mark_line(point=point)
    gap = gap.encode(x=x, y=gap_y, color=colour, tooltip=gap_tooltip)
    gap_title = alt.TitleParams("Generalisation gap", subtitle="above 0 and growing = overfitting")
    panels.append(alt.layer(ZERO_RULE, gap, title=gap_title).properties(**size))
    # "pad": Streamlit's default "fit" is ignored (with a warning) for concatenated views.
    return alt.hconcat(*panels, autosize=alt.AutoSizeParams(type="pad"))


def _change_text(true: int, predicted: int, change: int) -> str:
    """The tooltip of one difference cell, e.g. "3 more 4s read as 9 (worse)"."""
    if change == 0:
        return "same as the baseline"
    what = f"{true}s read correctly" if true == predicted else f"{true}s read as {predicted}"
    verdict = "better" if (change > 0) == (true == predicted) else "worse"
    return f"{abs(change)} {'more' if change > 0 else 'fewer'} {what} ({verdict})"


def _heatmap(frame: pd.DataFrame, fill, dark, tooltip: list, cell: int) -> alt.LayerChart:
    """Cells coloured by `fill`, the "label" column on top (white where `dark`), "cell" selection.

    Cells smaller than charts.HEATMAP_CELL_SIZE get the compact look (smaller text).
    """
    compact = cell < HEATMAP_CELL_SIZE
    labels = sorted(frame["true"].unique().tolist())
    font = {"labelFontSize": 9 if compact else 11, "labelOverlap": False}  # all ten digits
    x = alt.X("predicted:O", title="Predicted").scale(domain=labels)
    y = alt.Y("true:O", title="True").scale(domain=labels)
    axes = {"x": x.axis(labelAngle=0, orient="top", **font), "y": y.axis(**font)}
    selection = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
    cells = alt.Chart(frame).mark_rect().encode(**axes, color=fill, tooltip=tooltip)
    chosen = alt.when(selection, empty=False)  # a dark outline marks the clicked cell
    cells = cells.encode(
        stroke=chosen.then(alt.value("black")).otherwise(alt.value("#ddd")),
        strokeWidth=chosen.then(alt.value(2.5)).otherwise(alt.value(0.5)),
    )
    # No tooltip on the text layer: Vega-Lite then leaves it non-interactive, so a click on a
    # number reaches the cell underneath and selects it.
    colour = alt.when(dark).then(alt.value("white")).otherwise(alt.value("black"))
    numbers = alt.Chart(frame).mark_text(fontSize=7 if compact else 11)
    numbers = numbers.encode(**axes, text="label:N", color=colour).transform_filter("datum.label")
    side = cell * len(labels)
    return alt.layer(cells.add_params(selection), numbers).properties(width=side, height=side)


def confusion_difference_heatmap(
    difference: np.ndarray, title: str | None = None
) -> alt.LayerChart:
    """Heatmap of a run's confusion matrix minus the baseline's (compare.confusion_difference).

    Colour = improvement: blue = better than the baseline (more right on the diagonal, fewer
    mistakes off it), red = worse; cells show the signed change of the count ("+12", "−3"),
    unchanged cells stay blank. Clicking a cell selects it (parameter "cell": true, predicted).
    """
    changes = check_confusion(difference, "difference", signed=True)
    true, predicted = (grid.ravel() for grid in np.indices(changes.shape))
    frame = pd.DataFrame({"true": true, "predicted": predicted, "difference": changes.ravel()})
    # On the diagonal more is better, off it fewer is better: one sign convention for the colour.
    frame["improvement"] = np.where(true == predicted, 1, -1) * frame["difference"]
    frame["label"] = [f"{n:+d}".replace("-", "−") if n else "" for n in frame["difference"]]
    cells = zip(true.tolist(), predicted.tolist(), frame["difference"].tolist(), strict=True)
    frame["meaning"] = [_change_text(*cell) for cell in cells]
    largest = max(int(frame["improvement"].abs().max()), 1)
    # symlog, like charts.confusion_heatmap: a change of 2 stays visible next to one of 200.
    scale = alt.Scale(type="symlog", scheme="redblue", domain=[-largest, largest], domainMid=0)
    colour = alt.Color("improvement:Q", title=LEGEND_TITLE, scale=scale)
    fill = alt.when(alt.datum.improvement == 0).then(alt.value("white")).otherwise(colour)
    tooltip = [*CELL_TOOLTIP, alt.Tooltip("meaning:N", title="Change vs baseline")]
    dark = abs(alt.datum.improvement) > math.expm1(0.6 * math.log1p(largest))
    chart = _heatmap(frame, fill, dark, tooltip, HEATMAP_CELL_SIZE)
    return chart.properties(title=title) if title is not None else chart


def small_confusion_heatmap(matrix: np.ndarray, title: str) -> alt.LayerChart:
    """A compact (~220 px) confusion heatmap for runs side by side, with the "cell" selection."""
    counts = check_confusion(matrix, "The confusion matrix")
    frame = confusion_frame(counts)
    # "label" is the text shown in a cell: none for an empty cell, to keep the picture readable.
    frame["label"] = [str(count) if count else "" for count in frame["count"].tolist()]
    largest = max(int(counts.max()), 1)
    scale = alt.Scale(type="symlog", domain=[0, largest], scheme="blues")
    tooltip = [*CELL_TOOLTIP, alt.Tooltip("count:Q", title="Count", format=",")]
    tooltip.append(alt.Tooltip("row_share:Q", title="Share of the true class", format=".1%"))
    dark = alt.datum.count > math.expm1(0.55 * math.log1p(largest))
    fill = alt.Color("count:Q", legend=None, scale=scale)
    chart = _heatmap(frame, fill, dark, tooltip, SMALL_HEATMAP_SIZE // len(counts))
    # "pad": the width is the grid's own, so a narrow column cannot squeeze the cells unreadable.
    return chart.properties(title=title, autosize=alt.AutoSizeParams(type="pad"))


def per_class_delta_bars(frame: pd.DataFrame) -> alt.LayerChart:
    """Grouped bars: change of each digit's accuracy against the baseline, in percentage points.

    Pass compare.per_class_accuracy_frame as is: the baseline's rows (and NaN deltas) are left
    out here. Clicking a bar selects its digit (parameter "digit").
    """
    needed = {"run", "digit", "accuracy", "delta", "count"}
    if not isinstance(frame, pd.DataFrame) or not needed <= set(frame.columns):
        raise ValueError(f"frame must be a DataFrame with columns {', '.join(sorted(needed))}.")
    keep = frame["delta"].notna()
    if "baseline" in frame.columns:
        keep &= ~frame["baseline"].astype(bool)
    shown = frame[keep].assign(points=frame["delta"] * 100)
    compared = list(dict.fromkeys(shown["run"]))
    # Colour slots for all runs (baseline too) keep each run's colour; the legend lists the rest.
    legend = alt.Legend(orient="bottom", direction="vertical", values=compared, labelLimit=600)
    selection = alt.selection_point(name="digit", fields=["digit"], on="click")
    tooltip = [RUN_TIP, alt.Tooltip("digit:O", title="Digit")]
    tooltip += [alt.Tooltip("accuracy:Q", title="Accuracy", format=".2%")]
    tooltip += [alt.Tooltip("points:Q", title="Change (percentage points)", format="+.2f")]
    tooltip += [alt.Tooltip("count:Q", title="Examples", format=",")]
    digits = sorted(set(frame["digit"].tolist()))
    bars = alt.Chart(shown).mark_bar()
    bars = bars.encode(
        x=alt.X("digit:O", title="True digit").scale(domain=digits).axis(labelAngle=0),
        xOffset=alt.XOffset("run:N").scale(domain=compared),
        y=alt.Y("points:Q", title="Accuracy change (percentage points)"),
        color=alt.Color("run:N", title="Run", scale=run_colour_scale(frame["run"]), legend=legend),
        opacity=alt.when(selection).then(alt.value(1.0)).otherwise(alt.value(0.35)),
        tooltip=tooltip,
    )
    title = "Accuracy per digit vs baseline" if compared else "No other run to compare"
    chart = alt.layer(bars.add_params(selection), ZERO_RULE, title=title)
    fit = alt.AutoSizeParams(type="fit-x", contains="padding")
    return chart.properties(width="container", height=PANEL_HEIGHT, autosize=fit)


def _row(values: object, length: int, description: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1 or len(array) != length:
        raise ValueError(f"{description} has shape {array.shape}; expected {length} values.")
    return array


def _cell(kind: str, disagree: bool, content: str, style: str = "", **data: object) -> str:
    """One <td>: its data-* attributes (escaped), the disagreement flag and the amber background."""
    attributes = "".join(f' data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    background = f"background:{DISAGREE_BACKGROUND};" if disagree else ""
    style = f"padding:2px 4px;text-align:center;border-radius:4px;{background}{style}"
    flag = "true" if disagree else "false"
    return f'<td class="{kind}"{attributes} data-disagree="{flag}" style="{style}">{content}</td>'


def digit_rows_html(
    images: np.ndarray,
    true_labels: np.ndarray,
    rows: Sequence[tuple[str, np.ndarray, np.ndarray]],
    columns: int | None = None,
) -> str:
    """One HTML table (class "digit-rows"): the digits, then each run's predicted labels under them.

    `images` (k, 28, 28) uint8 and `true_labels` (k,) are the chosen digits; `rows` holds one
    (run name, predicted labels, confidence 0..1) per run, each of length k. Right predictions are
    green, wrong ones red; columns where the runs disagree are amber and every cell in them has
    data-disagree="true". `columns` (default: all) wraps the digits into blocks of that many.
    """
    pictures = np.asarray(images)
    if pictures.ndim != 3:
        raise ValueError(f"images must be a (k, height, width) stack, got shape {pictures.shape}.")
    count = len(pictures)
    truth = _row(true_labels, count, "true_labels").tolist()
    runs = []
    for name, predicted, confidence in rows:  # a row of other than 3 items: ValueError here
        confidence = _row(confidence, count, f"The confidence of run {name!r}").astype(float)
        runs.append((name, _row(predicted, count, f"The predictions of {name!r}"), confidence))
    if columns is not None and (type(columns) is not int or columns < 1):
        raise ValueError(f"columns must be a whole number >= 1 or None, got {columns!r}.")
    if count == 0:
        return '<table class="digit-rows"><tr><td>No digits to show.</td></tr></table>'
    stack = np.array([predicted for _, predicted, _ in runs]).reshape(len(runs), count)
    disagree = np.any(stack != stack[:1], axis=0).tolist()
    head = '<th scope="row" style="padding:2px 8px 2px 0;text-align:right;white-space:nowrap">'
    # The wrapper scrolls sideways, so a long row never widens the page.
    parts = ['<div style="overflow-x:auto"><table class="digit-rows" style="border-spacing:2px">']
    for start in range(0, count, columns or count):
        block = range(start, min(start + (columns or count), count))
        parts.append(f'<tbody class="digit-block"><tr>{head}Digit</th>')
        for i in block:
            true_text = html.escape(str(truth[i]))
            # The PNG stays 28x28 (small HTML); the browser doubles it without blurring.
            image = (
                f'<img src="{png_data_uri(pictures[i])}" alt="digit, true {true_text}" width="56"'
                ' height="56" style="image-rendering:pixelated;background:#000;display:block">'
                f'<div style="font-size:0.8em;opacity:0.75">true {true_text}</div>'
            )
            parts.append(_cell("digit", disagree[i], image, position=i, true=truth[i]))
        parts.append("</tr>")
        for name, predicted, confidence in runs:
            parts.append(f"<tr>{head}{html.escape(str(name))}</th>")
            for i in block:
                label, right = predicted[i].item(), bool(predicted[i] == truth[i])
                tip = f"{name}: {label} ({confidence[i]:.0%} confident), true {truth[i]}"
                content = f'<span title="{html.escape(tip)}">{html.escape(str(label))}</span>'
                colour = RIGHT_COLOUR if right else WRONG_COLOUR
                style = f"font-size:1.3em;font-weight:700;color:{colour}"
                data = {"run": name, "predicted": label, "correct": "true" if right else "false"}
                parts.append(_cell("prediction", disagree[i], content, style, **data))
            parts.append("</tr>")
        parts.append("</tbody>")
    return "".join([*parts, "</table></div>"])
