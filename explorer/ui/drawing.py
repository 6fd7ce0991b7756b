"""Inside the network: draw a digit and see what each run predicts, what the first layer learned,
and take a run home.

    drawing.inside_panel(service, record)              # Explore: one run
    drawing.compare_panel(service, {"A": record, ...}) # Compare: one drawing through every run

The canvas is our own `st.components.v2` component (canvas.js and canvas.css beside this file,
no build step): white ink on black like MNIST, mouse and touch, a Clear button. The browser
sends the strokes once per stroke end; the drawing is prepared as MNIST's digits were
(explorer.data.drawing) and goes through each run's stored weights in NumPy
(explorer.inference): the server never loads TensorFlow.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import streamlit as st

from explorer.data.drawing import (
    CANVAS_SIDE,
    STROKE_WIDTH,
    checked_strokes,
    prepare_digit,
    strokes_to_canvas,
)
from explorer.inference import forward
from explorer.service.service import TrainingService
from explorer.store.records import RunRecord, StoreError
from explorer.ui import plain
from explorer.ui.resources import run_predictions, run_weights, show_chart
from explorer.views import charts, network
from explorer.views.digits import png_data_uri
from explorer.views.export import archive_name, run_archive

_HERE = Path(__file__).parent
_CANVAS = st.components.v2.component(
    "mnist_explorer_canvas",
    html='<div class="dc-wrap"><canvas class="dc-canvas" aria-label="Draw a digit here">'
    '</canvas><button type="button" class="dc-clear">Clear</button></div>',
    css=(_HERE / "canvas.css").read_text(),
    js=(_HERE / "canvas.js").read_text(),
)
SOURCE = "digit_source"
INSIDE_TABS = ("Draw a digit", "What the first layer learned", "Take it home")
INSIDE_TAB = "inside_tab"  # the open tab of `inside_panel`, in the session's state


def _strokes_changed() -> None:
    pass  # declares the component's "strokes" state; the page reads it on the rerun


def canvas(key: str) -> list[list[tuple[float, float]]]:
    """The drawing canvas; returns the strokes drawn so far (points 0..1 of the canvas).

    The value comes from the browser: ValueError, with a short message, for anything the
    canvas could not have sent (explorer.data.drawing.checked_strokes)."""
    try:
        strokes = checked_strokes((st.session_state.get(key) or {}).get("strokes") or [])
    except (ValueError, AttributeError):
        strokes = []  # never echo a crafted value back to the browser
    result = _CANVAS(
        key=key,
        data={"size": CANVAS_SIDE, "pen": STROKE_WIDTH / CANVAS_SIDE, "strokes": strokes},
        default={"strokes": []},
        on_strokes_change=_strokes_changed,
    )
    return checked_strokes(result.strokes or [])


def chosen_digit(service: TrainingService, key: str, first: RunRecord) -> np.ndarray | None:
    """The 28×28 digit to ask the networks about: drawn on the canvas, or a test digit (one of
    `first`'s mistakes, say). None, with a hint, while there is nothing to ask."""
    source = st.radio(
        "Input",
        ["draw", "test"],
        format_func={"draw": "Draw", "test": "A test digit"}.get,
        horizontal=True,
        key=f"{key}_{SOURCE}",
        label_visibility="collapsed",
    )
    data = service.data
    if source == "test":
        predictions = run_predictions(service, first.run_id)
        mistakes = np.flatnonzero(predictions.predicted_labels != data.y_test)
        mistakes_only = st.toggle("Only its mistakes", value=True, key=f"{key}_mistakes")
        pool = mistakes if mistakes_only and len(mistakes) else np.arange(len(data.y_test))
        position = st.number_input(
            f"Which one (0 to {len(pool) - 1})", 0, len(pool) - 1, 0, key=f"{key}_pick"
        )
        index = int(pool[int(position)])
        st.caption(f"Test digit {index}: a {int(data.y_test[index])}.")
        return data.x_test[index]
    try:
        strokes = canvas(f"{key}_canvas")
    except ValueError as error:
        plain.alert("warning", str(error))
        return None
    if not strokes:
        st.caption("Draw a digit with the mouse or a finger.")
        return None
    scale = CANVAS_SIDE
    drawn = strokes_to_canvas([[(x * scale, y * scale) for x, y in s] for s in strokes])
    try:
        return prepare_digit(drawn)
    except ValueError as error:
        plain.alert("info", str(error))
        return None


def _show_input(digit: np.ndarray) -> None:
    # Drawn pixel by pixel (not smoothed): these 784 values are all the network gets.
    st.html(
        f'<img src="{png_data_uri(digit)}" width="112" height="112" alt="the prepared digit" '
        'style="image-rendering:pixelated;background:#000;border-radius:4px">'
        '<div style="font-size:0.85rem;opacity:0.7">What the network sees (28×28)</div>'
    )


def inside_panel(service: TrainingService, record: RunRecord) -> None:
    """Explore: draw (or pick) a digit for this run; its first layer; its download."""
    st.markdown("**Inside the network**")
    # The tabs tell the server which one is open (a switch reruns the page), and only the open
    # one of the last two is drawn: the first layer's pictures (about 270 kB of HTML) and the
    # download's zip went out to every session on every rerun, a slider move included, while
    # the class looks at the canvas. The canvas is always drawn: a tab not drawn would forget
    # the drawing on it.
    draw_tab, weights_tab, home_tab = st.tabs(list(INSIDE_TABS), key=INSIDE_TAB, on_change="rerun")
    with draw_tab:
        _ask(service, {"": record}, key="explore")
    if weights_tab.open:
        with weights_tab:
            _first_layer(service, record, f"weights-{record.run_id}")
    if home_tab.open:
        with home_tab:
            _download(service, record)


def compare_panel(service: TrainingService, runs: dict[str, RunRecord]) -> None:
    """Compare: one drawing through every run side by side; their first layers side by side."""
    st.markdown("**Draw once, ask every run**")
    _ask(service, runs, key="compare")
    with st.expander("What the first layers learned"):
        for column, (name, record) in zip(st.columns(len(runs)), runs.items(), strict=True):
            with column:
                st.caption(f"{name}: {record.config.label()}")
                _first_layer(service, record, f"weights-{record.run_id}", count=16)


def _ask(service: TrainingService, runs: dict[str, RunRecord], key: str) -> None:
    input_column, answers_column = st.columns([1, 2], gap="large")
    with input_column:
        digit = chosen_digit(service, key, next(iter(runs.values())))
        if digit is not None:
            _show_input(digit)
    if digit is None:
        return
    with answers_column:
        answers = {}
        try:
            for name, record in runs.items():
                result = forward(
                    run_weights(service, record.run_id), record.config.activation, digit
                )
                answers[name] = (record, result)
        except StoreError as error:
            plain.alert("error", str(error))
            return
        guesses = {int(result.predictions[0]) for _, result in answers.values()}
        if len(runs) > 1:
            verdict = "The runs agree." if len(guesses) == 1 else "The runs disagree!"
            st.markdown(f"**{verdict}**")
        for column, (name, (record, result)) in zip(
            st.columns(len(answers)), answers.items(), strict=True
        ):
            with column:
                guess = int(result.predictions[0])
                confidence = float(result.probabilities[0, guess])
                label = f"{name}: " if name else ""
                st.metric(f"{label}the network says", str(guess), help=f"{confidence:.0%} sure")
                show_chart(
                    ("probabilities", record.run_id, digit.tobytes()),
                    lambda result=result: charts.probability_bars(result.probabilities[0]),
                )
                if len(runs) == 1:
                    frame = network.activation_frame(result)
                    show_chart(
                        ("activations", record.run_id, digit.tobytes()),
                        lambda frame=frame: charts.activation_strip(frame),
                    )


def _first_layer(service: TrainingService, record: RunRecord, key: str, count: int = 64) -> None:
    try:
        weights = run_weights(service, record.run_id)
    except StoreError as error:
        plain.alert("error", str(error))
        return
    st.markdown(network.CLEARER_PICTURES)
    st.caption(network.READING_GUIDE)
    st.html(first_layer_html(service, record.run_id, weights, count))


@st.cache_resource(max_entries=32, show_spinner=False)
def first_layer_html(
    _service: TrainingService, run_id: str, _weights: list[np.ndarray], count: int
) -> str:
    """The grid of a finished run's first-layer pictures, each with its favourite digits, made
    once per (run, count) and shared by every session: `_weights` are the run's stored weights
    (`run_weights`), which never change for a run id.

    Why: the favourite digits push 2,000 test digits through the layer and sort them, about a
    third of a result page's rerun, and the page draws this tab on every rerun (a class's burst
    of slider moves asks for it 30 times at once)."""
    pictures = network.weight_pictures(_weights, count=count)
    pool = _service.data.x_test[: network.FAVOURITE_POOL]
    favourites = network.favourite_digits(_weights, pictures.units, pool)
    return network.weight_grid_html(pictures, columns=8 if count > 16 else 4, favourites=favourites)


def _download(service: TrainingService, record: RunRecord) -> None:
    st.caption(
        "A zip with the trained Keras model (.keras), its settings (JSON), its learning curves "
        "and scores (CSV) and its confusion matrix (PNG)."
    )
    try:
        archive = _archive(service, record)
    except StoreError as error:
        plain.alert("info", str(error))
        return
    st.download_button(
        "Download this run",
        archive,
        file_name=archive_name(record),
        mime="application/zip",
        icon=":material/download:",
        key=f"export_{record.run_id}",
    )


@st.cache_data(max_entries=16, show_spinner=False)
def _archive_bytes(_service: TrainingService, run_id: str) -> bytes:
    record = _service.get(run_id)
    return run_archive(record, _service.keras_model(run_id))


def _archive(service: TrainingService, record: RunRecord) -> bytes:
    return _archive_bytes(service, record.run_id)
