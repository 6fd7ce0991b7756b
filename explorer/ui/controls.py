"""Sidebar controls: sliders and choices that describe one TrainingConfig, and the Train button.

Widget keys equal the config's field names (tests and the URL find them by key). Moving a slider
never trains: it only changes which configuration the page shows.
"""

from __future__ import annotations

import streamlit as st

from explorer.config import (
    ACTIVATIONS,
    BATCH_SIZE_CHOICES,
    BOUNDS,
    DEFAULT_LEARNING_RATES,
    OPTIMIZERS,
    TrainingConfig,
)

# Learning rates offered on a roughly logarithmic ladder; None = the optimizer's Keras default.
LEARNING_RATE_CHOICES = (None, 0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
TRAIN_FRACTION_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)

DEFAULTS = TrainingConfig()


def config_controls(train_samples: int | None = None) -> TrainingConfig | None:
    """Draw the sidebar controls and return the chosen config (None, with a message, if invalid)."""
    sidebar = st.sidebar
    sidebar.header("Network")
    hidden1 = sidebar.slider(
        "Neurons in hidden layer 1",
        1,
        int(BOUNDS["hidden1"][1]),
        DEFAULTS.hidden1,
        key="hidden1",
        help="The tutorial uses 400. More neurons: more parameters to learn, more capacity.",
    )
    hidden2 = sidebar.slider(
        "Neurons in hidden layer 2",
        0,
        int(BOUNDS["hidden2"][1]),
        DEFAULTS.hidden2,
        key="hidden2",
        help="The tutorial uses 20. Set 0 to remove the second hidden layer.",
    )
    sidebar.header("Training")
    batch_size = sidebar.select_slider(
        "Batch size",
        options=BATCH_SIZE_CHOICES,
        value=DEFAULTS.batch_size,
        key="batch_size",
        help="Examples per gradient step (the tutorial's 200). Small batches: more, noisier steps.",
    )
    epochs = sidebar.slider(
        "Epochs",
        1,
        int(BOUNDS["epochs"][1]),
        DEFAULTS.epochs,
        key="epochs",
        help="Passes over the whole training set (the tutorial's 5).",
    )
    with sidebar.expander("More settings"):
        optimizer = st.selectbox(
            "Optimizer",
            OPTIMIZERS,
            index=OPTIMIZERS.index(DEFAULTS.optimizer),
            key="optimizer",
            help="SGD is the tutorial's plain gradient descent; Adam and RMSprop adapt the step.",
        )
        learning_rate = st.selectbox(
            "Learning rate",
            LEARNING_RATE_CHOICES,
            index=0,
            key="learning_rate",
            format_func=lambda rate: (
                f"Keras default ({DEFAULT_LEARNING_RATES[optimizer]:g})"
                if rate is None
                else f"{rate:g}"
            ),
            help="How big each step is. Too big: the loss jumps around. Too small: it crawls.",
        )
        activation = st.selectbox(
            "Activation",
            ACTIVATIONS,
            index=ACTIVATIONS.index(DEFAULTS.activation),
            key="activation",
            help="The non-linearity of the hidden layers (the tutorial's ReLU).",
        )
        seed = st.number_input(
            "Seed",
            min_value=0,
            max_value=int(BOUNDS["seed"][1]),
            value=DEFAULTS.seed,
            step=1,
            key="seed",
            help="Same seed and settings give exactly the same result.",
        )
        train_fraction = st.select_slider(
            "Share of the training set",
            options=TRAIN_FRACTION_CHOICES,
            value=DEFAULTS.train_fraction,
            key="train_fraction",
            format_func=lambda share: _fraction_label(share, train_samples),
            help="Train on a class-balanced subset for quick experiments.",
        )
    try:
        return TrainingConfig(
            hidden1=int(hidden1),
            hidden2=int(hidden2),
            batch_size=int(batch_size),
            epochs=int(epochs),
            optimizer=optimizer,
            learning_rate=learning_rate,
            activation=activation,
            seed=int(seed),
            train_fraction=float(train_fraction),
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


def _fraction_label(share: float, train_samples: int | None) -> str:
    if train_samples:
        return f"{share:.0%} ({round(share * train_samples):,})"
    return f"{share:.0%}"
