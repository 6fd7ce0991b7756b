"""The network panel: layer sizes, parameter counts and a time estimate (no TensorFlow needed)."""

from __future__ import annotations

import html

import streamlit as st

from explorer.architecture import layer_parameters, layer_widths, total_parameters
from explorer.config import TrainingConfig
from explorer.views.text import duration

TOTAL_LABEL = "Parameters to learn"
COLUMNS = ("Layer", "Inputs", "Neurons", "Activation", "Weights (in × out)", "Biases")
_CELL = "padding:0.3rem 0.6rem;border-bottom:1px solid rgba(49,51,63,0.1);"
_BAR = "display:inline-block;height:0.7rem;background:#4c78a8;border-radius:2px;margin-right:6px;"
# What each activation does, in a student's words: the hover of the table's Activation cells.
ACTIVATION_MEANINGS = {
    "relu": "ReLU: passes a positive sum on as it is and turns a negative one into 0",
    "tanh": "tanh: squashes the sum into −1 … 1",
    "sigmoid": "sigmoid: squashes the sum into 0 … 1",
    "softmax": "softmax: turns the 10 outputs into chances that add up to 100 %",
}


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
        meaning = ACTIVATION_MEANINGS.get(layer.activation, layer.activation)
        cells = [
            f'<td style="{_CELL}">{html.escape(layer.name)}</td>',
            f'<td style="{_CELL}text-align:right">{layer.inputs:,}</td>',
            f'<td style="{_CELL}text-align:right">{layer.units:,}</td>',
            f'<td style="{_CELL}" title="{html.escape(meaning)}">'
            f"{html.escape(layer.activation)}</td>",
            f'<td style="{_CELL}text-align:right">{layer.weights:,}</td>',
            f'<td style="{_CELL}text-align:right">{layer.biases:,}</td>',
            # The count and its share may wrap under the bar: on a projector the table was
            # cut after "314,000 (97.4%".
            f'<td style="{_CELL}"><span style="{_BAR}width:{max(share * 120, 1):.0f}px">'
            f'</span>{layer.parameters:,} <span style="white-space:nowrap">({share:.1%})</span>'
            "</td>",
        ]
        rows.append(f'<tr data-parameters="{layer.parameters}">{"".join(cells)}</tr>')
    # The wrapper scrolls sideways on a narrow screen instead of widening the page, and takes
    # the keyboard's focus (tabindex) so that arrow keys scroll it too.
    return (
        '<div role="region" aria-label="Parameters per layer" tabindex="0" '
        'style="overflow-x:auto"><table class="parameter-table" style="border-collapse:'
        f'collapse;font-size:0.9rem;width:100%"><thead><tr>{header}</tr></thead><tbody>'
        f"{''.join(rows)}</tbody></table></div>"
    )


def network_panel(config: TrainingConfig) -> None:
    """Where the parameters are: one row per layer (needs nothing but the config)."""
    with st.expander("Where the parameters are", expanded=True):
        st.html(parameter_table_html(config))


def headline(
    config: TrainingConfig,
    estimate_seconds: float | None = None,
    measured_runs: int = 0,
    start_seconds: float = 0.0,
) -> None:
    """The network's shape, its total parameters and the estimated training time, in one row.

    `estimate_seconds` None: not known yet (the data is still loading). `start_seconds` is the
    part of the estimate still to pay for starting a trainer (loading TensorFlow).
    """
    widths = " → ".join(f"{width:,}" for width in layer_widths(config))
    with st.container(horizontal=True, wrap=True, gap="large", vertical_alignment="center"):
        st.markdown(f"**{widths}**  \n(pixels → hidden layers → 10 digits)", width=300)
        # Markdown, not st.metric: the page's first paint, and Markdown is drawn at once where
        # a metric waits for its own script to load in the browser.
        st.markdown(
            f"{TOTAL_LABEL}\n## {total_parameters(config):,}",
            help="Every weight and bias of every layer: inputs × neurons + neurons, summed.",
            anchors=False,
            width=200,
        )
        if estimate_seconds is None:
            st.metric("Estimated training time", "…", width=200)
            return
        source = (
            f"From the speed of {measured_runs} earlier run(s) on this computer."
            if measured_runs
            else "A rough guess until the first run measures this computer's speed."
        )
        if start_seconds > 0.5:
            source += f" It includes about {duration(start_seconds)} to start a trainer."
        st.metric(
            "Estimated training time", f"≈ {duration(estimate_seconds)}", help=source, width=200
        )
