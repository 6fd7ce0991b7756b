"""The Sweep view: one or two settings over lists of values (optionally × seeds), queued through
the service, drawn as one picture that fills in as the runs finish.

The sweep lives in the link (`?view=sweep&sweep=hidden1:16,64,256;epochs:1,5&seeds=3`), its
base is the configuration of the Explore view, and a click on a cell opens that run there.
"""

from __future__ import annotations

import streamlit as st

from explorer.config import ACTIVATIONS, BATCH_SIZE_CHOICES, FIELD_LABELS, OPTIMIZERS, PRECISIONS
from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.ui import controls, links, live, plain, roles
from explorer.ui.resources import chart_spec, show_chart
from explorer.views import repeats, sweep_charts, sweeps
from explorer.views.stats import TEST_EXPLANATION

# The figures a sweep can show, labelled as its charts are (views.metrics_table).
METRICS = {key: metric.label for key, metric in repeats.RUN_METRICS.items()}
SWEEP_TEXT, SEEDS = "link_sweep", "link_seeds"  # the link's sweep=, seeds= (links.py)
# Values offered for each setting (any other can be typed in).
LADDERS = {
    "hidden1": (8, 16, 32, 64, 128, 256, 512, 1024),
    "hidden2": (0, 10, 20, 50, 100, 200, 512),
    "batch_size": BATCH_SIZE_CHOICES[:12],
    "epochs": (1, 2, 3, 5, 10, 20, 50),
    "optimizer": OPTIMIZERS,
    "learning_rate": controls.LEARNING_RATE_CHOICES,
    "activation": ACTIVATIONS,
    "train_fraction": controls.TRAIN_FRACTION_CHOICES,
    "precision": PRECISIONS,
}


def sweep_page(service: TrainingService) -> None:
    base = st.session_state.get(controls.LAST_CONFIG)
    st.subheader("Sweep")
    st.caption(
        "Vary one or two settings of the network from the Explore view and see the result of "
        "every combination in one picture. Each run is an ordinary run, shared with the class."
    )
    with st.container():  # one slot for what comes and goes above the live part (page.py)
        spec = _spec_from_inputs(base)
    if spec is None:
        return
    configs = sweeps.sweep_configs(spec)
    pending = any(sweeps.is_active(service.latest(config)) for config in configs)
    live.part(_sweep_part, pending=pending, args=(service, spec))


def _sweep_part(service: TrainingService, spec: sweeps.SweepSpec) -> bool:
    """The plan ("3 runs: 1 stored, 2 to train"), Train, and the picture: redrawn every second
    or two while a cell is pending. Returns whether one is."""
    configs = sweeps.sweep_configs(spec)
    records = {config: service.latest(config) for config in configs}
    plan = sweeps.plan_runs(configs, service.estimate, records, service.slots)
    with st.container(horizontal=True, vertical_alignment="center", gap="medium"):
        plain.caption(plan.text)
        if plan.to_train and st.button(
            f"Train {plan.to_train} run(s)",
            key="sweep_train",
            type="primary",
            icon=":material/play_arrow:",
        ):
            _submit(service, configs)
    sweep_picture(service, spec, records)
    return any(sweeps.is_active(record) for record in records.values())


def _spec_from_inputs(base) -> sweeps.SweepSpec | None:
    """The knob pickers, filled from the link; the spec they describe (None if incomplete)."""
    linked = None
    if text := st.session_state.get(SWEEP_TEXT):
        try:
            seeds = sweeps.parse_seeds(st.session_state.get(SEEDS) or "")
            linked = sweeps.SweepSpec.parse(text, base, seeds)
        except ValueError as error:
            plain.alert("warning", f"Ignored the sweep from the link: {error}")
        else:
            fixed = sweeps.fixed_settings(text)
            if fixed and linked.base != base:
                # A setting given one value is not swept: it is set, for every cell.
                controls.set_config(base := linked.base)
            if fixed:
                plain.caption(sweeps.fixed_text(fixed))
    names = list(sweeps.KNOBS)
    with st.container(horizontal=True, wrap=True, gap="medium"):
        knobs = []
        for position in (0, 1):
            default = linked.knobs[position] if linked and len(linked.knobs) > position else None
            knob = _knob_picker(position, names, default)
            if knob is not None:
                knobs.append(knob)
        seeds = st.number_input(
            "Seeds per cell",
            1,
            10,
            linked.seeds if linked else 1,
            key="sweep_seeds",
            width=150,
            help="2 or more repeats every cell with seeds 0, 1, …: error bars.",
        )
    if not knobs:
        st.info("Choose a setting and its values, e.g. Neurons in hidden layer 1: 16, 64, 256.")
        st.session_state[SWEEP_TEXT] = None
        return None
    try:
        spec = sweeps.SweepSpec(tuple(knobs), base, int(seeds))
    except ValueError as error:
        plain.alert("warning", str(error))
        return None
    st.session_state[SWEEP_TEXT] = spec.text()
    st.session_state[SEEDS] = str(spec.seeds) if spec.seeds > 1 else None
    links.sync_link(None)
    return spec


def _knob_picker(position: int, names: list[str], default) -> sweeps.Knob | None:
    choices = [None, *names] if position else names
    name = st.selectbox(
        "Setting" if not position else "Second setting (optional)",
        choices,
        index=choices.index(default.name) if default else 0,
        format_func=lambda name: "none" if name is None else FIELD_LABELS[name],
        key=f"sweep_knob_{position}",
        width=260,
    )
    if name is None:
        return None
    example = list(sweeps.SweepSpec.parse(sweeps.KNOB_EXAMPLES[name]).knobs[0].values)
    chosen = list(default.values) if default and default.name == name else example
    offered = sorted({*LADDERS.get(name, ()), *example, *chosen}, key=_order)
    values = st.multiselect(
        f"Values of {FIELD_LABELS[name].lower()}",
        offered,
        default=chosen,
        key=f"sweep_values_{position}_{name}",
        accept_new_options=True,
        width=320,
    )
    return sweeps.Knob(name, tuple(values)) if len(values) >= 2 else None


def _order(value) -> tuple:
    return (0, float(value), "") if isinstance(value, int | float) else (1, 0.0, str(value))


def _submit(service: TrainingService, configs) -> None:
    queued = 0
    try:
        for config in configs:
            if not service.submit(config, roles.requester()).cached:
                queued += 1
    except LimitError as error:
        plain.alert("warning", f"{error} ({queued} of the sweep's runs were queued.)")
        return
    st.toast(f"Queued {queued} run(s); the picture fills in as they finish.")
    st.rerun()  # the plan and the picture now follow the runs


def sweep_picture(service: TrainingService, spec: sweeps.SweepSpec, records: dict) -> None:
    """The picture, with the metric it shows (a click on a cell opens that cell's run)."""
    metric = st.selectbox(
        "Show", list(METRICS), format_func=METRICS.get, key="sweep_metric", width=320
    )
    frame = sweeps.sweep_frame(spec, records, metric)
    plain.caption(sweeps.progress_text(frame))
    # The charts' specs are built once per picture, shared by every session that shows it: the
    # key holds the cells' figures, which change as each seed's run is stored.
    sweep_key = (spec.text(), spec.seeds, spec.base)
    drawn = chart_spec(
        ("sweep", metric, *sweep_key, frame.to_json()),
        lambda: sweep_charts.sweep_chart(spec, frame),
    )
    # Clickable once a cell has a point (pending marks are not).
    clickable = bool(drawn.get("params")) or any(
        layer.get("params") for layer in drawn.get("layer", [])
    )
    event = st.vega_lite_chart(
        drawn,
        on_select="rerun" if clickable else "ignore",
        key=f"sweep_chart_{metric}",
        width="stretch",
    )
    if spec.seeds > 1:
        st.caption(
            "Error bars: the spread over the seeds (± 1 standard deviation).", help=TEST_EXPLANATION
        )
    with st.expander("Parameters against accuracy: what accuracy costs"):
        cost_frame = sweeps.sweep_frame(spec, records, "test_accuracy")
        show_chart(
            ("sweep-cost", *sweep_key, cost_frame.to_json()),
            lambda: sweep_charts.cost_chart(spec, cost_frame),
        )
    cells = (event.get("selection", {}).get("cell") or []) if clickable else []
    if cells:
        chosen = sweeps.cell_configs(spec, cells[0])
        st.button(
            "Open this cell's run in Explore",
            key="sweep_open",
            icon=":material/open_in_new:",
            on_click=_open,
            args=(chosen[0],),
        )


def _open(config) -> None:
    controls.set_config(config)
    st.session_state[links.VIEW] = "explore"
    st.rerun()  # the whole page: the button may sit in a part that redraws alone
