"""The network panel: layer sizes, parameter counts and a time estimate (no TensorFlow needed)."""

from __future__ import annotations

import html

import streamlit as st

from explorer.config import TrainingConfig
from explorer.model import (
    SpeedCalibration,
    estimate_training_seconds,
    layer_parameters,
    layer_widths,
    total_parameters,
)
from explorer.views.text import duration

COLUMNS = ("Layer", "Inputs", "Neurons", "Activation", "Weights (in × out)", "Biases")
_CELL = "padding:0.3rem 0.6rem;border-bottom:1px solid rgba(49,51,63,0.1);"
_BAR = "display:inline-block;height:0.7rem;background:#4c78a8;border-radius:2px;margin-right:6px;"


def parameter_table_html(config: TrainingConfig) -> str:
    """One row per Dense layer (sizes, weights, biases, parameters), with a bar showing each
    layer's share of all parameters, as a small HTML table.

    Plain HTML rather than st.dataframe: it paints with the page's first bytes (the data grid's
    script loads lazily) and costs the server almost nothing on each rerun. Every row carries
    `data-parameters` with its exact count, for tests and scripts.
    """
    layers = layer_parameters(config)
    total = total_parameters(config)
    header = "".join(
        f'<th style="{_CELL}text-align:{"left" if i in (0, 3) else "right"}">{name}</th>'
        for i, name in enumerate(COLUMNS)
    )
    header += f'<th style="{_CELL}text-align:left">Parameters (share of all)</th>'
    rows = []
    for layer in layers:
        share = layer.parameters / total
        cells = [
            f'<td style="{_CELL}">{html.escape(layer.name)}</td>',
            f'<td style="{_CELL}text-align:right">{layer.inputs:,}</td>',
            f'<td style="{_CELL}text-align:right">{layer.units:,}</td>',
            f'<td style="{_CELL}">{html.escape(layer.activation)}</td>',
            f'<td style="{_CELL}text-align:right">{layer.weights:,}</td>',
            f'<td style="{_CELL}text-align:right">{layer.biases:,}</td>',
            f'<td style="{_CELL}white-space:nowrap"><span style="{_BAR}width:'
            f'{max(share * 160, 1):.0f}px"></span>{layer.parameters:,} ({share:.1%})</td>',
        ]
        rows.append(f'<tr data-parameters="{layer.parameters}">{"".join(cells)}</tr>')
    return (
        '<table class="parameter-table" style="border-collapse:collapse;font-size:0.9rem;'
        f'width:100%"><thead><tr>{header}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def network_panel(config: TrainingConfig) -> None:
    """Shape of the network and its parameter table; needs nothing but the config."""
    widths = " → ".join(f"{width:,}" for width in layer_widths(config))
    st.subheader("Network")
    st.markdown(f"**{widths}** &nbsp; (input pixels → hidden layers → 10 digit classes)")
    st.html(parameter_table_html(config))


def headline_metrics(
    config: TrainingConfig,
    train_samples: int | None,
    test_samples: int | None,
    calibration: SpeedCalibration | None,
) -> None:
    """Total parameters and the estimated training time, side by side."""
    total_column, time_column = st.columns(2)
    total_column.metric(
        "Parameters to learn",
        f"{total_parameters(config):,}",
        help="Every weight and bias of every layer: inputs × neurons + neurons, summed.",
    )
    if train_samples is None:
        time_column.metric("Estimated training time", "…")
        return
    used = max(1, round(train_samples * config.train_fraction))
    seconds = estimate_training_seconds(config, used, test_samples or 0, calibration)
    measured = calibration is not None and calibration.measured_runs > 0
    time_column.metric(
        "Estimated training time",
        f"≈ {duration(seconds)}",
        help=(
            f"From the speed of {calibration.measured_runs} earlier run(s) on this computer."
            if measured
            else "A rough guess until the first run measures this computer's speed."
        ),
    )
