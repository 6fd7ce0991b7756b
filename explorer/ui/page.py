"""The whole page, top to bottom. app.py calls `main()`.

Order matters for speed: the controls and the parameter count come first and need neither the
data nor TensorFlow, so they paint at once; the data loads next; TensorFlow loads only in the
trainer processes, which the first page view starts in the background.
"""

from __future__ import annotations

import contextlib
import time
import weakref

import streamlit as st

from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import Status, StoreError

# Only what the first paint needs is imported here: the views of results, comparisons and
# sweeps (with pandas and Altair) load after the controls are on the screen.
from explorer.ui import classview as class_view
from explorer.ui import (
    controls,
    lessons,
    links,
    live,
    network,
    plain,
    roles,
    styles,
    teacher,
    turns,
)
from explorer.ui.resources import get_service
from explorer.views.text import ended_message

# The runs this browser session started: their results are "new", not shown as cached.
SESSION_RUNS = "started_run_ids"
SHOWN_RUN = "shown_run_id"  # the run on screen, to say so if the teacher deletes it
SCROLL = "scroll_to_run"  # set when Train is pressed: bring the progress into view
REPEAT_OF = "repeat_of"  # the config (seed 0) this session last repeated
_DATA_LOADED: weakref.WeakSet = weakref.WeakSet()  # services whose MNIST is loaded
# Short names: on a projector the switch then fits beside the title, and Train stays in sight.
VIEW_NAMES = {"explore": "Explore", "compare": "Compare", "sweep": "Sweep", "class": "The class"}


def main() -> None:
    st.set_page_config(
        page_title="MNIST Explorer",
        page_icon=":material/neurology:",
        layout="wide",
        initial_sidebar_state="auto",
    )
    roles.setup()
    if links.apply_link_once():
        lessons.apply_current_step()  # a link to a lesson step sets what Next would set
    presenter = bool(st.session_state.get(links.PRESENT))
    styles.apply(presenter)
    service = _service()
    _header(presenter)
    # A slot drawn on every run, whether or not anything trains: the live parts below keep their
    # places on the page when the line comes and goes (a part that moved was left behind as a
    # stale copy by a timer that fired meanwhile).
    with st.container():
        if service is not None:
            service.touch(roles.requester())
            queue_line(service)
    if service is not None:
        class_view.banner(service)  # nothing at all when no challenge is on
    lessons.lesson_bar(service, presenter)
    try:
        _view(service)
        _sidebar(service, presenter)  # after the main part: the page paints first
    finally:
        if service is not None:
            # The first page view starts the trainers (TensorFlow loads meanwhile), after the
            # page has painted: on two cores, loading it first would slow the first paint.
            service.warm()


def _view(service: TrainingService | None) -> None:
    view = st.session_state.get(links.VIEW, "explore")
    if view == "explore":
        _explore_part(service)
        return
    links.sync_link(None)
    if service is None:
        return
    try:
        if view == "compare":
            from explorer.ui import comparison

            comparison.compare_page(service)
        elif view == "class":
            class_view.class_page(service)
        else:
            from explorer.ui import sweep

            sweep.sweep_page(service)
    except (StoreError, ValueError) as error:
        plain.alert("error", str(error))


def _header(presenter: bool) -> None:
    with st.container(horizontal=True, wrap=True, vertical_alignment="center", gap="medium"):
        if not presenter:  # on a projector every line counts: the class knows the name
            st.markdown("## MNIST Explorer", width="content")
        st.segmented_control(
            "View",
            list(VIEW_NAMES),
            format_func=VIEW_NAMES.get,
            key=links.VIEW,
            required=True,
            label_visibility="collapsed",
        )
    if not presenter:
        st.caption(
            "Choose a network, press **Train**, and see what each choice does to a "
            "handwritten-digit classifier. Runs are kept: going back to a configuration shows "
            "it at once."
        )


def _sidebar(service: TrainingService | None, presenter: bool) -> None:
    with st.sidebar:
        st.toggle(
            "Presenter mode",
            key=links.PRESENT,
            help="Large type for a projector; teacher-only controls hidden. Kept in the link.",
        )
        lessons.picker()
        if not presenter:
            roles.unlock_panel()
            if service is not None and roles.is_teacher():
                teacher.panel(service)
                class_view.teacher_controls(service)


@st.fragment
def _explore_part(service: TrainingService | None) -> None:
    """Explore as a fragment: a slider move reruns the controls, the parameter count and the
    result, not the header, the lesson bar or the sidebar. When a class moves its sliders at
    once, every rerun counts (bench/class_load.py: a burst of 29). What the rest of the page
    shows follows on the next whole-page run (a Train reruns the whole page)."""
    if service is not None:
        service.touch(roles.requester())  # as every page run does: this session is still here
    with turns.one_at_a_time(), live.enclosing():
        explore(service)


def explore(service: TrainingService | None) -> None:
    # The parameter count is drawn first (below the controls, which fill their place after):
    # it needs nothing but the config, and it is what a class looks at when a slider moves.
    early = controls.config_from_state()
    # Until the data is loaded the total paints at once into a slot, and again with the
    # estimate once the data is there; after that, the headline is drawn once per run, in
    # place, with no slot (in a class's burst of slider moves, every element counts).
    loaded = service is not None and service in _DATA_LOADED
    bar = st.container()
    slot = None if loaded else st.empty()  # loaded: the headline's own row takes its place
    headline = contextlib.nullcontext if slot is None else slot.container
    if early is not None and not loaded:
        with headline():  # the total paints now; the estimate needs the data
            network.headline(early)
    with bar:
        config, action = controls.control_bar()
        if config is not None and service is not None:
            class_view.limit_warnings(service, config)
    links.sync_link(config)
    if config is None:
        if slot is not None:
            slot.empty()
        return
    if config != early and not loaded:
        with headline():
            network.headline(config)
    if service is None:
        network.network_panel(config)
        return
    try:
        if service in _DATA_LOADED:  # a spinner costs a timer thread on every rerun
            data = service.data
        else:
            with st.spinner("Loading MNIST…"):
                data = service.data
            _DATA_LOADED.add(service)
    except (StoreError, ValueError) as error:
        plain.alert("error", str(error))
        network.network_panel(config)
        return
    with headline():
        network.headline(
            config,
            service.estimate(config),
            service.calibration().measured_runs,
            service.start_seconds(),
        )
    _data_banner(data)
    # One slot, drawn on every run, for what comes and goes above the run panel: the live parts
    # below keep their places on the page (see `run_panel`).
    with st.container():
        if action is not None:
            _start(service, config, action)
            if live.in_fragment_run():  # the queue line and the lesson bar follow the new run
                st.rerun(scope="app")
        _still_training_elsewhere(service, config)
    with st.container(key="run_panel"):
        run_panel(service, config)
        # Last in the panel: drawn first, it moved the live parts below it on this run only,
        # and a timer that fired meanwhile redrew a part at its old place, left there for good.
        if st.session_state.pop(SCROLL, False):
            _scroll_into_view("run_panel")
    network.network_panel(config)


def _start(service: TrainingService, config: TrainingConfig, action: str) -> None:
    """Train (or Repeat: seeds 0..N-1) the current config for this session."""
    seeds = range(int(st.session_state[controls.REPEATS])) if action == "repeat" else [None]
    started = st.session_state.setdefault(SESSION_RUNS, [])
    try:
        for seed in seeds:
            chosen = config if seed is None else config.replace(seed=seed)
            submission = service.submit(chosen, roles.requester())
            if not submission.cached:
                started.append(submission.run_id)
    except LimitError as error:
        plain.alert("warning", str(error))
        return
    if action == "repeat":
        st.session_state[REPEAT_OF] = config.replace(seed=0)
    st.session_state[SCROLL] = True


def _still_training_elsewhere(service: TrainingService, config: TrainingConfig) -> None:
    """A run this session started that is still going, for another config than the one shown:
    say so (moving a slider used to hide it), with a way back to it. Its share done follows
    the training on its own."""
    for run_id in reversed(st.session_state.get(SESSION_RUNS, [])):
        state = service.progress(run_id)
        if state is None or state.finished or state.config == config:
            continue
        live.part(_elsewhere_line, pending=True, args=(service, run_id))
        return


def _elsewhere_line(service: TrainingService, run_id: str) -> bool:
    state = service.progress(run_id)
    if state is None or state.finished:
        return False
    text = f"Still training: {state.config.label()} ({state.fraction:.0%} done)."
    with st.container(horizontal=True, vertical_alignment="center", key="elsewhere"):
        plain.alert("info", text)
        st.button("Show it", key=f"show_{run_id}", on_click=_show, args=(state.config,))
    return True


def _show(config: TrainingConfig) -> None:
    controls.set_config(config)
    st.rerun()  # the whole page: the button sits in a part that redraws alone


def _scroll_into_view(key: str) -> None:
    # A fresh nonce, so the browser runs the script each time Train is pressed.
    st.html(
        f"<script>/* {time.time()} */ setTimeout(() => document.querySelector('.st-key-{key}')"
        "?.scrollIntoView({behavior: 'smooth', block: 'start'}), 300);</script>",
        unsafe_allow_javascript=True,
    )


def _service() -> TrainingService | None:
    try:
        return get_service(roles.class_mode())
    except (StoreError, ValueError) as error:
        plain.alert("error", str(error))
        return None


def queue_line(service: TrainingService) -> None:
    """One line on every page: what trains now and how many runs wait."""
    jobs = service.queue()
    if not jobs:
        return
    running = [job for job in jobs if job.status == Status.RUNNING]
    waiting = len(jobs) - len(running)
    # Who asked for each run is the teacher's business (the sidebar's Queue): on the class's
    # screen "(for teacher)" or "(for student 3f2a)" told the students nothing.
    now = ", ".join(job.config.label() for job in running)
    text = f"Training now: {now or 'starting'}" + (f" · {waiting} waiting" if waiting else "")
    plain.caption(text)


def run_panel(service: TrainingService, config: TrainingConfig) -> None:
    """The running job for this config, else its stored result, else a hint to press Train."""
    from explorer.ui import progress, results

    repeat_of = st.session_state.get(REPEAT_OF)
    # The summary has a slot of its own, drawn on every run, so the live progress below keeps
    # its place whether or not the summary shows.
    with st.container():
        if repeat_of is not None and repeat_of == config.replace(seed=0):
            _repeat_part(service, config)
    latest = service.latest(config)
    if latest is not None and latest.is_active:  # here, or in another process on the store
        progress.live_progress(service, latest.run_id)
        return
    record = service.lookup(config)
    shown = st.session_state.get(SHOWN_RUN)
    if record is None and shown is not None and service.was_deleted(shown):
        plain.alert("info", f"The run you were looking at ({shown}) was deleted by the teacher.")
    if record is None:
        if latest is None:
            st.info("Not trained yet. Press **Train** above.", icon=":material/info:")
        elif not latest.has_result:
            plain.alert("error", ended_message(latest.status, latest.error))
        else:
            record = latest  # stopped: partial results, labelled as such
        if record is None:
            return
    elif latest.run_id != record.run_id and latest.status in (Status.FAILED, Status.INTERRUPTED):
        plain.alert(
            "warning", f"A later retraining of this configuration did not finish: {latest.error}"
        )
    st.session_state[SHOWN_RUN] = record.run_id
    new = record.run_id in st.session_state.get(SESSION_RUNS, [])
    results.result_view(service, record, cached=not new)


def _repeat_part(service: TrainingService, config: TrainingConfig) -> None:
    """The Repeat summary: its counts and charts follow the seeds as they finish, no click."""
    from explorer.ui import results
    from explorer.views import repeats

    count = int(st.session_state.get(controls.REPEATS, 3))
    pending = any(_active(service, seed) for seed in repeats.repeat_configs(config, count))
    live.part(results.repeat_summary, pending=pending, args=(service, config))


def _active(service: TrainingService, config: TrainingConfig) -> bool:
    latest = service.latest(config)
    return latest is not None and latest.is_active


def _data_banner(data: MnistData) -> None:
    if data.is_sample:
        st.warning(
            f"Using the small MNIST sample bundled with the app ({len(data.y_train):,} training "
            f"and {len(data.y_test):,} test digits): accuracy is much lower than with the full "
            "set (the tutorial's network reaches about 50 % here, about 90 % on all 70,000 "
            "digits). To use the full set, connect to the internet once (Keras downloads "
            "MNIST), or put `mnist.npz` or the four MNIST `.gz` files in a folder and start "
            "with `EXPLORER_DATA_DIR=that/folder streamlit run app.py`.",
            icon=":material/dataset:",
        )
    else:
        plain.caption(f"Data: {data.describe()}")
    if data.notes:
        with st.expander("How the data was found"):
            for note in data.notes:
                plain.caption(note)
