"""Lessons on the page: a picker, the current step's note, Back and Next.

    lessons.picker()                   # in the sidebar: choose a lesson (or none)
    lessons.lesson_bar(service)        # above the controls: the step's title, note, Back, Next

A step sets the sliders (an Explore step) or opens Compare on its runs (a Compare step). The
lesson and step live in the link (`lesson=1-width&step=2`), so a teacher can share a step.
"""

from __future__ import annotations

import streamlit as st

from explorer.lessons import Lesson, LessonStep, readable_lessons
from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.ui import controls, links, live, plain, roles

LESSON = "lesson"  # session keys, mirrored in the link
STEP = "lesson_step"


@st.cache_resource(show_spinner=False)
def _read_lessons() -> tuple[dict[str, Lesson], list[str]]:
    """Every good lesson and one message per bad file, read once per server."""
    return readable_lessons()


def _lessons() -> dict[str, Lesson]:
    return _read_lessons()[0]


def current() -> tuple[Lesson, int] | None:
    lessons = _lessons()
    name = st.session_state.get(LESSON)
    if name not in lessons:
        return None
    lesson = lessons[name]
    return lesson, min(max(int(st.session_state.get(STEP, 1)), 1), len(lesson.steps))


def picker() -> None:
    """The lesson picker (sidebar)."""
    lessons, problems = _read_lessons()
    for problem in problems:  # a bad file hides only itself
        plain.alert("error", problem)
    options = [None, *lessons]
    chosen = st.session_state.get(LESSON)
    st.selectbox(
        "Lesson",
        options,
        index=options.index(chosen) if chosen in options else 0,
        format_func=lambda name: "No lesson" if name is None else lessons[name].title,
        key="lesson_choice",
        on_change=_choose,
        help="A lesson walks the class through a few steps, each with a note on what to notice.",
    )


def _choose() -> None:
    st.session_state[LESSON] = st.session_state["lesson_choice"]
    _go(1)


def _go(step: int) -> None:
    """Move to `step` of the current lesson and apply it (sliders or the compared runs)."""
    st.session_state[STEP] = step
    found = current()
    if found is None:
        return
    lesson, number = found
    apply_step(lesson.steps[number - 1])


def apply_current_step() -> None:
    """Apply the current step, as Next does: for a link to a step (`?lesson=2-depth&step=1`),
    which names the step but not its settings."""
    found = current()
    if found is not None:
        lesson, number = found
        st.session_state[STEP] = number
        apply_step(lesson.steps[number - 1])


def apply_step(step: LessonStep) -> None:
    controls.set_config(step.configs[0] if step.view == "explore" else step.configs[-1])
    st.session_state[links.VIEW] = step.view
    st.session_state[links.LESSON_RUNS] = list(step.configs) if step.view == "compare" else []


def lesson_bar(service: TrainingService | None, presenter: bool) -> None:
    """The current step: its title and note (large in presenter mode), Back and Next."""
    found = current()
    if found is None:
        return
    lesson, number = found
    step = lesson.steps[number - 1]
    with st.container(border=True, key="lesson_bar"):
        # Titles come from a lesson file: plain text, never Markdown (explorer.ui.plain).
        plain.heading(lesson.title, f" · step {number} of {len(lesson.steps)}: {step.title}")
        size = "1.3rem" if presenter else "1.1rem"
        plain.note(step.note, size)
        with st.container(horizontal=True, gap="small"):
            st.button(
                "Back",
                key="lesson_back",
                icon=":material/arrow_back:",
                disabled=number == 1,
                on_click=_go,
                args=(number - 1,),
            )
            st.button(
                "Next",
                key="lesson_next",
                icon=":material/arrow_forward:",
                disabled=number == len(lesson.steps),
                on_click=_go,
                args=(number + 1,),
            )
            if step.view == "compare" and service is not None:
                pending = any(_active(service, config) for config in step.configs)
                live.part(_step_runs, pending=pending, args=(service, step))


def _active(service: TrainingService, config) -> bool:
    latest = service.latest(config)
    return latest is not None and latest.is_active


def _step_runs(service: TrainingService, step: LessonStep) -> bool:
    """Train this step's missing runs; while they train, how many are stored. Returns whether
    any is still queued or training. When the last one is stored, Compare shows them all."""
    records = {config: service.latest(config) for config in step.configs}
    stored = sum(1 for record in records.values() if record is not None and record.is_complete)
    training = [config for config, record in records.items() if record and record.is_active]
    missing = [
        config
        for config, record in records.items()
        if record is None or not (record.is_complete or record.is_active)
    ]
    if training:
        plain.caption(f"Training this step's runs: {stored} of {len(step.configs)} stored…")
    elif live.ticking():
        # The last run was stored while this part followed them: compare them all.
        st.session_state[links.LESSON_RUNS] = list(step.configs)
    if missing and st.button(
        f"Train this step's runs ({len(missing)})",
        key="lesson_train",
        icon=":material/play_arrow:",
    ):
        _train(service, missing)
    return bool(training)


def _train(service: TrainingService, configs) -> None:
    try:
        for config in configs:
            service.submit(config, roles.requester())
    except LimitError as error:
        plain.alert("warning", str(error))
    else:
        st.toast(f"Training {len(configs)} run(s); they appear here when done.")
        st.rerun()  # from now on the step's runs are followed as they train
