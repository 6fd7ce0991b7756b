"""The network panel: layer sizes, parameter counts and a time estimate (no TensorFlow needed)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.config import TrainingConfig
from explorer.model import (
    SpeedCalibration,
    estimate_training_seconds,
    layer_parameters,
    layer_widths,
    total_parameters,
)
from explorer.ui.formatting import duration


def parameter_table(config: TrainingConfig) -> pd.DataFrame:
    """One row per Dense layer: sizes, weights, biases, parameters."""
    frame = pd.DataFrame([layer.as_row() for layer in layer_parameters(config)])
    return frame.rename(
        columns={
            "layer": "Layer",
            "inputs": "Inputs",
            "units": "Neurons",
            "activation": "Activation",
            "weights": "Weights (in × out)",
            "biases": "Biases",
            "parameters": "Parameters",
        }
    )


def network_panel(config: TrainingConfig) -> None:
    """Shape of the network and its parameter table; needs nothing but the config."""
    widths = " → ".join(f"{width:,}" for width in layer_widths(config))
    st.subheader("Network")
    st.markdown(f"**{widths}** &nbsp; (input pixels → hidden layers → 10 digit classes)")
    st.dataframe(
        parameter_table(config),
        hide_index=True,
        width="stretch",
        key="parameter_table",
        column_config={
            "Weights (in × out)": st.column_config.NumberColumn(format="localized"),
            "Parameters": st.column_config.NumberColumn(format="localized"),
        },
    )


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
