"""Sidebar controls: sliders and choices that describe one TrainingConfig, and the Train button.

Widget keys equal the config's field names (tests and links find them by key). Their values live
in st.session_state, set once from the defaults or from a shared link (`set_config`) before the
widgets are drawn. Moving a slider never trains: it only changes which configuration is shown.
"""

from __future__ import annotations

import streamlit as st

from explorer.config import (
    ACTIVATIONS,
    BATCH_SIZE_CHOICES,
    BOUNDS,
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    PRECISIONS,
    TrainingConfig,
    fast_precision,
)

# Learning rates offered on a roughly logarithmic ladder; None = the optimizer's Keras default.
LEARNING_RATE_CHOICES = (None, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
TRAIN_FRACTION_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


def set_config(config: TrainingConfig) -> None:
    """Put `config` into the widgets' state (call before the widgets are drawn)."""
    values = config.to_dict()
    if config.learning_rate == DEFAULT_LEARNING_RATES[config.optimizer]:
        values["learning_rate"] = None  # shown as "Keras default"
    st.session_state.update(values)


def config_controls() -> TrainingConfig | None:
    """Draw the sidebar controls and return the chosen config (None, with a message, if invalid)."""
    if "hidden1" not in st.session_state:
        set_config(TrainingConfig())
    state = st.session_state
    sidebar = st.sidebar
    sidebar.header("Network")
    sidebar.slider(
        "Neurons in hidden layer 1",
        1,
        int(BOUNDS["hidden1"][1]),
        key="hidden1",
        help="The tutorial uses 400. More neurons: more parameters to learn, more capacity.",
    )
    sidebar.slider(
        "Neurons in hidden layer 2",
        0,
        int(BOUNDS["hidden2"][1]),
        key="hidden2",
        help="The tutorial uses 20. Set 0 to remove the second hidden layer.",
    )
    sidebar.header("Training")
    sidebar.select_slider(
        "Batch size",
        options=_with_current(BATCH_SIZE_CHOICES, state["batch_size"]),
        key="batch_size",
        help="Examples per gradient step (the tutorial's 200). Small batches: more, noisier steps.",
    )
    sidebar.slider(
        "Epochs",
        1,
        int(BOUNDS["epochs"][1]),
        key="epochs",
        help="Passes over the whole training set (the tutorial's 5).",
    )
    with sidebar.expander("More settings"):
        optimizer = st.selectbox(
            "Optimizer",
            OPTIMIZERS,
            key="optimizer",
            help="SGD is the tutorial's plain gradient descent; Adam and RMSprop adapt the step.",
        )
        st.selectbox(
            "Learning rate",
            _with_current(LEARNING_RATE_CHOICES, state["learning_rate"]),
            key="learning_rate",
            format_func=lambda rate: (
                f"Keras default ({DEFAULT_LEARNING_RATES[optimizer]:g})"
                if rate is None
                else f"{rate:g}"
            ),
            help="How big each step is. Too big: the loss jumps around. Too small: it crawls.",
        )
        st.selectbox(
            "Activation",
            ACTIVATIONS,
            key="activation",
            help="The non-linearity of the hidden layers (the tutorial's ReLU).",
        )
        st.selectbox(
            "Arithmetic",
            PRECISIONS,
            key="precision",
            format_func=_precision_label,
            help="float32 is the tutorial's. bfloat16 rounds the first layer's weights to 8 "
            "significant bits for its products (sums and stored weights stay float32): the "
            "same accuracy, several times faster on CPUs with AMX.",
        )
        st.number_input(
            "Seed",
            min_value=0,
            max_value=int(BOUNDS["seed"][1]),
            step=1,
            key="seed",
            help="Same seed and settings give exactly the same result.",
        )
        st.select_slider(
            "Share of the training set",
            options=_with_current(TRAIN_FRACTION_CHOICES, state["train_fraction"]),
            key="train_fraction",
            format_func=lambda share: f"{share:.0%}",
            help="Train on a class-balanced subset for quick experiments.",
        )
    try:
        return TrainingConfig.from_mapping(
            {name: state[name] for name in TrainingConfig.__dataclass_fields__}
        )
    except ValueError as error:
        sidebar.error(str(error))
        return None


def train_button(disabled: bool = False) -> bool:
    """The Train button at the bottom of the sidebar; True on the rerun it was pressed."""
    return st.sidebar.button(
        "Train",
        key="train",
        type="primary",
        icon=":material/play_arrow:",
        disabled=disabled,
        width="stretch",
        help="Train this configuration (or show its stored result at once if it exists).",
    )


def _with_current(choices: tuple, current) -> list:
    """The offered choices plus the current value (a link may ask for one off the ladder)."""
    if current in choices:
        return list(choices)
    return sorted([*choices, current], key=lambda value: (value is not None, value or 0))


def _precision_label(precision: str) -> str:
    fast = fast_precision() == "bfloat16"
    if precision == "float32":
        return "float32 (the tutorial's)"
    return "bfloat16 (fast on this computer)" if fast else "bfloat16 (slow on this computer)"
