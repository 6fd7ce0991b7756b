"""Shareable links: the page's state in the address bar, as TensorFlow Playground does.

    state = parse_query({"hidden2": "0", "view": "compare", "runs": "ab12...,cd34..."})
    state.config        # a valid TrainingConfig (defaults where the link said nothing or nonsense)
    state.warnings      # one plain sentence per value that was ignored, for the page to show
    to_query(config, view="compare", run_ids=[...], baseline=None)   # the parameters to write

On the page, `apply_link_once` reads the address on a session's first run and puts its validated
values into the widgets' state; `sync_link` writes the current state back after every run, so the
address bar always holds a link that reproduces what is on screen.

Nothing from a link reaches the backend unchecked: every value goes through TrainingConfig's
validation or the run-id pattern, and a bad value falls back to the default with a warning. The
warnings quote the link's text cut short, and the page shows them as plain text.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import streamlit as st

from explorer.config import TrainingConfig
from explorer.store.records import RUN_ID_PATTERN
from explorer.ui import controls, plain

# The longest piece of a link quoted back in a warning: enough to recognise, never a wall.
QUOTE_CHARACTERS = 40
MAX_WARNINGS = 5

VIEWS = ("explore", "compare", "sweep", "class")
MAX_COMPARED_RUNS = 4
CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(TrainingConfig))
# The page's other settings in a link, each with the text it accepts. A sweep's own meaning is
# checked by the sweep view, which explains what it ignores.
OPTIONS = {
    "present": re.compile(r"^[01]$"),
    "lesson": re.compile(r"^[a-z0-9-]{1,40}$"),
    "step": re.compile(r"^[1-9][0-9]?$"),
    "sweep": re.compile(r"^[a-z0-9_:.,;-]{1,300}$"),
    "seeds": re.compile(r"^[0-9,]{1,30}$"),  # 3, or the list it stands for: 0,1,2
}
# "teacher" is taken out of the address by explorer.ui.roles; it is never echoed back.
OTHER_KEYS = ("view", "runs", "baseline", "teacher", *OPTIONS)


@dataclass(frozen=True)
class SharedState:
    """What a link asks for, already validated."""

    config: TrainingConfig = field(default_factory=TrainingConfig)
    view: str = "explore"
    run_ids: tuple[str, ...] = ()
    baseline: str | None = None
    warnings: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)  # OPTIONS that the link set


def parse_query(params: Mapping[str, str | Sequence[str]]) -> SharedState:
    """Validate query parameters one by one; keep the good ones, explain the bad ones."""
    warnings: list[str] = []
    values = {name: _last(value) for name, value in params.items()}

    unknown = sorted(set(values) - set(CONFIG_FIELDS) - set(OTHER_KEYS))
    if unknown:
        quoted = ", ".join(_quote(name) for name in unknown[:3])
        more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
        warnings.append(f"The link has settings this page does not know: {quoted}{more}.")

    config_values: dict[str, str] = {}
    for name in CONFIG_FIELDS:
        if name not in values:
            continue
        if len(values[name]) > QUOTE_CHARACTERS:
            warnings.append(f"Ignored {name} from the link: {_quote(values[name])} is too long.")
            continue
        try:
            TrainingConfig.from_mapping({name: values[name]})
        except ValueError as error:
            warnings.append(f"Ignored {name} from the link: {error}")
        else:
            config_values[name] = values[name]
    try:
        config = TrainingConfig.from_mapping(config_values)
    except ValueError as error:  # each value was fine alone; together they were not
        warnings.append(f"Ignored the link's settings: {error}")
        config = TrainingConfig()

    view = values.get("view", "explore").strip().lower()
    if view not in VIEWS:
        warnings.append(
            f"Ignored view={_quote(view)} from the link: it must be one of {', '.join(VIEWS)}."
        )
        view = "explore"

    run_ids = _run_ids(values.get("runs", ""), warnings)
    baseline = values.get("baseline", "").strip().lower() or None
    if baseline is not None and not RUN_ID_PATTERN.match(baseline):
        warnings.append(f"Ignored baseline={_quote(baseline)} from the link: not a run id.")
        baseline = None
    options = {}
    for name, pattern in OPTIONS.items():
        text = values.get(name, "").strip().lower()
        if not text:
            continue
        if pattern.match(text):
            options[name] = text
        else:
            warnings.append(f"Ignored {name}={_quote(text)} from the link: not a valid {name}.")
    if len(warnings) > MAX_WARNINGS:
        warnings[MAX_WARNINGS - 1 :] = [f"… and {len(warnings) - MAX_WARNINGS + 1} more problems."]
    return SharedState(config, view, run_ids, baseline, tuple(warnings), options)


def _quote(text: str) -> str:
    """A piece of a link, quoted and cut short for a warning (the page shows it as plain text)."""
    cut = text if len(text) <= QUOTE_CHARACTERS else text[: QUOTE_CHARACTERS - 1] + "…"
    return repr(cut)


def to_query(
    config: TrainingConfig,
    *,
    view: str = "explore",
    run_ids: Sequence[str] = (),
    baseline: str | None = None,
    options: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The query parameters for this state: only what differs from the defaults, so links stay
    short and a plain link means the tutorial's network."""
    query: dict[str, str] = {}
    default = TrainingConfig(optimizer=config.optimizer)
    for name in CONFIG_FIELDS:
        value = getattr(config, name)
        if name == "optimizer" and value != TrainingConfig().optimizer:
            query[name] = value
        elif name != "optimizer" and value != getattr(default, name):
            query[name] = f"{value:g}" if isinstance(value, float) else str(value)
    if view != "explore":
        query["view"] = view
    if run_ids:
        query["runs"] = ",".join(run_ids)
    if baseline:
        query["baseline"] = baseline
    query.update({name: text for name, text in (options or {}).items() if text})
    return query


def _last(value: str | Sequence[str]) -> str:
    # A key repeated in a URL arrives as a list; the last one wins, as in st.query_params.
    if isinstance(value, str):
        return value
    return str(value[-1]) if len(value) else ""


def _run_ids(text: str, warnings: list[str]) -> tuple[str, ...]:
    run_ids: list[str] = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if not RUN_ID_PATTERN.match(part):
            warnings.append(f"Ignored {_quote(part)} in runs= from the link: not a run id.")
        elif part not in run_ids:
            run_ids.append(part)
    if len(run_ids) > MAX_COMPARED_RUNS:
        warnings.append(
            f"The link names {len(run_ids)} runs; only the first {MAX_COMPARED_RUNS} are compared."
        )
        run_ids = run_ids[:MAX_COMPARED_RUNS]
    return tuple(run_ids)


# Plain (non-widget) keys: they survive runs in which their widgets are not drawn.
COMPARED = "compared_run_ids"
BASELINE = "baseline_run_id"
VIEW = "view"
PRESENT = "present"
LESSON_RUNS = "lesson_runs"  # the configs a lesson's Compare step puts side by side
_APPLIED = "link_applied"


def apply_link_once() -> bool:
    """On a session's first run, take the configuration, view and runs from the URL; return
    whether this was that run."""
    if st.session_state.get(_APPLIED):
        return False
    st.session_state[_APPLIED] = True
    state = parse_query(st.query_params.to_dict())
    controls.set_config(state.config)
    st.session_state[VIEW] = state.view
    st.session_state[COMPARED] = list(state.run_ids)
    st.session_state[BASELINE] = state.baseline
    st.session_state[PRESENT] = state.options.get("present") == "1"
    st.session_state["lesson"] = state.options.get("lesson")
    st.session_state["lesson_step"] = int(state.options.get("step", 1))
    for name in ("sweep", "seeds"):
        st.session_state[f"link_{name}"] = state.options.get(name)
    for warning in state.warnings:
        plain.alert("warning", warning)
    return True


def sync_link(config: TrainingConfig | None) -> None:
    """Write the current state into the URL (only when it changed, to spare the browser).

    `config` None means the last valid one (fragments rerun without the sidebar).
    """
    config = config or st.session_state.get(controls.LAST_CONFIG)
    if config is None:
        return
    state = st.session_state
    options = {
        "present": "1" if state.get(PRESENT) else "",
        "lesson": state.get("lesson") or "",
        "step": str(state.get("lesson_step", 1)) if state.get("lesson") else "",
        "sweep": state.get("link_sweep") or "",
        "seeds": state.get("link_seeds") or "",
    }
    query = to_query(
        config,
        view=state.get(VIEW, "explore"),
        run_ids=state.get(COMPARED, []),
        baseline=state.get(BASELINE),
        options=options,
    )
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
