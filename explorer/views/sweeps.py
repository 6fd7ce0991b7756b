"""Sweeps: one or two settings ("knobs") varied over lists of values, drawn as pictures.

    spec = SweepSpec.parse("hidden1:16,32,64;epochs:1,3,10", base=config, seeds=3)
    spec = SweepSpec.from_query(st.query_params.to_dict())   # None if the link has no sweep
    spec.to_query()            # {"sweep": "hidden1:16,32,64;epochs:1,3,10", "seeds": "3", ...}
    sweep_configs(spec)        # the grid × the seeds: 3 × 3 cells × 3 seeds = 27 configs
    plan_runs(sweep_configs(spec), service.estimate, records_by_config, workers=2).text
    frame = sweep_frame(spec, records_by_config, "test_accuracy")   # ONE ROW PER CELL
    sweep_chart(spec, frame)   # one knob: line with error bars; two knobs: heatmap
    cost_chart(spec, sweep_frame(spec, records_by_config))   # parameters against accuracy
    cell_configs(spec, {"hidden1": 32, "epochs": 3})          # the runs behind a clicked cell

The sweep in a link (URL query parameters)::

    ?sweep=hidden1:16,32,64;epochs:1,3,10&seeds=3&hidden2=0&optimizer=adam

    sweep   one knob, or two separated by ";": a setting's name, ":", and at least two values
            separated by ","; any setting but the seed (numbers as in the page's links:
            learning_rate:0.001,0.01,0.1; optimizer:sgd,adam). A setting with one value
            (epochs:1) is not swept but set for every cell (`fixed_settings`).
    seeds   optional, 2 to 10: every cell is trained with seeds 0, 1, …; without it, once with
            the base config's seed
    others  the base config: the page's usual settings (hidden2=0, …); the knobs override theirs

A SweepSpec that exists is valid (like TrainingConfig): every value went through TrainingConfig's
validation, and a sweep trains at most MAX_SWEEP_RUNS runs. A bad sweep raises ValueError with a
sentence a student can act on. Values are kept sorted (numbers ascending, choices in the page's
order), so one sweep has one link.

A cell's figures appear only once none of its runs is waiting or training, so a cell is coloured
once, and the colour scale of every metric has a fixed domain: a cell that finishes never
recolours the others.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import altair as alt
import pandas as pd

from explorer.architecture import total_parameters
from explorer.config import (
    BOUNDS,
    CHOICE_FIELDS,
    FIELD_LABELS,
    TrainingConfig,
)
from explorer.store.records import ACTIVE_STATUSES, RunRecord
from explorer.views import stats
from explorer.views.charts import FILL, HEATMAP_HEIGHT, message_chart
from explorer.views.repeats import (
    MAX_REPEATS,
    RUN_METRICS,
    format_metric,
    repeat_configs,
    run_status,
    run_values,
)
from explorer.views.text import duration

MAX_SWEEP_RUNS = 60
MAX_SWEEP_TEXT = 200  # characters of the sweep= parameter
# Every setting but the seed, which `seeds` repeats instead.
KNOBS = tuple(f.name for f in dataclasses.fields(TrainingConfig) if f.name != "seed")
# Knobs whose values span orders of magnitude: drawn on a logarithmic axis.
LOG_KNOBS = ("learning_rate", "train_fraction", "batch_size")
CELL_STATUSES = ("pending", "running", "complete", "stopped", "failed")
EXAMPLE = "hidden1:16,32,64;epochs:1,3,10"
KNOB_EXAMPLES = {
    "hidden1": "hidden1:16,32,64",
    "hidden2": "hidden2:0,20,100",
    "batch_size": "batch_size:32,200,1000",
    "epochs": "epochs:1,3,10",
    "optimizer": "optimizer:sgd,adam",
    "learning_rate": "learning_rate:0.001,0.01,0.1",
    "activation": "activation:relu,tanh",
    "train_fraction": "train_fraction:0.1,0.5,1",
    "precision": "precision:float32,bfloat16",
}
FRAME_COLUMNS = ("cell", "status", "runs", "complete", "n", "mean", "std", "low", "high")
PENDING_FILL, PENDING_INK = "#eeeeee", "#666666"
# Heights include the titles and legends (the charts fit their container).
LINE_HEIGHT, COST_HEIGHT = 320, 380


class Knob(NamedTuple):
    """A swept setting and its values (parsed, sorted, distinct)."""

    name: str
    values: tuple


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


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains: one or two knobs with their values, the base config, the seeds.

    `seeds` 1 trains each cell once with the base's seed; 2 to 10 trains seeds 0 … seeds − 1.
    Sweeping the optimizer without the learning rate gives each optimizer its own default rate.

        SweepSpec((Knob("hidden1", (16, 32, 64)),), TrainingConfig(hidden2=0), seeds=3)
        SweepSpec.parse("learning_rate:0.001,0.01,0.1")
    """

    knobs: tuple[Knob, ...]
    base: TrainingConfig = field(default_factory=TrainingConfig)
    seeds: int = 1

    def __post_init__(self) -> None:
        knobs = tuple(Knob(*knob) for knob in self.knobs)
        if not knobs:
            raise ValueError(f"The sweep is empty: name a setting and its values, e.g. {EXAMPLE}.")
        if len(knobs) > 2:
            names = ", ".join(knob.name for knob in knobs)
            raise ValueError(
                f"A sweep varies one or two settings; this one names {len(knobs)} ({names})."
            )
        if len(knobs) == 2 and knobs[0].name == knobs[1].name:
            raise ValueError(f"The sweep names {knobs[0].name} twice.")
        object.__setattr__(self, "knobs", tuple(_checked_knob(*knob) for knob in knobs))
        if not isinstance(self.base, TrainingConfig):
            raise ValueError("The base of a sweep must be a TrainingConfig.")
        seeds = self.seeds
        if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_REPEATS:
            raise ValueError(
                f"seeds must be a whole number from 1 to {MAX_REPEATS}; got {seeds!r}."
            )
        if self.runs > MAX_SWEEP_RUNS:
            sizes = " × ".join(str(len(knob.values)) for knob in self.knobs)
            times = f" × {self.seeds} seeds" if self.seeds > 1 else ""
            raise ValueError(
                f"This sweep would train {self.runs} runs ({sizes} values{times}); the limit is "
                f"{MAX_SWEEP_RUNS}. Use fewer values or fewer seeds."
            )

    @property
    def names(self) -> tuple[str, ...]:
        """The knobs' setting names, e.g. ("hidden1", "epochs")."""
        return tuple(knob.name for knob in self.knobs)

    @property
    def cells(self) -> list[dict[str, Any]]:
        """Every combination of the knobs' values, first knob outermost:
        [{"hidden1": 16, "epochs": 1}, {"hidden1": 16, "epochs": 3}, …]."""
        cells: list[dict[str, Any]] = [{}]
        for knob in self.knobs:
            cells = [cell | {knob.name: value} for cell in cells for value in knob.values]
        return cells

    @property
    def runs(self) -> int:
        """How many runs the sweep trains: cells × seeds."""
        return math.prod(len(knob.values) for knob in self.knobs) * self.seeds

    def text(self) -> str:
        """The sweep= parameter: "hidden1:16,32,64;epochs:1,3,10"."""
        return ";".join(
            f"{knob.name}:{','.join(_value_text(value) for value in knob.values)}"
            for knob in self.knobs
        )

    @classmethod
    def parse(cls, text: str, base: TrainingConfig | None = None, seeds: int = 1) -> SweepSpec:
        """A spec from the sweep= text, e.g. "hidden1:16,32,64;epochs:1,3,10"."""
        text = str(text).strip()
        if len(text) > MAX_SWEEP_TEXT:
            raise ValueError(
                f"The sweep is too long ({len(text)} characters; at most {MAX_SWEEP_TEXT})."
            )
        knobs = []
        for part in filter(None, (piece.strip() for piece in text.split(";"))):
            name, colon, values = part.partition(":")
            if not colon:
                raise ValueError(
                    f"Could not read the sweep {text!r}: write each setting as name:value,value "
                    f"and separate two settings with ';', e.g. {EXAMPLE}."
                )
            listed = tuple(value.strip() for value in values.split(",") if value.strip())
            knobs.append(Knob(name.strip().lower(), listed))
        fixed = fixed_settings(text)
        if len(fixed) == len(knobs):  # nothing left to vary: the knob says what is missing
            fixed = {}
        base = (base or TrainingConfig()).replace(**fixed)
        return cls(tuple(knob for knob in knobs if knob.name not in fixed), base, seeds)

    @classmethod
    def from_query(
        cls, params: Mapping[str, str | Sequence[str]], base: TrainingConfig | None = None
    ) -> SweepSpec | None:
        """The sweep a link asks for, or None if it has no sweep= parameter.

        The base config is `base`, or else read from the link's setting parameters (hidden2=0,
        …); other parameters (view=…) are left to the page. Raises ValueError on a bad sweep.
        """
        values = {name: _last(value) for name, value in params.items()}
        if not values.get("sweep", "").strip():
            return None
        if base is None:
            settings = {name: values[name] for name in _CONFIG_FIELDS if name in values}
            base = TrainingConfig.from_mapping(settings)
        return cls.parse(values["sweep"], base, _parse_seeds(values.get("seeds", "")))

    def to_query(self) -> dict[str, str]:
        """The link's parameters: sweep, seeds (if more than 1), and the base's settings that
        differ from the defaults (as the page's links write them, so both agree)."""
        query = {"sweep": self.text()}
        if self.seeds > 1:
            query["seeds"] = str(self.seeds)
        # The learning rate's default is the base optimizer's, as TrainingConfig resolves it.
        defaults = TrainingConfig(optimizer=self.base.optimizer).to_dict()
        defaults["optimizer"] = TrainingConfig().optimizer
        for name, value in self.base.to_dict().items():
            if value != defaults[name]:
                query[name] = _value_text(value)
        return query


_CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(TrainingConfig))


def fixed_settings(text: str) -> dict[str, Any]:
    """The settings a sweep= text gives one value each ("hidden1:16,64;epochs:1" → {"epochs":
    1}): they are set for every cell, not swept. ValueError if such a value is not allowed."""
    fixed = {}
    for part in filter(None, (piece.strip() for piece in str(text).split(";"))):
        name, _, values = part.partition(":")
        name = name.strip().lower()
        listed = [value.strip() for value in values.split(",") if value.strip()]
        if len(listed) == 1 and name in KNOBS:
            fixed[name] = _parse_value(name, listed[0])
    return fixed


def fixed_text(fixed: Mapping[str, Any]) -> str:
    """A sentence for the page: "The link gives epochs one value (1): it is set for every cell,
    not swept."."""
    parts = " and ".join(
        f"{name} one value ({_value_text(value)})" for name, value in fixed.items()
    )
    return f"The link gives {parts}: it is set for every cell, not swept."


def is_active(record: RunRecord | None) -> bool:
    """Whether a run is queued or training (None: never asked for)."""
    return record is not None and record.status in ACTIVE_STATUSES


def sweep_configs(spec: SweepSpec) -> list[TrainingConfig]:
    """Every run of the sweep: the cells in order (first knob outermost), seeds innermost.

    sweep_configs(SweepSpec.parse("hidden1:16,32", seeds=2))   # 16/seed 0, 16/1, 32/0, 32/1
    """
    return [config for cell in spec.cells for config in _configs_of(spec, cell)]


def cell_configs(spec: SweepSpec, values: Mapping[str, Any]) -> list[TrainingConfig]:
    """The runs of one cell, e.g. of a click on the heatmap: `values` maps every knob to its value
    as the selection gives it ({"hidden1": 32, "epochs": 3}). ValueError if it is not a cell."""
    if set(values) != set(spec.names):
        raise ValueError(f"A cell of this sweep names {', '.join(spec.names)}.")
    cell = {knob.name: _parse_value(knob.name, values[knob.name]) for knob in spec.knobs}
    if cell not in spec.cells:
        raise ValueError("That cell is not part of this sweep.")
    return _configs_of(spec, cell)


def _configs_of(spec: SweepSpec, cell: Mapping[str, Any]) -> list[TrainingConfig]:
    config = spec.base.replace(**cell)
    return [config] if spec.seeds == 1 else repeat_configs(config, spec.seeds)


# -- the plan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunPlan:
    """What submitting a list of configs does: how many are stored, already training, queued,
    and about how long the queued ones take."""

    runs: int
    stored: int  # complete already: shown at once
    training: int  # queued or running already: joined, not queued again
    to_train: int  # queued by this submission
    seconds: float  # the queued runs' estimates, added up
    wall_seconds: float  # with `workers` trainers, the longest first
    text: str


def plan_runs(
    configs: Sequence[TrainingConfig],
    estimate: Callable[[TrainingConfig], float],
    records_by_config: Mapping[TrainingConfig, RunRecord | None] | None = None,
    workers: int = 1,
) -> RunPlan:
    """How many runs a sweep (or a repeat) queues and how long they take, e.g.
    "27 runs: 4 stored, 2 training, 21 to train, about 6 min 05 s with 2 trainers".

    plan_runs(sweep_configs(spec), service.estimate, records_by_config, workers=2)

    A complete run is stored; a queued or running one is joined; every other (none, failed,
    stopped) is trained, as TrainingService.submit does.
    """
    records = records_by_config or {}
    fates = [_fate(records.get(config)) for config in configs]
    queued = [config for config, fate in zip(configs, fates, strict=True) if fate == "train"]
    durations = sorted((max(0.0, float(estimate(config))) for config in queued), reverse=True)
    loads = [0.0] * max(1, workers)
    for seconds in durations:  # longest first, each to the trainer free soonest
        loads[loads.index(min(loads))] += seconds
    stored, training = fates.count("stored"), fates.count("join")
    text = f"{len(configs)} runs: {stored} stored, {training} training, {len(queued)} to train"
    if queued:
        text += f", about {duration(max(loads))}"
        text += f" with {workers} trainers" if workers > 1 else ""
    return RunPlan(len(configs), stored, training, len(queued), sum(durations), max(loads), text)


def _fate(record: RunRecord | None) -> str:
    """What submitting a config does: "stored" (complete), "join" (active) or "train"."""
    if record is not None and record.status == "complete":
        return "stored"
    return "join" if record is not None and record.status in ACTIVE_STATUSES else "train"


# -- the frame ---------------------------------------------------------------------------------


def sweep_frame(
    spec: SweepSpec,
    records_by_config: Mapping[TrainingConfig, RunRecord | None],
    metric: str = "test_accuracy",
) -> pd.DataFrame:
    """ONE ROW PER CELL, in `spec.cells` order, pending cells included.

    Columns: one per knob (its value), metric (the metric's key, the same on every row), cell
    ("hidden1 = 16 · epochs = 3"), status (CELL_STATUSES: running if any run is, else pending if
    any waits, else complete if all are, else failed or stopped), runs (planned), complete
    (finished runs), n, mean, std, low, high (mean ∓ SD; the mean with one run), parameters,
    run_ids (the stored runs' ids, for opening a cell).

    mean/std/n are of the cell's complete runs, and only once none is pending or running: NaN
    (n = 0) before, so a cell's colour appears once. Parameters need no training: that metric
    is known for every cell.
    """
    if metric not in RUN_METRICS:
        raise ValueError(f"Unknown metric {metric!r}; one of {', '.join(RUN_METRICS)}.")
    rows = []
    for cell in spec.cells:
        configs = _configs_of(spec, cell)
        records = [records_by_config.get(config) for config in configs]
        statuses = [run_status(record) for record in records]
        status = _cell_status(statuses)
        summary = stats.Summary(0, math.nan, math.nan)
        if metric == "parameters":
            summary = stats.Summary(len(configs), total_parameters(configs[0]), 0.0)
        elif status not in ("pending", "running"):
            summary = stats.summarise(
                run_values(config, record)[metric]
                for config, record in zip(configs, records, strict=True)
            )
        spread = summary.std if summary.n > 1 else 0.0
        rows.append(
            cell
            | {
                "metric": metric,
                "cell": _cell_text(cell),
                "status": status,
                "runs": len(configs),
                "complete": statuses.count("complete"),
                "n": summary.n,
                "mean": summary.mean,
                "std": summary.std,
                "low": summary.mean - spread,
                "high": summary.mean + spread,
                "parameters": total_parameters(configs[0]),
                "run_ids": [record.run_id for record in records if record is not None],
            }
        )
    columns = [*spec.names, "metric", *FRAME_COLUMNS, "parameters", "run_ids"]
    return pd.DataFrame(rows, columns=columns)


def progress_text(frame: pd.DataFrame) -> str:
    """How far a sweep is: "5 of 9 cells done · 2 training · 2 waiting"."""
    counts = frame["status"].value_counts()
    settled = sum(int(counts.get(status, 0)) for status in ("complete", "stopped", "failed"))
    parts = [f"{settled} of {len(frame)} cells done"]
    parts += [
        f"{int(counts[status])} {word}"
        for status, word in (("running", "training"), ("pending", "waiting"), ("failed", "failed"))
        if counts.get(status, 0)
    ]
    return " · ".join(parts)


def _cell_status(statuses: Sequence[str]) -> str:
    for status in ("running", "pending"):
        if status in statuses:
            return status
    if all(status == "complete" for status in statuses):
        return "complete"
    return "failed" if "failed" in statuses else "stopped"


def _cell_text(cell: Mapping[str, Any]) -> str:
    return " · ".join(f"{name} = {_value_text(value)}" for name, value in cell.items())


# -- the charts --------------------------------------------------------------------------------


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
        expression = f"datum.value === {_value_text(value)} ? '{_value_text(value)}' : {expression}"
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


# -- values --------------------------------------------------------------------------------------


def _checked_knob(name: Any, values: Any) -> Knob:
    """A knob with valid, parsed, distinct values in canonical order; ValueError otherwise."""
    name = str(name).strip().lower()
    if name == "seed":
        raise ValueError(
            "The seed is not swept like a setting: add seeds=3 to repeat every cell with "
            "seeds 0, 1 and 2."
        )
    if name not in KNOBS:
        raise ValueError(
            f"The sweep names {name!r}, which is not a setting. "
            f"Settings you can sweep: {', '.join(KNOBS)}."
        )
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"The values of {name} in a sweep must be a list.")
    parsed = [_parse_value(name, value) for value in values]
    if len(parsed) < 2:
        given = f" ({_value_text(parsed[0])})" if parsed else ""
        raise ValueError(
            f"The sweep gives {name} {'only one value' if parsed else 'no values'}{given}: give "
            f"at least two, separated by commas, e.g. {KNOB_EXAMPLES[name]}."
        )
    for position, value in enumerate(parsed):
        if value in parsed[:position]:
            raise ValueError(f"The sweep lists {_value_text(value)} twice for {name}.")
    if name in CHOICE_FIELDS:
        ordered = tuple(choice for choice in CHOICE_FIELDS[name] if choice in parsed)
    else:
        ordered = tuple(sorted(parsed))
    return Knob(name, ordered)


def _parse_value(name: str, raw: Any) -> Any:
    """One knob value through TrainingConfig's own parsing and validation."""
    try:
        return getattr(TrainingConfig.from_mapping({name: raw}), name)
    except ValueError as error:
        quoted = repr(str(raw)[:20])
        raise ValueError(f"The sweep's value {quoted} for {name} is not allowed: {error}") from None


def _value_text(value: Any) -> str:
    """A value as a link writes it: 16, 0.001, 1e-05, adam (floats as short as exact)."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _parse_seeds(raw: str) -> int:
    text = str(raw).strip()
    if not text:
        return 1
    if not text.isdigit():
        raise ValueError(
            f"seeds must be a whole number from 1 to {MAX_REPEATS}; got {text[:20]!r}."
        )
    return int(text)


def _last(value: str | Sequence[str]) -> str:
    """A query parameter's value (the last one if it is given several times)."""
    if isinstance(value, str):
        return value
    return value[-1] if value else ""
