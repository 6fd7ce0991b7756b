"""The pictures of a sweep: its cells as a line or a heatmap, and what accuracy costs.

    frame = sweeps.sweep_frame(spec, records_by_config, "test_accuracy")   # ONE ROW PER CELL
    sweep_chart(spec, frame)   # one knob: line with error bars; two knobs: heatmap
    cost_chart(spec, sweeps.sweep_frame(spec, records_by_config))   # parameters against accuracy

A click on a cell selects it (parameter "cell"); explorer.views.sweeps.cell_configs gives its runs.
The colour scale of every metric has a fixed domain (COLOUR_SCALES): a cell that finishes never
recolours the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import altair as alt
import pandas as pd

from explorer.architecture import total_parameters
from explorer.config import BOUNDS, CHOICE_FIELDS, FIELD_LABELS, TrainingConfig
from explorer.views import stats
from explorer.views.charts import FILL, HEATMAP_HEIGHT, message_chart
from explorer.views.repeats import RUN_METRICS, format_metric
from explorer.views.sweeps import SweepSpec, progress_text, value_text
from explorer.views.text import duration

# Knobs whose values span orders of magnitude: drawn on a logarithmic axis.
LOG_KNOBS = ("learning_rate", "train_fraction", "batch_size")
PENDING_FILL, PENDING_INK = "#eeeeee", "#666666"
# Heights include the titles and legends (the charts fit their container).
LINE_HEIGHT, COST_HEIGHT = 320, 380


class ColourScale(NamedTuple):
    """A metric's fixed colour scale on the heatmap; `dark` (low, high): the shares of the domain
    below/above which the scheme is dark enough for white text (None: never)."""

    domain: tuple[float, float]
    scheme: str
    reverse: bool = False
    log: bool = False
    mid: float | None = None
    dark: tuple[float | None, float | None] = (None, 0.6)


_SMALLEST = TrainingConfig(hidden1=int(BOUNDS["hidden1"][0]), hidden2=0)
_LARGEST = TrainingConfig(hidden1=int(BOUNDS["hidden1"][1]), hidden2=int(BOUNDS["hidden2"][1]))
# Fixed per metric, whatever the cells hold: viridis is bright where a result is good.
COLOUR_SCALES = {
    "test_accuracy": ColourScale((0.8, 1.0), "viridis", dark=(0.45, None)),
    "test_loss": ColourScale((0.0, 0.6), "viridis", reverse=True, dark=(None, 0.55)),
    "gap": ColourScale((-0.05, 0.05), "blueorange", mid=0.0, dark=(0.15, 0.85)),
    "parameters": ColourScale(
        (total_parameters(_SMALLEST), total_parameters(_LARGEST)), "purples", log=True
    ),
    "train_seconds": ColourScale((1.0, 1000.0), "oranges", log=True),
}


def sweep_chart(spec: SweepSpec, frame: pd.DataFrame) -> alt.TopLevelMixin:
    """The sweep's picture: `sweep_line_chart` for one knob, `sweep_heatmap` for two."""
    return sweep_line_chart(spec, frame) if len(spec.knobs) == 1 else sweep_heatmap(spec, frame)


def sweep_heatmap(spec: SweepSpec, frame: pd.DataFrame) -> alt.LayerChart:
    """Two knobs: a grid of cells coloured by the metric's mean, the number written in.

    x = first knob, y = second (largest at the top). The colour scale's domain is fixed per
    metric (COLOUR_SCALES, values beyond it get the end colour), so a finishing cell never
    recolours the others. A cell without a figure yet is grey, with "…" while it waits or trains
    and "failed"/"stopped" after. A click selects a cell: parameter "cell", fields = the knobs,
    e.g. event.selection["cell"] == [{"hidden1": 32, "epochs": 3}].
    """
    metric = _metric_of(frame)
    chosen, colours = RUN_METRICS[metric], COLOUR_SCALES[metric]
    first, second = spec.knobs
    shown = frame.drop(columns=["run_ids"]).assign(
        label=[_cell_label(metric, row.mean, row.status) for row in frame.itertuples()],
        dark=[_is_dark(colours, value) for value in frame["mean"]],
        waiting=frame["mean"].isna(),
        # The colour's field is never null: Vega-Lite would drop the cell instead of greying it.
        shade=frame["mean"].fillna(colours.domain[0]),
        spread=[_spread_text(metric, row.n, row.mean, row.std) for row in frame.itertuples()],
    )
    x = alt.X(f"{first.name}:O", title=FIELD_LABELS[first.name], sort=list(first.values))
    y = alt.Y(f"{second.name}:O", title=FIELD_LABELS[second.name])
    axes = {"x": x.axis(labelAngle=0, orient="top"), "y": y.sort(list(reversed(second.values)))}
    scale = alt.Scale(
        domain=list(colours.domain),
        scheme=colours.scheme,
        reverse=colours.reverse,
        clamp=True,
        type="log" if colours.log else "linear",
        **({} if colours.mid is None else {"domainMid": colours.mid}),
    )
    legend = alt.Legend(
        title=chosen.label,
        format=_legend_format(metric),
        orient="right",
        gradientLength=max(60, 44 * len(second.values) - 30),  # as tall as the grid
    )
    colour = alt.Color("shade:Q", scale=scale, legend=legend)
    fill = alt.when(alt.datum.waiting).then(alt.value(PENDING_FILL)).otherwise(colour)
    selection = alt.selection_point(name="cell", fields=list(spec.names), on="click")
    chosen_cell = alt.when(selection, empty=False)
    tooltip = [
        alt.Tooltip(f"{first.name}:O", title=FIELD_LABELS[first.name]),
        alt.Tooltip(f"{second.name}:O", title=FIELD_LABELS[second.name]),
        alt.Tooltip("spread:N", title=chosen.label),
        alt.Tooltip("status:N", title="Status"),
        alt.Tooltip("complete:Q", title="Runs finished"),
        alt.Tooltip("runs:Q", title="Runs"),
    ]
    cells = alt.Chart(shown).mark_rect().encode(**axes, color=fill, tooltip=tooltip)
    cells = cells.encode(
        stroke=chosen_cell.then(alt.value("black")).otherwise(alt.value("white")),
        strokeWidth=chosen_cell.then(alt.value(2.5)).otherwise(alt.value(1)),
    ).add_params(selection)
    # No tooltip on the text, so a click on a number reaches the cell underneath.
    numbers = alt.Chart(shown).mark_text(fontSize=12)
    # Text colours as values, not a second colour scale (a layer shares one, and it is the fill's).
    ink = alt.when(alt.datum.waiting).then(alt.value(PENDING_INK))
    ink = ink.when(alt.datum.dark).then(alt.value("white")).otherwise(alt.value("black"))
    numbers = numbers.encode(**axes, text="label:N", color=ink)
    title = alt.TitleParams(
        f"{chosen.label} by {FIELD_LABELS[first.name].lower()} and "
        f"{FIELD_LABELS[second.name].lower()}",
        subtitle=_subtitle(spec, frame),
    )
    # Room for the title, its two lines and the axis on top, then about 44 pixels a row.
    height = max(HEATMAP_HEIGHT, min(560, 130 + 44 * len(second.values)))
    return alt.layer(cells, numbers, title=title).properties(height=height, **FILL)


def sweep_line_chart(spec: SweepSpec, frame: pd.DataFrame) -> alt.LayerChart:
    """One knob: the metric's mean over the knob's values as a line, mean ± SD as error bars.

    A logarithmic x axis for LOG_KNOBS (learning rate, share of the training set, batch size);
    ticks at the swept values. Cells without a figure yet are marked along the bottom ("…"
    waiting or training, "failed", "stopped"). A click on a point selects its cell: parameter
    "cell", field = the knob.
    """
    metric = _metric_of(frame)
    chosen = RUN_METRICS[metric]
    (knob,) = spec.knobs
    numeric = knob.name not in CHOICE_FIELDS
    if numeric:
        # The whole sweep's range, so a finishing cell never moves the others.
        scale = alt.Scale(
            type="log" if knob.name in LOG_KNOBS else "linear",
            domain=[min(knob.values), max(knob.values)],
            nice=False,
            padding=12,
        )
        # The values as they were set (16, 32, 64): a format would go through the scale's
        # tick format, which rounds to the ticks' step ("2e+1, 3e+1, 6e+1").
        axis = alt.Axis(
            values=list(knob.values), labelExpr=tick_labels(knob.values), labelOverlap=True
        )
        x = alt.X(f"{knob.name}:Q", title=FIELD_LABELS[knob.name], scale=scale, axis=axis)
    else:
        x = alt.X(f"{knob.name}:N", title=FIELD_LABELS[knob.name], sort=list(knob.values))
        x = x.axis(labelAngle=0)
    shown = frame.drop(columns=["run_ids"]).assign(
        label=[_cell_label(metric, row.mean, row.status) for row in frame.itertuples()],
        spread=[_spread_text(metric, row.n, row.mean, row.std) for row in frame.itertuples()],
    )
    done = shown[shown["mean"].notna()]
    # At the bottom edge of the plot ("height"), not at a pixel count: a mark beyond the plot
    # would make the fitted chart squash the plot to make room for it.
    waiting = alt.Chart(shown[shown["mean"].isna()])
    waiting = waiting.mark_text(fontSize=14, color=PENDING_INK, baseline="bottom", dy=-4)
    waiting = waiting.encode(x, y=alt.value("height"), text="label:N", tooltip=["status:N"])
    title = alt.TitleParams(
        f"{chosen.label} by {FIELD_LABELS[knob.name].lower()}", subtitle=_subtitle(spec, frame)
    )
    if done.empty:  # the axis and every cell as pending, before the first one finishes
        return alt.layer(waiting, title=title).properties(height=LINE_HEIGHT, **FILL)
    y_scale = alt.Scale(zero=False, type="log" if COLOUR_SCALES[metric].log else "linear")
    y_axis = alt.Axis(format=_axis_format(chosen.kind))
    y = {
        field: alt.Y(f"{field}:Q", title=chosen.label, scale=y_scale, axis=y_axis)
        for field in ("mean", "low")
    }
    tooltip = [
        alt.Tooltip(f"{knob.name}:{'Q' if numeric else 'N'}", title=FIELD_LABELS[knob.name]),
        alt.Tooltip("spread:N", title=chosen.label),
        alt.Tooltip("status:N", title="Status"),
    ]
    selection = alt.selection_point(name="cell", fields=[knob.name], on="click")
    bars = alt.Chart(done).mark_rule(strokeWidth=2, color="gray").encode(x, y["low"], y2="high:Q")
    line = alt.Chart(done).mark_line(color="#4c78a8").encode(x, y["mean"])
    points = alt.Chart(done).mark_circle(size=80, color="#4c78a8", opacity=1)
    points = points.encode(
        x,
        y["mean"],
        tooltip=tooltip,
        size=alt.when(selection, empty=False).then(alt.value(200)).otherwise(alt.value(80)),
    ).add_params(selection)
    chart = alt.layer(bars, line, points, waiting, title=title)
    return chart.properties(height=LINE_HEIGHT, **FILL)


def cost_chart(spec: SweepSpec, frame: pd.DataFrame) -> alt.LayerChart:
    """What accuracy costs: every finished cell at its parameter count (log x) and mean test
    accuracy (± SD), coloured by the first knob. Pass `sweep_frame(spec, records)` (test
    accuracy). Up and to the left is better. A click selects a cell (parameter "cell")."""
    done = frame[frame["mean"].notna()].drop(columns=["run_ids"])
    if _metric_of(frame) != "test_accuracy":
        raise ValueError("cost_chart draws the test accuracy: pass a test_accuracy sweep_frame.")
    if done.empty:
        return message_chart(f"No cell finished yet · {progress_text(frame)}")
    done = done.assign(
        spread=[_spread_text("test_accuracy", r.n, r.mean, r.std) for r in done.itertuples()]
    )
    x = alt.X("parameters:Q", title="Parameters (numbers the network learns)")
    x = x.scale(type="log", nice=False, padding=16).axis(format="~s")
    y_axis = alt.Axis(format=".1%")
    y = {
        field: alt.Y(f"{field}:Q", title="Test accuracy", scale=alt.Scale(zero=False), axis=y_axis)
        for field in ("mean", "low")
    }
    first = spec.knobs[0]
    colour = alt.Color(
        f"{first.name}:O",
        title=FIELD_LABELS[first.name],
        sort=list(first.values),
        scale=alt.Scale(scheme="viridis"),
        legend=alt.Legend(orient="bottom"),
    )
    tooltip = [alt.Tooltip(f"{k.name}:N", title=FIELD_LABELS[k.name]) for k in spec.knobs] + [
        alt.Tooltip("parameters:Q", title="Parameters", format=","),
        alt.Tooltip("spread:N", title="Test accuracy"),
    ]
    selection = alt.selection_point(name="cell", fields=list(spec.names), on="click")
    bars = alt.Chart(done).mark_rule(strokeWidth=2, opacity=0.6)
    bars = bars.encode(x, y["low"], y2="high:Q", color=colour)
    shape = {}
    if len(spec.knobs) == 2:
        second = spec.knobs[1].name
        legend = alt.Legend(orient="bottom")
        shape["shape"] = alt.Shape(f"{second}:N", title=FIELD_LABELS[second], legend=legend)
    points = alt.Chart(done).mark_point(size=90, filled=True, opacity=0.9)
    points = points.encode(x, y["mean"], color=colour, tooltip=tooltip, **shape)
    points = points.add_params(selection)
    title = alt.TitleParams(
        "What accuracy costs: parameters against test accuracy",
        subtitle="Up and to the left is better: more accuracy from fewer numbers to learn.",
    )
    return alt.layer(bars, points, title=title).properties(height=COST_HEIGHT, **FILL)


def tick_labels(values: Sequence[Any]) -> str:
    """A Vega expression that labels each swept value as a link writes it (16, 0.001, 1e-05)."""
    expression = "''"
    for value in reversed(values):
        expression = f"datum.value === {value_text(value)} ? '{value_text(value)}' : {expression}"
    return expression


def _subtitle(spec: SweepSpec, frame: pd.DataFrame) -> list[str]:
    seeds = (
        f"Each cell: mean of {spec.seeds} seeds (± spread in the tooltip)."
        if spec.seeds > 1
        else "Each cell: one run."
    )
    return [seeds, progress_text(frame)]


def _metric_of(frame: pd.DataFrame) -> str:
    return str(frame["metric"].iloc[0]) if len(frame) else "test_accuracy"


def _cell_label(metric: str, value: float, status: str) -> str:
    """The number written in a cell: "97.8" (accuracy in %), "+1.2" (gap in points), "0.081",
    "318k", "12 s"; "…" while its runs wait or train, "failed"/"stopped" without a figure."""
    if not math.isfinite(value):
        return "…" if status in ("pending", "running") else status
    kind = RUN_METRICS[metric].kind
    if metric == "gap":
        return f"{value * 100:+.1f}".replace("-", "−")
    if kind == "percent":
        return f"{value * 100:.1f}"
    if kind == "decimal":
        return f"{value:.3f}"
    if kind == "integer":
        return _compact(value)
    return duration(value)


def _spread_text(metric: str, n: int, mean: float, std: float) -> str:
    if not n:
        return "—"
    return format_metric(stats.Summary(int(n), float(mean), float(std)), metric)


def _compact(count: float) -> str:
    """318010 → "318k", 1333770 → "1.3M", 805 → "805"."""
    if count >= 1e6:
        return f"{count / 1e6:.1f}M"
    if count >= 1e4:
        return f"{count / 1e3:.0f}k"
    if count >= 1e3:
        return f"{count / 1e3:.1f}k"
    return f"{count:.0f}"


def _is_dark(colours: ColourScale, value: float) -> bool:
    """Whether a cell of this value is dark enough in the scheme for white text."""
    if not math.isfinite(value):
        return False
    low, high = colours.domain
    if colours.log:
        value, low, high = (math.log(max(v, 1e-300)) for v in (value, low, high))
    share = min(1.0, max(0.0, (value - low) / (high - low)))
    dark_below, dark_above = colours.dark
    dark = (dark_below is not None and share < dark_below) or (
        dark_above is not None and share > dark_above
    )
    return dark


def _legend_format(metric: str) -> str:
    if metric == "gap":
        return "+.0%"
    return (
        ".0%" if RUN_METRICS[metric].kind == "percent" else _axis_format(RUN_METRICS[metric].kind)
    )


def _axis_format(kind: str) -> str:
    return {"percent": ".1%", "decimal": ".2f", "seconds": ".2~s", "integer": ".2~s"}[kind]
