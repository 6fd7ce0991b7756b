"""Sweeps: one or two settings ("knobs") varied over lists of values: the format, runs, figures.

    spec = SweepSpec.parse("hidden1:16,32,64;epochs:1,3,10", base=config, seeds=3)
    spec = SweepSpec.from_query(st.query_params.to_dict())   # None if the link has no sweep
    spec = SweepSpec.from_settings({"hidden1": "16,32,64", "epochs": "1,3,10"}, seeds="0,1,2")
    spec.to_query()            # {"sweep": "hidden1:16,32,64;epochs:1,3,10", "seeds": "3", ...}
    sweep_configs(spec)        # the grid × the seeds: 3 × 3 cells × 3 seeds = 27 configs
    plan_runs(sweep_configs(spec), service.estimate, records_by_config, workers=2).text
    frame = sweep_frame(spec, records_by_config, "test_accuracy")   # ONE ROW PER CELL
    cell_configs(spec, {"hidden1": 32, "epochs": 3})          # the runs behind a clicked cell

The pictures of a sweep_frame are in explorer.views.sweep_charts.

The sweep in a link (URL query parameters)::

    ?sweep=hidden1:16,32,64;epochs:1,3,10&seeds=3&hidden2=0&optimizer=adam

    sweep   one knob, or two separated by ";": a setting's name, ":", and at least two values
            separated by ","; any setting but the seed (numbers as in the page's links:
            learning_rate:0.001,0.01,0.1; optimizer:sgd,adam). A setting with one value
            (epochs:1) is not swept but set for every cell (`fixed_settings`).
    seeds   optional, 2 to 10: every cell is trained with seeds 0, 1, …; without it, once with
            the base config's seed. seeds=3 and seeds=0,1,2 are the same (`parse_seeds`).
    others  the base config: the page's usual settings (hidden2=0, …); the knobs override theirs

The same sweep on the command line (`from_settings`; a flag with one value sets the base)::

    python -m explorer sweep --hidden1 16,32,64 --epochs 1,3,10 --seeds 0,1,2 --hidden2 0

The seeds are written either way in both places: a count N (3) or the list it stands for,
0,1,…,N−1 (0,1,2). One or two settings are swept, and a sweep trains at most MAX_SWEEP_RUNS
runs, on the page and on the command line alike: a larger one is split into several sweeps,
which costs nothing, since every sweep reuses the runs already stored.

A SweepSpec that exists is valid (like TrainingConfig): every value went through TrainingConfig's
validation, and a sweep trains at most MAX_SWEEP_RUNS runs. A bad sweep raises ValueError with a
sentence a student can act on. Values are kept sorted (numbers ascending, choices in the page's
order), so one sweep has one link.

A cell's figures appear only once none of its runs is waiting or training, so a cell is coloured
once.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from explorer.architecture import total_parameters
from explorer.config import CHOICE_FIELDS, TrainingConfig
from explorer.store.records import ACTIVE_STATUSES, RunRecord
from explorer.views import stats
from explorer.views.repeats import (
    MAX_REPEATS,
    RUN_METRICS,
    repeat_configs,
    run_status,
    run_values,
)
from explorer.views.text import duration

MAX_SWEEP_RUNS = 60
MAX_SWEEP_TEXT = 200  # characters of the sweep= parameter
# Every setting but the seed, which `seeds` repeats instead.
KNOBS = tuple(f.name for f in dataclasses.fields(TrainingConfig) if f.name != "seed")
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


class Knob(NamedTuple):
    """A swept setting and its values (parsed, sorted, distinct)."""

    name: str
    values: tuple


@dataclass(frozen=True)
class SweepSpec:
    """What a sweep trains: one or two knobs with their values, the base config, the seeds.

    `seeds` 1 trains each cell once with the base's seed; 2 to 10 trains seeds 0 … seeds − 1.
    Sweeping the optimizer without the learning rate gives each optimizer its own default rate.

        SweepSpec((Knob("hidden1", (16, 32, 64)),), TrainingConfig(hidden2=0), seeds=3)
        SweepSpec.parse("learning_rate:0.001,0.01,0.1")
        SweepSpec.from_settings({"learning_rate": "0.001,0.01,0.1", "hidden2": "0"})
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
                f"{MAX_SWEEP_RUNS}. Use fewer values or fewer seeds, or split it into several "
                "sweeps (stored runs are reused)."
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
            f"{knob.name}:{','.join(value_text(value) for value in knob.values)}"
            for knob in self.knobs
        )

    @classmethod
    def parse(
        cls,
        text: str,
        base: TrainingConfig | None = None,
        seeds: int = 1,
        limit_text: bool = True,
    ) -> SweepSpec:
        """A spec from the sweep= text, e.g. "hidden1:16,32,64;epochs:1,3,10". `limit_text`
        False: no limit on the text's length (the command line's, not a link's)."""
        text = str(text).strip()
        if limit_text and len(text) > MAX_SWEEP_TEXT:
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
        return cls.parse(values["sweep"], base, parse_seeds(values.get("seeds", "")))

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, str | None],
        base: TrainingConfig | None = None,
        seeds: str | int = "",
    ) -> SweepSpec:
        """The sweep the command line asks for: each setting's values as comma-separated text
        ({"hidden1": "16,32,64", "hidden2": "0"}; None: not given). A setting with one value is
        set for every cell, as in a link; `seeds` is either spelling ("3" or "0,1,2").

            SweepSpec.from_settings({"hidden1": "16,64", "epochs": "1"}, seeds="0,1,2")
        """
        parts = [f"{name}:{text}" for name, text in settings.items() if text is not None]
        return cls.parse(";".join(parts), base, parse_seeds(seeds), limit_text=False)

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
                query[name] = value_text(value)
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
    parts = " and ".join(f"{name} one value ({value_text(value)})" for name, value in fixed.items())
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
    return " · ".join(f"{name} = {value_text(value)}" for name, value in cell.items())


# -- values --------------------------------------------------------------------------------------


def _checked_knob(name: Any, values: Any) -> Knob:
    """A knob with valid, parsed, distinct values in canonical order; ValueError otherwise."""
    name = str(name).strip().lower()
    if name == "seed":
        raise ValueError(
            "The seed is not swept like a setting: add seeds=3 (or seeds=0,1,2) to repeat every "
            "cell with seeds 0, 1 and 2."
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
        given = f" ({value_text(parsed[0])})" if parsed else ""
        raise ValueError(
            f"The sweep gives {name} {'only one value' if parsed else 'no values'}{given}: give "
            f"at least two, separated by commas, e.g. {KNOB_EXAMPLES[name]}."
        )
    for position, value in enumerate(parsed):
        if value in parsed[:position]:
            raise ValueError(f"The sweep lists {value_text(value)} twice for {name}.")
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


def value_text(value: Any) -> str:
    """A value as a link writes it: 16, 0.001, 1e-05, adam (floats as short as exact)."""
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def parse_seeds(raw: str | int) -> int:
    """How many seeds a sweep trains, from either spelling: a count ("3", a link's seeds=3) or
    the list it stands for ("0,1,2", the command line's --seeds 0,1,2): both mean seeds 0, 1
    and 2. "" is 1: each cell once, with the base's seed. ValueError otherwise.

        parse_seeds("3") == parse_seeds("0,1,2") == 3
    """
    text = str(raw).strip()
    if not text:
        return 1
    if "," in text:
        listed = [part.strip() for part in text.split(",")]
        if listed == [str(seed) for seed in range(len(listed))] and len(listed) <= MAX_REPEATS:
            return len(listed)
    elif text.isdigit() and 1 <= int(text) <= MAX_REPEATS:
        return int(text)
    raise ValueError(
        f"seeds must be a whole number from 1 to {MAX_REPEATS} (3: seeds 0, 1 and 2), or the "
        f"list it stands for (0,1,2); got {text[:20]!r}."
    )


def _last(value: str | Sequence[str]) -> str:
    """A query parameter's value (the last one if it is given several times)."""
    if isinstance(value, str):
        return value
    return value[-1] if value else ""
