"""Altair charts of runs: learning curves, confusion heatmaps and per-digit changes.

Every function takes plain data the app built itself and returns an Altair chart for
``st.altair_chart`` / ``st.vega_lite_chart``; nothing here imports Streamlit, so a chart is
tested by reading ``chart.to_dict()``. Every chart fills the width of its container, so it fits
a wide screen and a projector alike.

    learning_curve_panels({"": history})                      # one run: colour = train / test
    learning_curve_panels({"A": h_a, "B": h_b}, gap=True)      # runs overlaid, plus the gap panel
    confusion_heatmap(matrix)                                  # counts, symlog colour
    difference_heatmap(comparison.confusion_difference(b, a))  # blue better, red worse
    per_class_delta_bars(comparison.per_class_accuracy_frame(matrices, baseline="A"))

The clickable charts carry a named point selection. With
``event = st.altair_chart(chart, on_select="rerun")``, ``event.selection["cell"]`` is a list
like ``[{"true": 4, "predicted": 9}]`` and ``event.selection["digit"]`` like
``[{"run": "C", "digit": 7}]`` (empty when nothing is clicked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

# Blue and orange (category10): a pair that colour-blind eyes tell apart. Test is dashed as
# well, so that no line is told by its colour alone.
SPLIT_COLOURS = {"train": "#1f77b4", "test": "#ff7f0e"}
SPLIT_DASHES = {"train": [1, 0], "test": [6, 4]}
# ColorBrewer's Dark2, a scheme made to stay apart for colour-blind readers (Tableau's 10
# colours put a red and a green side by side).
RUN_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")
# (history key, metric, split) of every curve drawn.
HISTORY_SERIES = (
    ("loss", "Loss", "train"),
    ("test_loss", "Loss", "test"),
    ("accuracy", "Accuracy", "train"),
    ("test_accuracy", "Accuracy", "test"),
)
PANEL_HEIGHT = 240
HEATMAP_HEIGHT = 300
SMALL_HEATMAP_HEIGHT = 220
# The numbers in a heatmap's cells, in CSS pixels: readable from the back of a room. A small
# heatmap (runs side by side) has no room for them at that size, so its cells are unnumbered
# and a hover tells each count.
CELL_FONT_SIZE = 12
# Text on a heatmap cell turns white once the cell's colour passes this share of the symlog
# range: from there on, the blues and the red-blue schemes are too dark for black text.
DARK_CELL_SHARE = 0.55
GAP_EXPLANATION = (
    "above 0 and growing = overfitting. Train accuracy is averaged over each epoch while the "
    "network was still learning; test accuracy is measured after it. So early on, test can "
    "beat train."
)
LEGEND_TITLE = ["vs baseline:", "blue better", "red worse"]
# As wide as the container; the height is the plot's own (FILL_X) or counts titles and legends
# too (FILL), for charts whose legends grow with their data.
FILL_X = {"autosize": alt.AutoSizeParams(type="fit-x", contains="padding"), "width": "container"}
FILL = {"autosize": alt.AutoSizeParams(type="fit", contains="padding"), "width": "container"}
_FILL = FILL_X
_RUN_TIP, _EPOCH_TIP = alt.Tooltip("run:N", title="Run"), alt.Tooltip("epoch:Q", title="Epoch")
_CELL_TIP = [alt.Tooltip("true:O", title="True"), alt.Tooltip("predicted:O", title="Predicted")]


def message_chart(message: str, height: int = PANEL_HEIGHT) -> alt.Chart:
    """A chart that only shows `message`, drawn where a plot has nothing to show yet."""
    frame = pd.DataFrame({"message": [message]})
    chart = alt.Chart(frame).mark_text(fontSize=16, color="gray").encode(text="message:N")
    return chart.properties(height=height, **_FILL)


def split_dashes() -> alt.StrokeDash:
    """Train solid, test dashed, with a legend of lines: a dot cannot show solid against dashed.

    Vega draws a stroke symbol in its fill colour (without one the dashes are invisible), and a
    dash pattern needs a longer symbol than the default to show.
    """
    dashes = alt.Scale(domain=list(SPLIT_DASHES), range=list(SPLIT_DASHES.values()))
    legend = alt.Legend(
        orient="bottom",
        symbolType="stroke",
        symbolStrokeWidth=2,
        symbolFillColor="gray",
        symbolStrokeColor="gray",
        symbolSize=400,
    )
    return alt.StrokeDash("split:N", title="Split", scale=dashes, legend=legend)


def run_colour_scale(runs: Sequence[str]) -> alt.Scale:
    """A colour scale giving each run the same colour in every chart of a comparison."""
    runs = list(dict.fromkeys(runs))
    colours = [RUN_COLOURS[position % len(RUN_COLOURS)] for position in range(len(runs))]
    return alt.Scale(domain=runs, range=colours)


def curves_height(runs: int) -> int:
    """Height of a learning-curve panel of `runs` runs (or groups). A chart that fits its
    container counts its legends in its height: with several runs, the legends below the plot
    (a row per run) would otherwise squash the plot to a line."""
    return PANEL_HEIGHT + (60 + 30 * runs if runs > 1 else 0)


def dark_from(largest: float) -> float:
    """The cell value above which a symlog-coloured cell is dark (white text from there on)."""
    return math.expm1(DARK_CELL_SHARE * math.log1p(max(largest, 1)))


# -- learning curves --------------------------------------------------------------------------


def history_frame(history: Sequence[Mapping[str, float]]) -> pd.DataFrame:
    """A run's history (one dict per epoch) as a long frame: epoch, metric, split, value.

    A missing or non-finite figure (a diverged run) becomes a gap, not a point.
    """
    rows = [
        (int(entry["epoch"]), metric, split, _finite_or_nan(entry.get(key)))
        for entry in history
        for key, metric, split in HISTORY_SERIES
        if entry.get(key) is not None
    ]
    return pd.DataFrame(rows, columns=["epoch", "metric", "split", "value"])


def curves_frame(histories: Mapping[str, Sequence[Mapping[str, float]]]) -> pd.DataFrame:
    """`history_frame` of every run, with a "run" column: run, epoch, metric, split, value."""
    parts = [history_frame(history).assign(run=run) for run, history in histories.items()]
    return pd.concat(parts, ignore_index=True)[["run", "epoch", "metric", "split", "value"]]


def has_curves(histories: Mapping[str, Sequence[Mapping[str, float]]]) -> bool:
    """Whether any run has a figure to draw (else `learning_curve_panels` gives one message)."""
    return any(
        entry.get(key) is not None
        for history in histories.values()
        for entry in history
        for key, _, _ in HISTORY_SERIES
    )


def gap_frame(curves: pd.DataFrame) -> pd.DataFrame:
    """From `curves_frame`: run, epoch, train_accuracy, test_accuracy, gap (train − test)."""
    accuracy = curves[curves["metric"] == "Accuracy"]
    wide = accuracy.pivot_table(index=["run", "epoch"], columns="split", values="value", sort=False)
    # Only epochs with both figures: a gap against a missing test score means nothing.
    wide = wide.reindex(columns=["train", "test"]).dropna().reset_index()
    wide.columns = ["run", "epoch", "train_accuracy", "test_accuracy"]
    return wide.assign(gap=wide["train_accuracy"] - wide["test_accuracy"])


def learning_curve_panels(
    histories: Mapping[str, Sequence[Mapping[str, float]]], *, gap: bool = False
) -> list[alt.TopLevelMixin]:
    """Loss and accuracy per epoch (and the train − test gap with `gap`), one chart per panel,
    each filling its own column.

    One run (any name): colour and dash = split, train solid blue and test dashed orange.
    Several runs: colour = run, dash = split (train solid, test dashed). With no epochs at
    all: one "No epochs yet" chart.
    """
    curves = curves_frame(histories)
    if curves.empty:
        return [message_chart("No epochs yet")]
    several = len(histories) > 1
    last_epoch = int(curves["epoch"].max())
    # A fixed domain from epoch 1 keeps one epoch visible and avoids a meaningless epoch 0.
    epochs = alt.Scale(domain=[1, max(last_epoch, 2)], nice=False, padding=8)
    x = alt.X("epoch:Q", title="Epoch", scale=epochs, axis=alt.Axis(format="d", tickMinStep=1))
    point = alt.OverlayMarkDef(size=50 if several else 60, filled=True)
    if several:
        legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=400)
        colour = alt.Color("run:N", title="Run", scale=run_colour_scale(list(histories)))
        colour = colour.legend(legend)
        encodings = {"color": colour, "strokeDash": split_dashes()}
    else:
        splits = alt.Scale(domain=list(SPLIT_COLOURS), range=list(SPLIT_COLOURS.values()))
        # One legend for both: the same field and title, so Vega-Lite merges them.
        legend = alt.Legend(orient="top", symbolType="stroke", symbolSize=400)
        dashes = alt.Scale(domain=list(SPLIT_DASHES), range=list(SPLIT_DASHES.values()))
        encodings = {
            "color": alt.Color("split:N", title="Split", scale=splits, legend=legend),
            "strokeDash": alt.StrokeDash("split:N", title="Split", scale=dashes, legend=legend),
        }
    panels = []
    for metric, number_format in (("Loss", ".4f"), ("Accuracy", ".2%")):
        is_accuracy = metric == "Accuracy"
        title = f"{metric} ({'higher' if is_accuracy else 'lower'} is better)"
        # zero=False zooms in on e.g. 0.95..0.99 instead of squashing it against 0..1.
        y = alt.Y("value:Q", title=metric, scale=alt.Scale(zero=False, nice=True))
        y = y.axis(format=".0%") if is_accuracy else y
        tooltip = [_RUN_TIP] if several else []
        tooltip += [alt.Tooltip("split:N", title="Split"), _EPOCH_TIP]
        tooltip.append(alt.Tooltip("value:Q", title=metric, format=number_format))
        panel = alt.Chart(curves, title=title).mark_line(point=point)
        panel = panel.encode(x=x, y=y, tooltip=tooltip, **encodings)
        panel = panel.transform_filter(alt.datum.metric == metric)
        panels.append(panel.properties(height=curves_height(len(histories)), **_FILL))
    if gap:
        panels.append(_gap_panel(curves, x, point, list(histories)))
    return panels


def _gap_panel(curves: pd.DataFrame, x: alt.X, point, runs: list[str]) -> alt.LayerChart:
    tooltip = [_RUN_TIP, _EPOCH_TIP] + [
        alt.Tooltip(f"{split}_accuracy:Q", title=f"{split.title()} accuracy", format=".2%")
        for split in ("train", "test")
    ]
    tooltip.append(alt.Tooltip("gap:Q", title="Gap", format="+.2%"))
    y = alt.Y("gap:Q", title="Train − test accuracy", axis=alt.Axis(format=".1%"))
    colour = alt.Color("run:N", title="Run", scale=run_colour_scale(runs), legend=None)
    line = alt.Chart(gap_frame(curves)).mark_line(point=point)
    line = line.encode(x=x, y=y, color=colour, tooltip=tooltip)
    title = alt.TitleParams("Generalisation gap", subtitle=GAP_EXPLANATION.split(". "))
    # As tall as the panels beside it, which have legends below them.
    height = curves_height(len(runs))
    return alt.layer(_zero_rule(), line, title=title).properties(height=height, **_FILL)


def _zero_rule() -> alt.Chart:
    return alt.Chart(pd.DataFrame({"zero": [0]})).mark_rule(color="gray").encode(y="zero:Q")


def _finite_or_nan(value: object) -> float:
    number = float(value)
    return number if math.isfinite(number) else math.nan


# -- confusion matrices ------------------------------------------------------------------------


def confusion_frame(matrix: np.ndarray) -> pd.DataFrame:
    """One row per cell of a confusion matrix (rows = true digit, columns = predicted).

    Columns: true, predicted, count, and row_share: the count over the examples of that true
    digit (0.0 for a digit with none). Rows are in row-major order.
    """
    counts = np.asarray(matrix, dtype=np.int64)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape), where=row_totals > 0)
    true, predicted = (grid.ravel() for grid in np.indices(counts.shape))
    return pd.DataFrame(
        {"true": true, "predicted": predicted, "count": counts.ravel(), "row_share": shares.ravel()}
    )


def confusion_heatmap(
    matrix: np.ndarray, title: str | None = None, *, small: bool = False
) -> alt.LayerChart:
    """Heatmap of a confusion matrix with the counts written in (empty cells left blank).

    x = predicted digit, y = true digit. The colour is on a symlog scale, so a handful of
    mistakes stays visible next to a diagonal of a thousand. `small`: a compact version for
    runs side by side, without numbers (the tooltip tells them). A click selects a cell
    (parameter "cell").
    """
    frame = confusion_frame(matrix)
    frame["label"] = [str(count) if count else "" for count in frame["count"].tolist()]
    largest = max(int(frame["count"].max()), 1)
    scale = alt.Scale(type="symlog", domain=[0, largest], scheme="blues")
    fill = alt.Color("count:Q", title="Count", scale=scale, legend=None if small else alt.Legend())
    tooltip = [*_CELL_TIP, alt.Tooltip("count:Q", title="Count", format=",")]
    tooltip.append(alt.Tooltip("row_share:Q", title="Share of the true digit", format=".1%"))
    dark = alt.datum.count > dark_from(largest)
    return _heatmap(frame, fill, dark, tooltip, title, small)


def difference_heatmap(
    difference: np.ndarray, title: str | None = None, *, small: bool = False
) -> alt.LayerChart:
    """Heatmap of a run's confusion matrix minus the baseline's (comparison.confusion_difference).

    Colour = improvement: blue = better than the baseline (more right on the diagonal, fewer
    mistakes off it), red = worse. Cells show the signed change ("+12", "−3"), unless `small`
    (the tooltip tells it); unchanged cells stay blank. A click selects a cell (parameter
    "cell").
    """
    changes = np.asarray(difference, dtype=np.int64)
    true, predicted = (grid.ravel() for grid in np.indices(changes.shape))
    frame = pd.DataFrame({"true": true, "predicted": predicted, "difference": changes.ravel()})
    # On the diagonal more is better, off it fewer is better: one sign for the colour.
    frame["improvement"] = np.where(true == predicted, 1, -1) * frame["difference"]
    frame["label"] = [f"{n:+d}".replace("-", "−") if n else "" for n in frame["difference"]]
    cells = zip(true.tolist(), predicted.tolist(), frame["difference"].tolist(), strict=True)
    frame["meaning"] = [_change_text(*cell) for cell in cells]
    largest = max(int(frame["improvement"].abs().max()), 1)
    scale = alt.Scale(type="symlog", scheme="redblue", domain=[-largest, largest], domainMid=0)
    legend = None if small else alt.Legend(title=LEGEND_TITLE, orient="bottom")
    colour = alt.Color("improvement:Q", scale=scale, legend=legend)
    fill = alt.when(alt.datum.improvement == 0).then(alt.value("white")).otherwise(colour)
    tooltip = [*_CELL_TIP, alt.Tooltip("meaning:N", title="Change vs baseline")]
    dark = abs(alt.datum.improvement) > dark_from(largest)
    return _heatmap(frame, fill, dark, tooltip, title, small)


def _heatmap(frame, fill, dark, tooltip, title, small) -> alt.LayerChart:
    """Cells coloured by `fill`, the "label" column on top (white where `dark`; none when
    `small`), the "cell" selection outlining the clicked cell; as wide as its container."""
    digits = sorted(frame["true"].unique().tolist())
    font = {"labelFontSize": 10 if small else 12, "labelOverlap": False}  # all ten digits
    x = alt.X("predicted:O", title="Predicted").scale(domain=digits)
    y = alt.Y("true:O", title="True").scale(domain=digits)
    axes = {"x": x.axis(labelAngle=0, orient="top", **font), "y": y.axis(**font)}
    selection = alt.selection_point(name="cell", fields=["true", "predicted"], on="click")
    chosen = alt.when(selection, empty=False)  # a dark outline marks the clicked cell
    cells = alt.Chart(frame).mark_rect().encode(**axes, color=fill, tooltip=tooltip)
    cells = cells.encode(
        stroke=chosen.then(alt.value("black")).otherwise(alt.value("#ddd")),
        strokeWidth=chosen.then(alt.value(2.5)).otherwise(alt.value(0.5)),
    )
    # No tooltip on the text: Vega-Lite then leaves it non-interactive, so a click on a
    # number reaches the cell underneath.
    colour = alt.when(dark).then(alt.value("white")).otherwise(alt.value("black"))
    numbers = alt.Chart(frame).mark_text(fontSize=CELL_FONT_SIZE)
    numbers = numbers.encode(**axes, text="label:N", color=colour).transform_filter("datum.label")
    height = SMALL_HEATMAP_HEIGHT if small else HEATMAP_HEIGHT
    layers = [cells.add_params(selection)] + ([] if small else [numbers])
    chart = alt.layer(*layers).properties(height=height, **_FILL)
    return chart.properties(title=title) if title is not None else chart


def _change_text(true: int, predicted: int, change: int) -> str:
    """The tooltip of one difference cell, e.g. "3 more 4s read as 9 (worse)"."""
    if change == 0:
        return "same as the baseline"
    what = f"{true}s read correctly" if true == predicted else f"{true}s read as {predicted}"
    verdict = "better" if (change > 0) == (true == predicted) else "worse"
    return f"{abs(change)} {'more' if change > 0 else 'fewer'} {what} ({verdict})"


# -- per-digit changes -------------------------------------------------------------------------


def per_class_delta_bars(frame: pd.DataFrame) -> alt.LayerChart:
    """Grouped bars: the change of each digit's accuracy against the baseline, in points.

    Pass comparison.per_class_accuracy_frame as it is: the baseline's rows are left out here.
    A click selects a bar: its run and digit (parameter "digit").
    """
    shown = frame[~frame["baseline"] & frame["delta"].notna()]
    shown = shown.assign(points=shown["delta"] * 100)
    compared = list(dict.fromkeys(shown["run"]))
    # Colour slots for all runs (baseline too) keep each run's colour; the legend lists the rest.
    legend = alt.Legend(orient="bottom", direction="vertical", values=compared, labelLimit=400)
    selection = alt.selection_point(name="digit", fields=["run", "digit"], on="click")
    tooltip = [_RUN_TIP, alt.Tooltip("digit:O", title="Digit")]
    tooltip += [alt.Tooltip("accuracy:Q", title="Accuracy", format=".2%")]
    tooltip += [alt.Tooltip("points:Q", title="Change (percentage points)", format="+.2f")]
    tooltip += [alt.Tooltip("count:Q", title="Examples", format=",")]
    digits = sorted(set(frame["digit"].tolist()))
    bars = (
        alt.Chart(shown)
        .mark_bar()
        .encode(
            x=alt.X("digit:O", title="True digit").scale(domain=digits).axis(labelAngle=0),
            xOffset=alt.XOffset("run:N").scale(domain=compared),
            y=alt.Y("points:Q", title="Accuracy change (points)"),
            color=alt.Color(
                "run:N", title="Run", scale=run_colour_scale(frame["run"]), legend=legend
            ),
            opacity=alt.when(selection).then(alt.value(1.0)).otherwise(alt.value(0.35)),
            tooltip=tooltip,
        )
    )
    chart = alt.layer(bars.add_params(selection), _zero_rule(), title="Accuracy per digit")
    return chart.properties(height=PANEL_HEIGHT, **_FILL)


# -- inside the network ------------------------------------------------------------------------

PROBABILITY_HEIGHT = 200
STRIP_ROW_HEIGHT = 36
HIGHLIGHT_COLOUR = "#e45756"
OTHER_COLOUR = "#a0a0a0"


def probability_frame(probabilities: Sequence[float]) -> pd.DataFrame:
    """The ten probabilities of one digit: digit, probability (0..1)."""
    values = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    if values.shape != (10,):
        raise ValueError(f"Expected the 10 probabilities of one digit; got {values.shape[0]}.")
    return pd.DataFrame({"digit": np.arange(10), "probability": values})


def probability_bars(probabilities: Sequence[float], highlight: int | None = None) -> alt.Chart:
    """Ten bars, one per digit, 0 to 100%: what the network thinks one input is.

    The `highlight` digit (default: the most likely one) is red, the others grey; each bar
    carries its percentage above it.
    """
    frame = probability_frame(probabilities)
    chosen = int(frame["probability"].idxmax()) if highlight is None else int(highlight)
    frame["label"] = [f"{value:.0%}" for value in frame["probability"]]
    colour = (
        alt.when(alt.datum.digit == chosen)
        .then(alt.value(HIGHLIGHT_COLOUR))
        .otherwise(alt.value(OTHER_COLOUR))
    )
    x = alt.X("digit:O", title="Digit").scale(domain=list(range(10))).axis(labelAngle=0)
    tooltip = [
        alt.Tooltip("digit:O", title="Digit"),
        alt.Tooltip("probability:Q", title="Probability", format=".2%"),
    ]
    y = alt.Y("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1]))
    bars = alt.Chart(frame).mark_bar().encode(x=x, y=y.axis(format=".0%"), color=colour)
    bars = bars.encode(tooltip=tooltip)
    labels = (
        alt.Chart(frame).mark_text(dy=-6, fontSize=CELL_FONT_SIZE).encode(x=x, y=y, text="label:N")
    )
    chart = alt.layer(bars, labels.transform_filter(alt.datum.probability >= 0.005))
    return chart.properties(height=PROBABILITY_HEIGHT, **_FILL)


def activation_strip(frame: pd.DataFrame) -> alt.Chart:
    """Each hidden layer as one strip of coloured cells, a cell per neuron, from
    network.activation_frame. Every strip spans the full width, whatever its layer's size.

    Colour = activation: white at 0 to red for the largest; negative values (tanh) are blue,
    on a scale symmetric around 0. Neurons keep their order, so a cell is the same neuron as
    the drawing changes.
    """
    if frame.empty:
        return message_chart("No hidden layers", height=STRIP_ROW_HEIGHT * 2)
    frame = frame.assign(
        start=(frame["unit"] - 1) / frame["units"], end=frame["unit"] / frame["units"]
    )
    largest = float(frame["activation"].abs().max()) or 1.0
    if float(frame["activation"].min()) < 0:
        scale = alt.Scale(scheme="redblue", reverse=True, domain=[-largest, largest], domainMid=0)
    else:
        scale = alt.Scale(scheme="reds", domain=[0, largest])
    tooltip = [
        alt.Tooltip("layer:N", title="Layer"),
        alt.Tooltip("unit:Q", title="Neuron"),
        alt.Tooltip("activation:Q", title="Activation", format=".3f"),
    ]
    layers = list(dict.fromkeys(frame["layer"]))
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("start:Q", title=None, axis=None, scale=alt.Scale(domain=[0, 1], nice=False)),
            x2="end:Q",
            y=alt.Y("layer:N", title=None, sort=layers),
            # Below the strips: beside a chart two strips high, the legend's ends ("0") were cut.
            color=alt.Color(
                "activation:Q",
                title="Activation",
                scale=scale,
                legend=alt.Legend(orient="bottom", direction="horizontal", gradientLength=200),
            ),
            tooltip=tooltip,
        )
    )
    return chart.properties(height=STRIP_ROW_HEIGHT * len(layers), **_FILL)
