"""The figures of a finished run, in one table that every view reads: Compare, repeats, sweeps.

    METRICS["test_accuracy"].label                   # "Test accuracy"
    METRICS["test_loss"].higher_is_better            # False: lower is better
    format_value("percent", 0.9712)                  # "97.12%"
    format_delta("percent", 0.0045)                  # "+0.45 percentage points"
    format_delta("percent", 0.0045, spread=0.002)    # "+0.45 percentage points ± 0.20"

A new figure is one row here: its key (the summary's or seeds frame's column), its label, its
direction and its kind; a kind says how its values and changes are written.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class Metric(NamedTuple):
    """A figure of a finished run: key, label, higher_is_better (None: neither), kind (how it is
    written: "percent", "decimal", "seconds" or "integer", a key of FORMATS)."""

    key: str
    label: str
    higher_is_better: bool | None
    kind: str


class Format(NamedTuple):
    """How a kind of figure is written: `value` a format string for the value; a change is
    multiplied by `scale` and written with `digits` decimals and `unit` (a change of a
    percentage is in percentage points)."""

    value: str
    scale: float
    digits: int
    unit: str


METRICS = {
    metric.key: metric
    for metric in (
        Metric("test_accuracy", "Test accuracy", True, "percent"),
        Metric("thresholded_accuracy", "Tutorial's score", True, "percent"),
        Metric("test_loss", "Test loss", False, "decimal"),
        Metric("gap", "Train − test gap", False, "percent"),
        Metric("parameters", "Parameters", None, "integer"),
        Metric("train_seconds", "Training time", False, "seconds"),
    )
}
FORMATS = {
    "percent": Format("{:.2%}", 100.0, 2, " percentage points"),
    "decimal": Format("{:.4f}", 1.0, 4, ""),
    "seconds": Format("{:.1f} s", 1.0, 1, " s"),
    "integer": Format("{:,.0f}", 1.0, 0, ""),
}


def format_value(kind: str, value: float | None) -> str:
    """A figure as text, e.g. format_value("percent", 0.9712) -> "97.12%"; "—" if missing."""
    if value is None or not math.isfinite(value):
        return "—"
    return FORMATS[kind].value.format(value)


def format_delta(kind: str, delta: float | None, spread: float = math.nan) -> str:
    """A change as signed text ("−" minus), with its spread if one is given: "+0.45 percentage
    points", "+0.45 percentage points ± 0.20", "−0.0120 ± 0.0040", "+1.2 s", "+12,340"; "—"
    when there is no change to show (a missing value, a side without finished runs)."""
    if delta is None or not math.isfinite(delta):
        return "—"
    written = FORMATS[kind]
    text = f"{delta * written.scale:+,.{written.digits}f}{written.unit}".replace("-", "−")
    if math.isfinite(spread) and spread > 0:
        text += f" ± {spread * written.scale:,.{written.digits}f}"
    return text
