"""The control bar: the sliders and choices of one TrainingConfig, Train and Repeat.

    config, action = control_bar(estimate)   # action: "train", "repeat" or None

The bar sits at the top of the page, not in a sidebar: on a projector the sidebar starts closed,
and Train must be in sight. Its widgets wrap onto more lines when the page is narrow.

Widget keys equal the config's field names (tests and links find them by key). Their values live
in st.session_state, set once from the defaults or from a link (`set_config`) before the widgets
are drawn. Moving a slider never trains: it only changes which configuration is shown.
"""

from __future__ import annotations

import secrets

import streamlit as st

from explorer.architecture import total_parameters
from explorer.config import (
    ACTIVATIONS,
    BATCH_SIZE_CHOICES,
    BOUNDS,
    DEFAULT_LEARNING_RATES,
    FIELD_LABELS,
    OPTIMIZERS,
    PRECISIONS,
    TrainingConfig,
    fast_precision,
)
from explorer.ui import lazy, plain

# Learning rates offered on a roughly logarithmic ladder (each optimizer's default is on it).
LEARNING_RATE_CHOICES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
TRAIN_FRACTION_CHOICES = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
# The hidden-layer sliders step along a ladder (the tutorial's 400 and 20 on it): an arrow key
# goes from 64 to 128, where a slider over 1..1024 took hundreds of presses from 400 to 64. An
# exact size is typed under More settings (the "_exact" inputs) and joins the ladder.
WIDTH_LADDERS = {
    "hidden1": (1, 2, 4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 400, 512, 768, 1024),
    "hidden2": (0, 1, 2, 4, 8, 16, 20, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512),
}
EXACT = "_exact"  # suffix of the keys of the exact-size inputs
MORE_SETTINGS = ("optimizer", "learning_rate", "activation", "precision", "seed", "train_fraction")
# The activations in a student's words, the name first (it is what links and tables say).
ACTIVATION_LABELS = {
    "relu": "relu (negatives become 0)",
    "tanh": "tanh (squashed into −1 … 1)",
    "sigmoid": "sigmoid (squashed into 0 … 1)",
}
REPEATS = "repeat_count"
LAST_CONFIG = "last_valid_config"  # a plain copy: it survives runs that draw no controls
MORE = "more_settings"  # whether "More settings" is open (explorer.ui.lazy)
MORE_SEEN = "more_settings_seen"  # the changed settings the viewer has been shown
MORE_DRAWN = "more_settings_drawn"  # whether the last run drew the settings inside it
SLIDER_WIDTH = 240


def set_config(config: TrainingConfig) -> None:
    """Put `config` into the widgets' state (call before the widgets are drawn)."""
    st.session_state.update(config.to_dict())
    st.session_state[LAST_CONFIG] = config


def control_bar(estimate_text: str | None = None) -> tuple[TrainingConfig | None, str | None]:
    """Draw the controls; return the chosen config (None, with a message, if invalid) and the
    button pressed on this run: "train", "repeat" or None."""
    state = st.session_state
    config_from_state()  # fills in what Streamlit forgot
    with st.container(border=True, key="controls"):
        with st.container(horizontal=True, wrap=True, gap="medium"):
            ladder_help = (
                " Arrow keys step along 16, 32, 64, …; type an exact size under More settings."
            )
            st.select_slider(
                FIELD_LABELS["hidden1"],
                options=_with_current(WIDTH_LADDERS["hidden1"], state["hidden1"]),
                key="hidden1",
                width=SLIDER_WIDTH,
                help="The tutorial uses 400. More neurons: more parameters to learn." + ladder_help,
            )
            st.select_slider(
                FIELD_LABELS["hidden2"],
                options=_with_current(WIDTH_LADDERS["hidden2"], state["hidden2"]),
                key="hidden2",
                width=SLIDER_WIDTH,
                help="The tutorial uses 20. Set 0 to remove the second hidden layer." + ladder_help,
            )
            st.select_slider(
                FIELD_LABELS["batch_size"],
                options=_with_current(BATCH_SIZE_CHOICES, state["batch_size"]),
                key="batch_size",
                width=SLIDER_WIDTH,
                help="Examples per gradient step (the tutorial's 200). Small: more, noisier steps.",
            )
            st.slider(
                FIELD_LABELS["epochs"],
                1,
                int(BOUNDS["epochs"][1]),
                key="epochs",
                width=SLIDER_WIDTH,
                help="Passes over the whole training set (the tutorial's 5).",
            )
        _more_settings(state)
        with st.container(horizontal=True, wrap=True, vertical_alignment="bottom", gap="small"):
            config = _current_config()
            train = st.button(
                "Train",
                key="train",
                type="primary",
                icon=":material/play_arrow:",
                disabled=config is None,
                help="Train this configuration (or show its stored result at once).",
            )
            repeat = st.button(
                "Repeat",
                key="repeat",
                icon=":material/replay:",
                disabled=config is None,
                help="Train seeds 0, 1, … of this configuration, to see how much the result "
                "varies from seed to seed. Each seed is an ordinary run, shared with the class.",
            )
            st.number_input(
                "How many seeds Repeat trains (2 to 10)",
                min_value=2,
                max_value=10,
                value=3,
                step=1,
                key=REPEATS,
                width=110,
                label_visibility="collapsed",  # the row stays one line high on a projector
            )
            st.caption("seeds")
            if config is not None:
                # In sight of the sliders on a projector too, where the network's headline
                # below is under the fold: the class sees the count change as a slider moves.
                with st.container(key="parameter_count", width="content"):
                    st.markdown(
                        f"**{total_parameters(config):,}** parameters",
                        help="Every weight and bias of every layer: inputs × neurons + "
                        "neurons, summed. Where they are: the table below.",
                    )
            if estimate_text:
                st.caption(estimate_text)
    return config, "train" if train else "repeat" if repeat else None


def _more_settings(state) -> None:
    # Against the tutorial's settings; the learning rate against the chosen optimizer's default.
    tutorial, rate_default = TrainingConfig(), DEFAULT_LEARNING_RATES[state["optimizer"]]
    changed = [
        FIELD_LABELS[name].lower()
        for name in MORE_SETTINGS
        if state.get(name) != (rate_default if name == "learning_rate" else getattr(tutorial, name))
    ]
    # Settings a link or a lesson changed are never hidden: the expander names them, and opens
    # when they are new to this viewer (who may close it again).
    label = "More settings" + (f" (changed: {', '.join(changed)})" if changed else "")
    if changed and changed != st.session_state.get(MORE_SEEN):
        st.session_state[MORE] = True
    st.session_state[MORE_SEEN] = changed
    # Its contents are drawn only while it is open: closed, it costs a rerun nothing (lazy.py).
    with lazy.expander(label, MORE) as open_now:
        if open_now:
            _more_widgets(state)
    st.session_state[MORE_DRAWN] = open_now


def _more_widgets(state) -> None:
    with st.container(horizontal=True, wrap=True, gap="medium"):
        st.selectbox(
            FIELD_LABELS["optimizer"],
            OPTIMIZERS,
            key="optimizer",
            width=SLIDER_WIDTH,
            on_change=_optimizer_changed,
            help="SGD is the tutorial's plain gradient descent; Adam and RMSprop adapt it.",
        )
        optimizer = state["optimizer"]
        default_rate = DEFAULT_LEARNING_RATES[optimizer]
        # A slider over the ladder, not a select box: under load, fast key presses on a slider
        # above cut script runs short, and a select box drawn after that point returned its
        # first option (0.0001) while still showing 0.01, so Train used 0.0001. The slider
        # widgets in the same runs kept their values (browser test under load).
        st.select_slider(
            FIELD_LABELS["learning_rate"],
            options=_with_current(LEARNING_RATE_CHOICES, state["learning_rate"]),
            key="learning_rate",
            width=SLIDER_WIDTH,
            format_func=lambda rate: (
                f"{rate:g}" + (f" ({optimizer.upper()}'s default)" if rate == default_rate else "")
            ),
            help="How big each step is. Too big: the loss jumps around. Too small: it crawls.",
        )
        st.selectbox(
            FIELD_LABELS["activation"],
            ACTIVATIONS,
            key="activation",
            width=SLIDER_WIDTH,
            format_func=lambda name: ACTIVATION_LABELS.get(name, name),
            help="What each hidden neuron does with its weighted sum before passing it on "
            "(the tutorial's ReLU). Without it, all the layers together could do no more than one.",
        )
        st.selectbox(
            FIELD_LABELS["precision"],
            PRECISIONS,
            key="precision",
            width=SLIDER_WIDTH,
            format_func=_precision_label,
            help="float32 is the tutorial's. bfloat16 rounds the hidden layers' inputs and "
            "weights to 8 significant bits for their products (sums and stored weights stay "
            "float32): about the same accuracy, faster on CPUs that have it (the tutorial's "
            "network trains about 1.2 times as fast on AVX512-BF16; see the README).",
        )
        st.select_slider(
            FIELD_LABELS["train_fraction"],
            options=_with_current(TRAIN_FRACTION_CHOICES, state["train_fraction"]),
            key="train_fraction",
            width=SLIDER_WIDTH,
            format_func=lambda share: f"{share:.0%}",
            help="Train on a class-balanced subset for quick experiments.",
        )
        st.number_input(
            FIELD_LABELS["seed"],
            min_value=0,
            max_value=int(BOUNDS["seed"][1]),
            step=1,
            key="seed",
            width=160,
            help="The same seed gives the same starting weights and the same order of the "
            "data, so the same settings give exactly the same result.",
        )
        st.button(
            "New seed",
            key="new_seed",
            icon=":material/casino:",
            on_click=_new_seed,
            help="Pick another random seed: other starting weights, another data order.",
        )
        for name in WIDTH_LADDERS:
            state[name + EXACT] = state[name]  # what the slider above shows
            st.number_input(
                f"{FIELD_LABELS[name]}, exact",
                min_value=int(BOUNDS[name][0]),
                max_value=int(BOUNDS[name][1]),
                step=1,
                key=name + EXACT,
                width=SLIDER_WIDTH,
                on_change=_exact_width_typed,
                args=(name,),
                help="Any size, typed; the slider above steps along a ladder of sizes.",
            )


def config_from_state() -> TrainingConfig | None:
    """The config the widgets hold now, before they are drawn (None if it is not valid), so
    the page can show its parameter count first.

    Streamlit forgets a widget's value when a run does not draw it (the Compare view does not):
    the last config this session had is put back, field by field. The settings of "More
    settings" are drawn only while it is open (explorer.ui.lazy), and Streamlit may give a
    widget it did not draw an older value back, so those are taken from the last config unless
    their widgets were drawn on the run before.
    """
    state = st.session_state
    remembered = state.get(LAST_CONFIG) or TrainingConfig()
    drawn = state.get(MORE_DRAWN, False)
    for name, value in remembered.to_dict().items():
        if name not in state or (name in MORE_SETTINGS and not drawn):
            state[name] = value
    try:
        return TrainingConfig.from_mapping(
            {name: state[name] for name in TrainingConfig.__dataclass_fields__}
        )
    except ValueError:
        return None


def _current_config() -> TrainingConfig | None:
    state = st.session_state
    try:
        config = TrainingConfig.from_mapping(
            {name: state[name] for name in TrainingConfig.__dataclass_fields__}
        )
    except ValueError as error:
        plain.alert("error", str(error))
        return None
    state[LAST_CONFIG] = config
    return config


def _optimizer_changed() -> None:
    # A new optimizer starts at its own default step size, as Keras would.
    st.session_state["learning_rate"] = DEFAULT_LEARNING_RATES[st.session_state["optimizer"]]


def _exact_width_typed(name: str) -> None:
    st.session_state[name] = int(st.session_state[name + EXACT])


def _new_seed() -> None:
    st.session_state["seed"] = secrets.randbelow(10_000)


def _with_current(choices: tuple, current) -> list:
    """The offered choices plus the current value (a link may ask for one off the ladder)."""
    return sorted({*choices, current}) if current is not None else list(choices)


def _precision_label(precision: str) -> str:
    if precision == "float32":
        return "float32 (the tutorial's)"
    fast = fast_precision() == "bfloat16"
    return "bfloat16 (fast on this computer)" if fast else "bfloat16 (slow on this computer)"
