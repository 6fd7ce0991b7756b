"""The pictures of a repeat over seeds: every seed as a dot, learning curves as bands, and the
best epoch against the last.

    frame = repeats.seeds_frame(records_by_config)         # one row per seed, pending too
    seed_points_chart(frame)                               # every seed a dot, the mean, ± SD
    learning_band_panels(repeats.band_frame(records_by_config))   # curves: mean ± SD per epoch
    best_last_chart(frame)                                 # best epoch against the last one

Groups of seeds (concatenated seeds_frames with a "group" column) get one row of dots each, and
one colour each in the bands.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from explorer.views import repeats
from explorer.views.charts import (
    FILL,
    SPLIT_COLOURS,
    curves_height,
    message_chart,
    run_colour_scale,
    split_dashes,
)

BEST_LAST_EXPLANATION = (
    "Each line joins a run's best epoch (hollow) to its last one (filled), by test accuracy. "
    "A last epoch below the best means training went on past its best point: overfitting, or "
    "a learning rate too large to settle."
)


def seed_points_chart(frame: pd.DataFrame, metric: str = "test_accuracy") -> alt.LayerChart:
    """Every complete seed as a dot, the mean as a tick and mean ± SD as a bar, one row per group.

    One group: its headline is the subtitle. Several: the groups are the rows, in frame order.
    A click on a dot selects its run (parameter "run", field "run_id").
    """
    chosen = repeats.RUN_METRICS[metric]
    summaries = repeats.summary_frame(frame, metric)
    done = frame[frame[metric].notna()]
    if done.empty:
        progress = repeats.progress_text(frame)
        return message_chart(f"No finished run yet · {progress}" if progress else "No runs", 80)
    groups = summaries["group"].tolist()
    several = len(groups) > 1
    # Seeds differ by tenths of a point: two decimals, few ticks, so no two labels read alike.
    axis = alt.Axis(format=".2%" if chosen.kind == "percent" else "~g", tickCount=6)
    # Every layer gets the same scale: zoomed in (no zero), as the seeds differ by tenths. Its
    # domain is set here, a tenth of the span beyond every dot and bar: left to Vega, a dot at
    # the edge was drawn half outside its axis.
    values = pd.concat([done[metric], summaries["low"], summaries["high"]]).dropna()
    low, high = float(values.min()), float(values.max())
    margin = (high - low) / 10 or max(abs(high) / 1000, 1e-4)
    scale = alt.Scale(domain=[low - margin, high + margin], nice=False, zero=False)
    x_of = {
        field: alt.X(f"{field}:Q", title=chosen.label, scale=scale, axis=axis)
        for field in (metric, "low", "mean")
    }
    y = {"y": alt.Y("group:N", title=None, sort=groups)} if several else {}
    number = _number_format(chosen.kind)
    selection = alt.selection_point(name="run", fields=["run_id"], on="click")
    dots = alt.Chart(done).mark_circle(size=90, opacity=0.8)
    dots = dots.encode(
        x_of[metric],
        **y,
        color=alt.Color("group:N", scale=run_colour_scale(groups), legend=None),
        tooltip=[
            alt.Tooltip("group:N", title="Group"),
            alt.Tooltip("seed:Q", title="Seed"),
            alt.Tooltip(f"{metric}:Q", title=chosen.label, format=number),
        ],
    ).add_params(selection)
    spread = alt.Chart(summaries).mark_rule(strokeWidth=3, color="gray")
    spread = spread.encode(x=x_of["low"], x2="high:Q", **y)
    tip = [
        alt.Tooltip("group:N", title="Group"),
        alt.Tooltip("text:N", title="Mean ± spread (standard deviation)"),
    ]
    mean = alt.Chart(summaries).mark_tick(thickness=3, size=28, color="black")
    mean = mean.encode(x=x_of["mean"], **y, tooltip=tip)
    title = alt.TitleParams(
        f"{chosen.label} of every seed",
        subtitle=["Dots: seeds. Black tick: mean. Grey bar: mean ± spread."]
        + ([] if several else [repeats.headline(frame, metric)]),
    )
    chart = alt.layer(spread, mean, dots, title=title)
    # Heights include the title, its lines and the axis (the chart fits its container).
    return chart.properties(height=130 + 40 * len(groups), **FILL)


def learning_band_panels(band: pd.DataFrame) -> list[alt.TopLevelMixin]:
    """Loss and accuracy per epoch as a line (mean over seeds) in a band (mean ± SD), one chart
    per panel, as charts.learning_curve_panels draws single runs.

    One group: colour = split (train blue, test orange). Several groups (concatenated
    band_frames): colour = group, dash = split.
    """
    if band.empty or not band["n"].any():
        return [message_chart("No epochs yet")]
    groups = list(dict.fromkeys(band["group"]))
    several = len(groups) > 1
    last_epoch = int(band["epoch"].max())
    scale = alt.Scale(domain=[1, max(last_epoch, 2)], nice=False, padding=8)
    x = alt.X("epoch:Q", title="Epoch", scale=scale, axis=alt.Axis(format="d", tickMinStep=1))
    # Band and line share one colour and one legend (its symbols opaque: the band's opacity
    # would fade them); a dash pattern needs a longer symbol than the default to show.
    if several:
        field, title, scale = "group:N", "Group", run_colour_scale(groups)
        legend = alt.Legend(orient="bottom", direction="vertical", labelLimit=400)
        split = split_dashes()
        line_encoding, band_encoding = {"strokeDash": split}, {"detail": "split:N"}
    else:
        field, title = "split:N", "Split"
        scale = alt.Scale(domain=list(SPLIT_COLOURS), range=list(SPLIT_COLOURS.values()))
        legend = alt.Legend(orient="top")
        line_encoding, band_encoding = {}, {}
    legend = legend.copy()
    legend.symbolType, legend.symbolOpacity = "stroke", 1
    colour = alt.Color(field, title=title, scale=scale, legend=legend)
    line_encoding["color"] = band_encoding["color"] = colour
    panels = []
    for metric, number in (("Loss", ".4f"), ("Accuracy", ".2%")):
        is_accuracy = metric == "Accuracy"
        title = alt.TitleParams(
            f"{metric} ({'higher' if is_accuracy else 'lower'} is better)",
            subtitle="Line: mean over the seeds. Band: mean ± spread (standard deviation).",
        )
        y_axis = alt.Axis(format=".0%") if is_accuracy else alt.Axis()
        y_scale = alt.Scale(zero=False)
        y = alt.Y("mean:Q", title=metric, scale=y_scale, axis=y_axis)
        tooltip = [alt.Tooltip("group:N", title="Group")] if several else []
        tooltip += [
            alt.Tooltip("split:N", title="Split"),
            alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip("mean:Q", title="Mean", format=number),
            alt.Tooltip("std:Q", title="Spread (standard deviation)", format=number),
            alt.Tooltip("n:Q", title="Seeds"),
        ]
        base = alt.Chart(band).transform_filter(alt.datum.metric == metric)
        area = base.mark_area(opacity=0.2).encode(
            x,
            alt.Y("low:Q", title=metric, scale=y_scale, axis=y_axis),
            y2="high:Q",
            **band_encoding,
        )
        line = base.mark_line(point=alt.OverlayMarkDef(size=40, filled=True))
        line = line.encode(x, y, tooltip=tooltip, **line_encoding)
        height = curves_height(len(groups)) + 30  # the subtitle's line
        panels.append(alt.layer(area, line, title=title).properties(height=height, **FILL))
    return panels


def best_last_chart(frame: pd.DataFrame) -> alt.LayerChart:
    """Per complete run, its best and its last epoch's test accuracy joined by a line: the longer
    the line, the more the run lost by training on. One row per seed (and group)."""
    done = frame[frame["best_minus_last"].notna()].copy()
    if done.empty:
        return message_chart("No finished run yet", height=80)
    several = done["group"].nunique() > 1
    done["run"] = [
        f"{group} · seed {seed}" if several else f"seed {seed}"
        for group, seed in zip(done["group"], done["seed"], strict=True)
    ]
    ends = [
        done.assign(epoch_kind=kind, accuracy=done[accuracy], epoch=done[epoch])
        for kind, accuracy, epoch in (
            ("Best epoch", "best_test_accuracy", "best_epoch"),
            ("Last epoch", "last_test_accuracy", "epochs"),
        )
    ]
    long = pd.concat(ends, ignore_index=True)[["run", "epoch_kind", "accuracy", "epoch"]]
    order = done["run"].tolist()
    y = alt.Y("run:N", title=None, sort=order, axis=alt.Axis(labelLimit=300, labelOverlap=False))
    axis, scale = alt.Axis(format=".1%"), alt.Scale(zero=False, padding=12)
    x = alt.X("last_test_accuracy:Q", title="Test accuracy", scale=scale, axis=axis)
    joins = alt.Chart(done).mark_rule(color="gray", strokeWidth=2)
    joins = joins.encode(x=x, x2="best_test_accuracy:Q", y=y)
    kinds = alt.Scale(domain=["Best epoch", "Last epoch"], range=["#54a24b", "#4c78a8"])
    points = alt.Chart(long).mark_point(size=90, strokeWidth=2)
    points = points.encode(
        x=alt.X("accuracy:Q", title="Test accuracy", scale=scale, axis=axis),
        y=y,
        color=alt.Color("epoch_kind:N", title=None, scale=kinds, legend=alt.Legend(orient="top")),
        fill=alt.when(alt.datum.epoch_kind == "Last epoch")
        .then(alt.value("#4c78a8"))
        .otherwise(alt.value("white")),
        tooltip=[
            alt.Tooltip("run:N", title="Run"),
            alt.Tooltip("epoch_kind:N", title="Which"),
            alt.Tooltip("epoch:Q", title="Epoch"),
            alt.Tooltip("accuracy:Q", title="Test accuracy", format=".2%"),
        ],
    )
    subtitle = [f"{sentence}." for sentence in BEST_LAST_EXPLANATION.rstrip(".").split(". ")]
    title = alt.TitleParams("Best epoch against last epoch", subtitle=subtitle)
    chart = alt.layer(joins, points, title=title)
    # Room for the title, its lines, the legend and the axis, then 30 pixels a run.
    return chart.properties(height=170 + 30 * len(order), **FILL)


def _number_format(kind: str) -> str:
    return {"percent": ".2%", "decimal": ".4f", "seconds": ".1f", "integer": ",.0f"}[kind]
