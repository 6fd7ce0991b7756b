"""Repeats over seeds: one configuration trained with seeds 0, 1, 2, …, shown as a spread.

One run says little: another seed moves MNIST accuracy by a few tenths of a point. Repeating a
configuration with a few seeds shows how much, and comparing two repeated configurations says
whether a difference is bigger than that (explorer.views.stats does the arithmetic).

    configs = repeat_configs(config, 3)                    # seeds 0, 1 and 2 of the config
    frame = seeds_frame({c: record_or_none(c) for c in configs})   # one row per seed, pending too
    headline(frame)                                        # "97.8 % ± 0.2 (n = 3)"
    band_frame(records_by_config)                          # curves: mean ± SD per epoch
    best_last_text(frame)                                  # best epoch against the last one

Comparing groups of seeds (a "group" column tells them apart; concatenate their frames)::

    frame = pd.concat([seeds_frame(baseline_records, "A"), seeds_frame(other_records, "B")])
    group_deltas(frame, baseline="A")      # per metric: mean ± SD per group, change ± its spread
    group_verdicts(frame, baseline="A")    # {"B": "Better by 0.45 percentage points: ..."}
    COMPARISON_HELP                        # what the test and the ± mean, for a help text

The pictures of these frames are in explorer.views.repeat_charts.

Only complete runs count in the figures: a pending or running seed is a row without values, and
a stopped run (fewer epochs than its config says) is not a result of that config.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from explorer.architecture import total_parameters
from explorer.config import TrainingConfig
from explorer.store.records import RunRecord
from explorer.views import metrics_table, stats
from explorer.views.charts import curves_frame

MIN_REPEATS, MAX_REPEATS = 2, 10
# What a run is, for the figures: pending (not started or queued), running, complete, stopped,
# failed (failed, interrupted, or a stored row that cannot be read).
RUN_STATUSES = ("pending", "running", "complete", "stopped", "failed")
_STATUS_OF = {"queued": "pending", "interrupted": "failed", "damaged": "failed"}


# The figures of a run that seeds_frame holds, and that repeats and sweeps draw (their labels,
# directions and formats: views.metrics_table).
RUN_METRICS = {
    key: metrics_table.METRICS[key]
    for key in ("test_accuracy", "test_loss", "gap", "parameters", "train_seconds")
}
SEED_COLUMNS = (
    "group",
    "seed",
    "run_id",
    "status",
    "test_accuracy",
    "test_loss",
    "gap",
    "parameters",
    "train_seconds",
    "epochs",
    "best_epoch",
    "best_test_accuracy",
    "last_test_accuracy",
    "best_minus_last",
)
DELTA_EXPLANATION = (
    "A change is the mean of the compared seeds minus the baseline's mean. The ± after it is the "
    "spread of that change, √(SD₁²/n₁ + SD₂²/n₂), where SD is the standard deviation over the "
    "seeds and n their number: the more the seeds vary and the fewer there are, the larger. A "
    "change of about twice its spread or more is usually real."
)
COMPARISON_HELP = f"{stats.TEST_EXPLANATION} {DELTA_EXPLANATION}"


# -- the runs ----------------------------------------------------------------------------------


def repeat_configs(config: TrainingConfig, n: int) -> list[TrainingConfig]:
    """The config with seeds 0 to n − 1, for n from 2 to 10.

    repeat_configs(TrainingConfig(hidden1=64), 3)   # seeds 0, 1, 2; everything else the same
    """
    if isinstance(n, bool) or not isinstance(n, int) or not MIN_REPEATS <= n <= MAX_REPEATS:
        raise ValueError(
            f"Repeats must be a whole number from {MIN_REPEATS} to {MAX_REPEATS} seeds; got {n!r}."
        )
    return [config.replace(seed=seed) for seed in range(n)]


def run_status(record: RunRecord | None) -> str:
    """One of RUN_STATUSES: None (never submitted) and "queued" are both "pending"."""
    if record is None:
        return "pending"
    status = _STATUS_OF.get(record.status, record.status)
    return status if status in RUN_STATUSES else "failed"


def run_values(config: TrainingConfig, record: RunRecord | None) -> dict:
    """The figures of one run: every RUN_METRICS key plus epochs, best_epoch, best_test_accuracy,
    last_test_accuracy and best_minus_last (best − last, ≥ 0). NaN unless the run is complete,
    except "parameters", which the config alone decides.

    gap = the last epoch's train accuracy − its test accuracy (above 0: fits the training digits
    better than new ones). The best epoch is the first one with the highest test accuracy.
    """
    values = dict.fromkeys(SEED_COLUMNS[4:], math.nan)
    values["parameters"] = total_parameters(config)
    if record is None or record.status != "complete":
        return values
    summary, history = record.summary, record.history
    values.update(
        test_accuracy=_number(summary.get("test_accuracy")),
        test_loss=_number(summary.get("test_loss")),
        train_seconds=_number(summary.get("train_seconds")),
    )
    test = [_number(entry.get("test_accuracy")) for entry in history]
    if history and not all(math.isnan(value) for value in test):
        best = _best_index(test)
        last = history[-1]
        values.update(
            epochs=len(history),
            best_epoch=int(history[best]["epoch"]),
            best_test_accuracy=test[best],
            last_test_accuracy=test[-1],
            best_minus_last=test[best] - test[-1],
            gap=_number(last.get("accuracy")) - test[-1],
        )
    return values


def seeds_frame(
    records_by_config: Mapping[TrainingConfig, RunRecord | None], group: str = ""
) -> pd.DataFrame:
    """One row per config (a seed of the repeat), pending ones included, ordered by seed.

    Columns: SEED_COLUMNS: group, seed, run_id (missing if never submitted), status (RUN_STATUSES)
    and the figures of `run_values`.

        seeds_frame({config: None for config in repeat_configs(config, 3)})   # 3 pending rows
    """
    rows = []
    for config, record in records_by_config.items():
        row = {
            "group": group,
            "seed": config.seed,
            "run_id": None if record is None else record.run_id,
            "status": run_status(record),
        }
        rows.append(row | run_values(config, record))
    frame = pd.DataFrame(rows, columns=list(SEED_COLUMNS))
    return frame.sort_values("seed", kind="stable").reset_index(drop=True)


# -- summaries ---------------------------------------------------------------------------------


def metric_summary(
    frame: pd.DataFrame, metric: str = "test_accuracy", group: str | None = None
) -> stats.Summary:
    """Count, mean and sample SD of a metric over the complete seeds (of one group)."""
    rows = frame if group is None else frame[frame["group"] == group]
    return stats.summarise(rows[metric].tolist())


def format_metric(summary: stats.Summary, metric: str = "test_accuracy") -> str:
    """A summary written for its metric: "97.8 % ± 0.2 (n = 3)", "0.0712 ± 0.0031 (n = 3)",
    "12.4 s ± 0.8 (n = 3)", "318,010 (n = 3)"."""
    kind = RUN_METRICS[metric].kind
    if kind == "percent":
        return stats.format_summary(summary)
    if kind == "seconds":
        return stats.format_summary(summary, False, 1, " s")
    if kind == "integer":
        return "—" if not summary.n else f"{summary.mean:,.0f} (n = {summary.n})"
    return stats.format_summary(summary, False)


def headline(frame: pd.DataFrame, metric: str = "test_accuracy", group: str | None = None) -> str:
    """The repeat in one line: "97.8 % ± 0.2 (n = 3)", then what is not done yet, e.g.
    "97.8 % (n = 1) · 2 still to train" or "— · 3 still to train"."""
    rows = frame if group is None else frame[frame["group"] == group]
    text = format_metric(metric_summary(rows, metric), metric)
    progress = progress_text(rows)
    return f"{text} · {progress}" if progress else text


def progress_text(frame: pd.DataFrame) -> str:
    """The runs that have no result: "2 still to train · 1 failed"; "" when all are complete."""
    counts = frame["status"].value_counts()
    parts = []
    waiting = int(counts.get("pending", 0) + counts.get("running", 0))
    if waiting:
        parts.append(f"{waiting} still to train")
    parts += [f"{counts[status]} {status}" for status in ("stopped", "failed") if status in counts]
    return " · ".join(parts)


def summary_frame(frame: pd.DataFrame, metric: str = "test_accuracy") -> pd.DataFrame:
    """One row per group: group, runs, complete, n (runs with a value), mean, std, low and high
    (mean ∓ SD; the mean itself with one run), text (`headline`)."""
    rows = []
    for group, part in frame.groupby("group", sort=False):
        summary = metric_summary(part, metric)
        spread = summary.std if summary.n > 1 else 0.0
        rows.append(
            {
                "group": group,
                "runs": len(part),
                "complete": int((part["status"] == "complete").sum()),
                "n": summary.n,
                "mean": summary.mean,
                "std": summary.std,
                "low": summary.mean - spread,
                "high": summary.mean + spread,
                "text": headline(part, metric),
            }
        )
    columns = ["group", "runs", "complete", "n", "mean", "std", "low", "high", "text"]
    return pd.DataFrame(rows, columns=columns)


# -- learning curves as bands ------------------------------------------------------------------


def band_frame(
    records_by_config: Mapping[TrainingConfig, RunRecord | None], group: str = ""
) -> pd.DataFrame:
    """Learning curves over seeds: per epoch, metric (Loss, Accuracy) and split (train, test)
    the mean and sample SD over the seeds that reached that epoch.

    Columns: group, epoch, metric, split, n (seeds with a value there), mean, std, low, high
    (mean ∓ SD; NaN below 2 seeds, so the band stops where the line goes on), seeds (how many
    runs have any epoch). Running and stopped runs count with the epochs they have finished:
    later epochs then rest on fewer seeds, which `n` says.
    """
    histories = {
        str(config.seed): record.history
        for config, record in records_by_config.items()
        if record is not None and record.history
    }
    columns = ["group", "epoch", "metric", "split", "n", "mean", "std", "low", "high", "seeds"]
    if not histories:
        return pd.DataFrame(columns=columns)
    curves = curves_frame(histories)
    rows = []
    for (epoch, metric, split), part in curves.groupby(["epoch", "metric", "split"], sort=True):
        summary = stats.summarise(part["value"].tolist())
        low, high = summary.mean - summary.std, summary.mean + summary.std
        rows.append((group, epoch, metric, split, summary.n, summary.mean, summary.std, low, high))
    frame = pd.DataFrame(rows, columns=columns[:-1]).assign(seeds=len(histories))
    return frame


# -- best epoch against last epoch -------------------------------------------------------------


def best_last_text(frame: pd.DataFrame, group: str | None = None) -> str:
    """One sentence on the best against the last epoch, e.g. "The last epoch is 0.30 ± 0.10
    percentage points below the best one (n = 3): training went on past its best point.\""""
    rows = frame if group is None else frame[frame["group"] == group]
    done = rows[rows["best_minus_last"].notna()]
    drop = stats.summarise(done["best_minus_last"].tolist())
    return _best_last_sentence(drop, int((done["best_minus_last"] > 0).sum()))


def _best_last_sentence(drop: stats.Summary, past_best: int) -> str:
    if not drop.n:
        return "No finished run yet."
    if not past_best:
        runs = "the run" if drop.n == 1 else f"all {drop.n} runs"
        return f"The last epoch was the best one in {runs}: no sign of overfitting yet."
    spread = f" ± {drop.std * 100:.2f}" if drop.n > 1 else ""
    return (
        f"The last epoch is {drop.mean * 100:.2f}{spread} percentage points below the best one "
        f"(n = {drop.n}; {past_best} of {drop.n} past their best): training went on past its "
        "best point."
    )


# -- comparing groups of seeds -----------------------------------------------------------------

DELTA_METRICS = ("test_accuracy", "test_loss", "gap", "train_seconds", "parameters")


def group_deltas(
    frame: pd.DataFrame, baseline: str, metrics: Sequence[str] = DELTA_METRICS
) -> pd.DataFrame:
    """Every group's metrics as mean ± SD and their change against the baseline group.

    One row per (group, metric). Columns: group, metric, label, n, mean, std, text (e.g.
    "97.8 % ± 0.2 (n = 3)"), delta (mean − baseline's mean), spread (√(SD²/n + SD_b²/n_b), the
    spread of that change; NaN with fewer than 2 runs a side), delta_text ("+0.45 percentage
    points ± 0.20"),
    p (Welch's test of the change; NaN where it cannot be done), better (True/False: the change
    is an improvement and bigger than the noise (p < 0.05); None for the baseline, neutral
    metrics, changes within the noise, or too few runs).
    """
    groups = list(dict.fromkeys(frame["group"]))
    base_rows = frame[frame["group"] == baseline]
    rows = []
    for group in groups:
        part = frame[frame["group"] == group]
        for key in metrics:
            metric = RUN_METRICS[key]
            summary = metric_summary(part, key)
            base = metric_summary(base_rows, key)
            test = stats.welch(base_rows[key].tolist(), part[key].tolist())
            delta = summary.mean - base.mean
            spread, p = (test.standard_error, test.p) if test else (math.nan, math.nan)
            if group == baseline:  # no test of the baseline against itself
                spread, p = math.nan, math.nan
            better = None
            if metric.higher_is_better is not None and p < stats.SIGNIFICANCE:
                better = (delta > 0) == metric.higher_is_better
            rows.append(
                {
                    "group": group,
                    "metric": key,
                    "label": metric.label,
                    "n": summary.n,
                    "mean": summary.mean,
                    "std": summary.std,
                    "text": format_metric(summary, key),
                    "delta": delta,
                    "spread": spread,
                    "delta_text": ""
                    if group == baseline
                    else metrics_table.format_delta(metric.kind, delta, spread),
                    "p": p,
                    "better": better,
                }
            )
    return pd.DataFrame(rows)


def group_verdicts(frame: pd.DataFrame, baseline: str) -> dict[str, str]:
    """For every group but the baseline, `stats.verdict` on the test accuracies of the seeds."""
    values = {
        group: part["test_accuracy"].tolist() for group, part in frame.groupby("group", sort=False)
    }
    return {
        group: stats.verdict(values[baseline], accuracies)
        for group, accuracies in values.items()
        if group != baseline
    }


def _best_index(values: Sequence[float]) -> int:
    """Index of the first largest value, NaN counting as the smallest."""
    ranks = [-math.inf if math.isnan(value) else value for value in values]
    return ranks.index(max(ranks))


def _number(value: object) -> float:
    """A stored figure as a float; NaN if it is missing or not a finite number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan
