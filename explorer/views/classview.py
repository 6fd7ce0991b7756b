"""The class in one picture: every run as a point, parallel coordinates, what mattered, the board.

    frame = runs_frame(records)                  # one row per complete run (no Streamlit)
    frame = frame[frame["data"] == "mnist"]      # never mix the sample and full MNIST
    pareto_mask(frame["accuracy"], frame["parameters"])    # runs no other run beats on both
    scatter_chart(frame, cost="parameters", colour="optimizer")   # Altair, with a brush
    parallel_frame(frame); parallel_chart(frame)                  # one axis per setting
    brushed_runs(frame, axes, {"axis_index": [0.5, 1.5], "position": [0.2, 0.8]})
    importance_chart(classroom.importance("mnist"))
    best_so_far_chart(classroom.best_so_far())

Each chart names its selections (SCATTER_BRUSH, SCATTER_CLICK, PARALLEL_BRUSH); the page reads
them back from Streamlit's selection event and filters the runs here, in plain pandas, so the
table under the charts and the tests agree on what a brush selects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import altair as alt
import numpy as np
import pandas as pd

from explorer.architecture import total_parameters
from explorer.config import ACTIVATIONS, FIELD_LABELS, OPTIMIZERS
from explorer.store.records import RunRecord

SCATTER_BRUSH = "scatter_brush"
SCATTER_CLICK = "scatter_click"
PARALLEL_BRUSH = "parallel_brush"
# The costs a run's accuracy is drawn against: column -> (axis title, log scale).
COSTS = {
    "parameters": ("Parameters (log scale)", True),
    "train_seconds": ("Training time (s)", False),
}
# The settings a viewer may colour the points by, and the axes of the parallel coordinates.
SETTINGS = (
    "hidden1",
    "hidden2",
    "batch_size",
    "epochs",
    "learning_rate",
    "optimizer",
    "activation",
    "train_fraction",
    "seed",
)
CATEGORIES = {"optimizer": OPTIMIZERS, "activation": ACTIVATIONS}
# Settings whose values span orders of magnitude: their parallel axis is logarithmic.
LOG_SETTINGS = ("learning_rate",)
SHORT_LABELS = {
    "hidden1": "Layer 1",
    "hidden2": "Layer 2",
    "batch_size": "Batch",
    "epochs": "Epochs",
    "learning_rate": "Learning rate",
    "optimizer": "Optimizer",
    "activation": "Activation",
    "train_fraction": "Data share",
    "seed": "Seed",
    "accuracy": "Accuracy",
}
# Colour-blind-safe schemes: Dark2 for categories (as the runs' colours), viridis for numbers.
CATEGORY_SCHEME = "dark2"
NUMBER_SCHEME = "viridis"
FRONT_COLOUR = "#1b1b1b"
HIGHLIGHT_COLOUR = "#d95f02"  # Dark2's orange: the brushed part of the parallel coordinates
LINE_COLOUR = "#7570b3"
CHART_HEIGHT = 320
NOISE_LABEL = "no more than noise"
# Fill the column's width, keep the height asked for (as explorer.views.charts.FILL_X).
FIT_WIDTH = {"autosize": alt.AutoSizeParams(type="fit-x", contains="padding"), "width": "container"}
TABLE_COLUMNS = ("label", "accuracy", "parameters", "train_seconds", "data", "run_id")


def runs_frame(records: Iterable[RunRecord]) -> pd.DataFrame:
    """One row per complete run with a test accuracy: its settings, accuracy and costs.

    Columns: run_id, label, data ("mnist" or "sample"), created_at, accuracy, parameters,
    train_seconds, every setting of SETTINGS, and pareto_parameters / pareto_train_seconds
    (whether the run is on the front for that cost, within its data set).
    """
    rows = []
    for record in records:
        config = record.config
        accuracy = record.summary.get("test_accuracy")
        if config is None or not record.is_complete or not _finite(accuracy):
            continue
        seconds = record.summary.get("train_seconds")
        rows.append(
            {
                "run_id": record.run_id,
                "label": config.label(),
                "data": "sample" if record.data_source == "sample" else "mnist",
                "created_at": record.created_at,
                "accuracy": float(accuracy),
                "parameters": total_parameters(config),
                "train_seconds": float(seconds) if _finite(seconds) else np.nan,
                **{name: getattr(config, name) for name in SETTINGS},
            }
        )
    columns = [*TABLE_COLUMNS, "created_at", *SETTINGS]
    frame = pd.DataFrame(rows, columns=columns)
    for cost in COSTS:
        frame[f"pareto_{cost}"] = False
    for _, group in frame.groupby("data"):
        for cost in COSTS:
            frame.loc[group.index, f"pareto_{cost}"] = pareto_mask(group["accuracy"], group[cost])
    return frame


def pareto_mask(accuracy: Sequence[float], cost: Sequence[float]) -> np.ndarray:
    """Whether each run is on the Pareto front: no other run has at least its accuracy at no
    more cost, and is strictly better on one of the two. A run with an unknown cost is not."""
    accuracy = np.asarray(accuracy, dtype=float)
    cost = np.asarray(cost, dtype=float)
    on_front = np.zeros(len(accuracy), dtype=bool)
    best = -math.inf
    # Cheapest first (the more accurate first among equal costs): a run is on the front when it
    # beats every cheaper run's accuracy.
    for index in np.lexsort((-accuracy, cost)):
        if math.isnan(cost[index]):
            continue
        if accuracy[index] > best:
            on_front[index] = True
            best = accuracy[index]
    return on_front


def scatter_chart(frame: pd.DataFrame, cost: str = "parameters", colour: str = "optimizer"):
    """Accuracy against `cost`, coloured by the setting `colour`, with the Pareto front drawn.

    A drag draws SCATTER_BRUSH (the runs inside it), a click picks one run (SCATTER_CLICK, by
    run_id). Every point's tooltip names its settings, so no colour has to be told apart.
    """
    title, log = COSTS[cost]
    # Only the columns the chart reads: the spec goes to every session's browser.
    columns = dict.fromkeys(["run_id", "label", "accuracy", cost, colour, "optimizer"])
    columns.update(dict.fromkeys(["parameters", "train_seconds"]))
    data = frame[[*columns, f"pareto_{cost}"]].rename(columns={f"pareto_{cost}": "front"})
    data = data[data[cost].notna() & (data[cost] > 0)]
    data = data.assign(accuracy_percent=data["accuracy"] * 100)
    x = alt.X(
        f"{cost}:Q",
        title=title,
        scale=alt.Scale(type="log") if log else alt.Scale(zero=False),
        axis=alt.Axis(format="~s" if log else "~g", tickCount=6),
    )
    y = alt.Y("accuracy_percent:Q", title="Test accuracy (%)", scale=alt.Scale(zero=False))
    brush = alt.selection_interval(name=SCATTER_BRUSH, encodings=["x", "y"])
    click = alt.selection_point(name=SCATTER_CLICK, fields=["run_id"], on="click", clear=False)
    categorical = colour in CATEGORIES or data[colour].nunique() <= 8
    colour_encoding = alt.Color(
        f"{colour}:{'N' if categorical else 'Q'}",
        title=SHORT_LABELS[colour],
        scale=alt.Scale(scheme=CATEGORY_SCHEME if categorical else NUMBER_SCHEME),
        legend=alt.Legend(orient="bottom", direction="horizontal"),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Run"),
        alt.Tooltip("accuracy_percent:Q", title="Test accuracy (%)", format=".2f"),
        alt.Tooltip("parameters:Q", title="Parameters", format=","),
        alt.Tooltip("train_seconds:Q", title="Training time (s)", format=".1f"),
        alt.Tooltip(f"{colour}:N", title=FIELD_LABELS[colour]),
        alt.Tooltip("front:N", title="On the front"),
        alt.Tooltip("run_id:N", title="Run id"),
    ]
    points = (
        alt.Chart(data)
        .mark_point(filled=True, size=60, description=alt.expr(POINT_DESCRIPTION))
        .encode(
            x=x,
            y=y,
            color=colour_encoding,
            shape=alt.Shape(
                "optimizer:N",
                title="Optimizer",
                legend=alt.Legend(orient="bottom", direction="horizontal"),
            ),
            opacity=alt.condition(brush, alt.value(0.85), alt.value(0.25)),
            tooltip=tooltip,
        )
        .add_params(brush, click)
    )
    front = (
        alt.Chart(data[data["front"]])
        .mark_line(
            color=FRONT_COLOUR,
            strokeDash=[4, 3],
            point=False,
            interpolate="step-after",
            aria=False,  # the front's runs are points of their own, each described
        )
        .encode(x=x, y=y, order=alt.Order(f"{cost}:Q"))
    )
    # The description names the chart for a screen reader; the table lists the runs.
    return (
        alt.layer(front, points)
        .properties(
            height=CHART_HEIGHT,
            **FIT_WIDTH,
            description=f"Test accuracy of {len(data)} runs against {title.lower()}",
        )
        .configure_legend(labelLimit=120)
        .configure_mark(description=BRUSH_DESCRIPTION)
    )


# An interval selection's two brush rectangles are marks that Vega-Lite adds without a
# description, and the selection's `mark` takes no ARIA property: a screen reader would meet
# two unnamed images (axe's svg-img-alt). The config's mark description reaches them, but
# Vega-Lite also gives it to each of its own marks that has no description or `aria=False`,
# so each mark of the two charts sets one of these itself.
BRUSH_DESCRIPTION = "Selection rectangle: drag over the chart to select runs"
# A Vega expression over the scatter's row: what a screen reader says for one point.
POINT_DESCRIPTION = (
    "'Run ' + datum.label + ': test accuracy ' + format(datum.accuracy_percent, '.2f') + ' %'"
)


def parallel_axes(frame: pd.DataFrame) -> list[str]:
    """The parallel coordinates' axes: each setting that varies among the runs, then accuracy
    (a setting every run shares would be a flat line that tells nothing)."""
    varying = [name for name in SETTINGS if frame[name].nunique() > 1]
    return [*varying, "accuracy"]


def parallel_frame(frame: pd.DataFrame, axes: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs, ticks): each run's value on each axis scaled to [0, 1] (columns `p_<axis>`), and
    the tick labels of each axis (axis_index, position, text).

    Numbers are scaled linearly between the runs' smallest and largest value (the learning rate
    on a log scale); categories sit evenly spaced, in the order the page offers them.
    """
    runs = frame[["run_id", "label", "accuracy", *SETTINGS]].copy()
    ticks = []
    for index, axis in enumerate(axes):
        values = runs[axis]
        if axis in CATEGORIES:
            present = [value for value in CATEGORIES[axis] if value in set(values)]
            spots = {value: _spread(rank, len(present)) for rank, value in enumerate(present)}
            runs[f"p_{axis}"] = values.map(spots).astype(float)
            ticks += [(index, spot, value) for value, spot in spots.items()]
            continue
        numbers = values.astype(float)
        scaled = np.log10(numbers) if axis in LOG_SETTINGS else numbers
        low, high = float(scaled.min()), float(scaled.max())
        span = high - low
        runs[f"p_{axis}"] = 0.5 if span == 0 else (scaled - low) / span
        for position in (0.0, 0.5, 1.0) if span else (0.5,):
            raw = low + position * span
            raw = 10**raw if axis in LOG_SETTINGS else raw
            ticks.append((index, position, _tick_text(axis, raw)))
    return runs, pd.DataFrame(ticks, columns=["axis_index", "position", "text"])


def parallel_chart(frame: pd.DataFrame, axes: Sequence[str]):
    """Parallel coordinates of every run: one vertical axis per entry of `axes`.

    Lines are faint (a thousand runs stay legible); a drag over one or more axes draws
    PARALLEL_BRUSH, whose points light up, and `brushed_runs` says which runs it keeps.
    """
    runs, ticks = parallel_frame(frame, axes)
    names = [f"p_{axis}" for axis in axes]
    # Only what the chart reads, rounded: the spec of 1,000 runs goes to every session.
    runs = runs[["run_id", "label"]].assign(
        accuracy_percent=(runs["accuracy"] * 100).round(2), **runs[names].round(4)
    )
    labels = "[" + ", ".join(f"'{SHORT_LABELS[axis]}'" for axis in axes) + "]"
    x = alt.X(
        "axis_index:Q",
        title=None,
        scale=alt.Scale(domain=[-0.3, len(axes) - 0.7], nice=False, zero=False),
        axis=alt.Axis(
            values=list(range(len(axes))),
            labelExpr=f"{labels}[datum.value]",
            orient="top",
            grid=True,
            gridColor="#888",
            labelAngle=0,
            labelLimit=90,
            domain=False,
            ticks=False,
        ),
    )
    y = alt.Y("position:Q", title=None, axis=None, scale=alt.Scale(domain=[-0.05, 1.05]))
    brush = alt.selection_interval(name=PARALLEL_BRUSH, encodings=["x", "y"])
    folded = (
        alt.Chart(runs)
        .transform_fold(names, as_=["axis", "position"])
        .transform_calculate(axis_index=f"indexof({names}, datum.axis)")
    )
    # A screen reader hears the chart's description; the table under it lists the runs.
    lines = folded.mark_line(strokeWidth=1, opacity=0.12, color=LINE_COLOUR, aria=False).encode(
        x=x, y=y, detail="run_id:N"
    )
    points = (
        folded.mark_circle(size=14, aria=False)
        .encode(
            x=x,
            y=y,
            color=alt.condition(
                brush, alt.value(HIGHLIGHT_COLOUR), alt.value("#9e9e9e"), empty=False
            ),
            opacity=alt.condition(brush, alt.value(0.9), alt.value(0.1), empty=False),
            tooltip=[
                alt.Tooltip("label:N", title="Run"),
                alt.Tooltip("accuracy_percent:Q", title="Test accuracy (%)", format=".2f"),
            ],
        )
        .add_params(brush)
    )
    text = (
        alt.Chart(ticks)
        .mark_text(align="left", dx=4, fontSize=10, color="#333", aria=False)
        .encode(x=alt.X("axis_index:Q"), y=alt.Y("position:Q"), text="text:N")
    )
    return (
        alt.layer(lines, points, text)
        .properties(
            height=CHART_HEIGHT,
            **FIT_WIDTH,
            description=f"Parallel coordinates of {len(runs)} runs over {len(axes)} axes",
        )
        .configure_mark(description=BRUSH_DESCRIPTION)
    )


def brushed_runs(frame: pd.DataFrame, axes: Sequence[str], brush: dict | None) -> pd.DataFrame:
    """The runs a PARALLEL_BRUSH keeps: on every axis the brush spans, the run's scaled value is
    within the brush's height. A brush that spans no axis (or none) keeps every run."""
    if not brush or "axis_index" not in brush or "position" not in brush:
        return frame
    low_axis, high_axis = sorted(brush["axis_index"])
    low, high = sorted(brush["position"])
    spanned = [axis for index, axis in enumerate(axes) if low_axis <= index <= high_axis]
    if not spanned:
        return frame
    runs, _ = parallel_frame(frame, axes)
    keep = np.ones(len(runs), dtype=bool)
    for axis in spanned:
        keep &= runs[f"p_{axis}"].between(low, high).to_numpy()
    return frame[keep]


def scatter_brushed(frame: pd.DataFrame, cost: str, brush: dict | None) -> pd.DataFrame:
    """The runs inside a SCATTER_BRUSH drawn on `scatter_chart(frame, cost)`; every run if
    there is no brush."""
    if not brush or cost not in brush or "accuracy_percent" not in brush:
        return frame
    low_cost, high_cost = sorted(brush[cost])
    low, high = sorted(brush["accuracy_percent"])
    percent = frame["accuracy"] * 100
    return frame[frame[cost].between(low_cost, high_cost) & percent.between(low, high)]


def importance_chart(result):
    """Bars of each setting's share, the seed's share as a dashed rule: the noise level.

    `result` is an ImportanceResult that can tell (`result.can_tell`).
    """
    data = pd.DataFrame(
        [
            {
                "setting": item.label,
                "share": item.share,
                "verdict": "above noise" if item.above_noise else NOISE_LABEL,
            }
            for item in result.importances
        ]
    )
    order = list(data["setting"])
    y = alt.Y("setting:N", title=None, sort=order, axis=alt.Axis(labelLimit=200))
    # Room on the right of the longest bar for its label.
    widest = max([*data["share"], result.seed_share or 0.0, 0.01]) * 1.45
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "share:Q",
                title="Share of the accuracy's variation",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, min(1.0, widest)]),
            ),
            y=y,
            color=alt.Color(
                "verdict:N",
                title=None,
                scale=alt.Scale(domain=["above noise", NOISE_LABEL], range=["#1b9e77", "#bdbdbd"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("setting:N", title="Setting"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("verdict:N", title="Verdict"),
            ],
        )
    )
    labels = bars.mark_text(align="left", dx=4, fontSize=11, color="#333").encode(
        text=alt.Text("verdict:N"), color=alt.value("#333")
    )
    noise = (
        alt.Chart(pd.DataFrame({"share": [result.seed_share]}))
        .mark_rule(strokeDash=[5, 3], color="#7570b3", strokeWidth=2)
        .encode(x="share:Q", tooltip=[alt.Tooltip("share:Q", title="Seed (noise)", format=".1%")])
    )
    height = max(120, 34 * len(data))
    return alt.layer(bars, labels, noise).properties(height=height, **FIT_WIDTH)


def best_so_far_chart(frame: pd.DataFrame):
    """The best public-half accuracy after each run used: a line for the class, one for the
    machine (told apart by dash and label, not by colour alone)."""
    data = frame.assign(percent=frame["best_public_accuracy"] * 100)
    most = max(5, int(data["runs"].max()) if len(data) else 5)
    encoding = {
        "x": alt.X(
            "runs:Q",
            title="Runs used",
            scale=alt.Scale(domain=[1, most], nice=False),
            axis=alt.Axis(tickMinStep=1, format="d"),
        ),
        "y": alt.Y(
            "percent:Q",
            title="Best public half (%)",
            scale=alt.Scale(zero=False, padding=12),
            axis=alt.Axis(format=".1f", tickCount=5),
        ),
    }
    lines = (
        alt.Chart(data)
        .mark_line(interpolate="step-after", strokeWidth=2, point=True)
        .encode(
            **encoding,
            color=alt.Color(
                "series:N",
                title=None,
                scale=alt.Scale(domain=["class", "machine"], range=["#1b9e77", "#d95f02"]),
                legend=alt.Legend(orient="bottom"),
            ),
            strokeDash=alt.StrokeDash(
                "series:N",
                scale=alt.Scale(domain=["class", "machine"], range=[[1, 0], [6, 3]]),
                legend=None,
            ),
            tooltip=[
                alt.Tooltip("series:N", title="Who"),
                alt.Tooltip("runs:Q", title="Runs used"),
                alt.Tooltip("percent:Q", title="Best (%)", format=".2f"),
            ],
        )
    )
    ends = data.sort_values("runs").groupby("series").tail(1)
    names = (
        alt.Chart(ends)
        .mark_text(align="left", dx=5, fontSize=12)
        .encode(**encoding, text="series:N")
    )
    return alt.layer(lines, names).properties(height=220, **FIT_WIDTH)


def table_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The runs as the table under the charts shows them: best first."""
    table = frame[list(TABLE_COLUMNS)].assign(accuracy=frame["accuracy"] * 100)
    return table.sort_values(["accuracy", "parameters"], ascending=[False, True]).reset_index(
        drop=True
    )


def _spread(rank: int, count: int) -> float:
    return 0.5 if count <= 1 else rank / (count - 1)


def _tick_text(axis: str, value: float) -> str:
    if axis == "accuracy":
        return f"{value:.1%}"
    if axis in LOG_SETTINGS:
        return f"{value:.2g}"
    if axis == "train_fraction":
        return f"{value:.0%}"
    return f"{value:,.0f}"


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
