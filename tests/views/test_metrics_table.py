"""explorer.views.metrics_table: one table of a run's figures, and how values and changes read."""

import math

import pytest

from explorer.views import comparison, metrics_table, repeats


def test_every_view_reads_the_one_table() -> None:
    for metric in [*comparison.METRICS, *repeats.RUN_METRICS.values()]:
        assert metrics_table.METRICS[metric.key] is metric
        assert metric.kind in metrics_table.FORMATS


def test_format_value_and_delta() -> None:
    assert metrics_table.format_value("percent", 0.9712) == "97.12%"
    assert metrics_table.format_value("integer", 314000) == "314,000"
    assert metrics_table.format_value("decimal", math.nan) == "—"
    assert metrics_table.format_value("seconds", None) == "—"
    assert metrics_table.format_delta("percent", 0.0045) == "+0.45 percentage points"
    assert metrics_table.format_delta("decimal", -0.15) == "−0.1500"
    assert metrics_table.format_delta("seconds", 2.5) == "+2.5 s"
    assert metrics_table.format_delta("seconds", None) == "—"


@pytest.mark.parametrize(
    ("kind", "delta", "spread", "text"),
    [
        ("percent", 0.0045, 0.002, "+0.45 percentage points ± 0.20"),
        ("decimal", -0.012, 0.004, "−0.0120 ± 0.0040"),
        ("seconds", 1.23, math.nan, "+1.2 s"),
        ("integer", 12340, 0.0, "+12,340"),
        ("percent", math.nan, math.nan, "—"),
    ],
)
def test_format_delta_with_its_spread(kind, delta, spread, text) -> None:
    assert metrics_table.format_delta(kind, delta, spread) == text
