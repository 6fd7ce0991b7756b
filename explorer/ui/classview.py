"""The class view: every run of the class in one picture, the challenge's board and the machine.

    classview.class_page(service)          # the view (?view=class)
    classview.banner(service)              # every view: the active challenge, for everyone
    classview.limit_warnings(service, c)   # in Explore, next to Train: the limits `c` breaks
    classview.teacher_controls(service)    # the teacher's sidebar: challenge, nicknames, search

The charts are built without Streamlit (explorer.views.classview); here they are drawn with
their selections read back: a click on a point opens the run in Explore, a drag on the scatter
or on the parallel coordinates selects runs, and the table under them lists those runs with
"Compare these". What the view draws (the runs' frame, the board, what mattered, the charts'
specs) is built once per store change by a background thread and shared by every session
(explorer.ui.class_data): a rerun reads the latest snapshot and never waits for a rebuild. After
this session writes (a challenge, Reveal, a nickname, the machine's search) the snapshot is
rebuilt before the next draw, so the writer sees its change at once. While a challenge is on or
the machine searches, the board refreshes itself every few seconds, each session at its own
rhythm so thirty sessions do not ask at the same instant.
"""

from __future__ import annotations

import functools
import random
from typing import TYPE_CHECKING

import streamlit as st

from explorer.service.jobs import LimitError
from explorer.service.service import TrainingService
from explorer.store.records import StoreError
from explorer.ui import controls, lazy, links, plain, roles

if TYPE_CHECKING:
    from explorer.service.classroom import Classroom
    from explorer.ui.class_data import ClassData, ClassSnapshot

# The board refreshes every REFRESH_SECONDS plus a per-session jitter of 1 to 2 s.
REFRESH_SECONDS = 2.0
JITTER_SECONDS = (1.0, 2.0)
# With no challenge on and no search running, the board looks for one this often.
IDLE_REFRESH_SECONDS = 15.0
NICKNAME_FORM = "nickname_form"
COST_NAMES = {"parameters": "Parameter count", "train_seconds": "Training time"}
DATA_NAMES = {"mnist": "Full MNIST", "sample": "Bundled sample"}
SCOPES = {"all": "All stored runs", "limits": "Within the challenge's limits"}
_LAST_BRUSH = "class_last_scatter_brush"


def classroom_of(service: TrainingService) -> Classroom:
    """The server's one classroom (imported on first use: it loads pandas and Optuna, which the
    first paint of Explore does not need)."""
    from explorer.service.classroom import classroom_of as shared_classroom

    return shared_classroom(service)


def class_data(service: TrainingService) -> ClassData:
    """The class view's shared data (explorer.ui.class_data), imported on first use too."""
    from explorer.ui.class_data import class_data_of

    return class_data_of(classroom_of(service))


def _on_class_view() -> bool:
    return st.session_state.get(links.VIEW) == "class"


def _class_snapshot(service: TrainingService) -> ClassSnapshot | None:
    """On the class view, its shared snapshot (the banner and the teacher's sidebar read it
    rather than the store); on the other views None: they ask the classroom, and never start
    the class view's background builds."""
    return class_data(service).latest() if _on_class_view() else None


def _written(service: TrainingService) -> None:
    """After this session wrote to the classroom: on the class view, rebuild the shared
    snapshot now, so that the next draw shows the change (other sessions get it from the
    background poll within a second)."""
    if _on_class_view():
        class_data(service).refresh_now()


def class_page(service: TrainingService) -> None:
    """The class view: filters, every run as a point, parallel coordinates, the selected runs,
    what mattered, the board and the machine."""
    data = class_data(service)
    snapshot = data.latest()
    st.markdown("### The whole class")
    if snapshot.frame.empty:
        st.info(
            "No finished runs yet. Every run the class trains appears here as a point.",
            icon=":material/scatter_plot:",
        )
    else:
        chosen, filters = _filters(snapshot)
        _pictures(service, snapshot, chosen, filters)
        _what_mattered(snapshot, filters[0])
    st.divider()
    _live(
        lambda: _board_and_machine(service, data),
        lambda: _is_live(data.latest(), data.classroom),
        "class_board",
    )


def banner(service: TrainingService) -> None:
    """The active challenge, its limits and this session's nickname: one line for everyone."""
    try:
        snapshot = _class_snapshot(service)
        challenge = classroom_of(service).challenge() if snapshot is None else snapshot.challenge
    except StoreError:
        return
    if challenge is None:
        return
    plain.alert("info", f"Challenge: {challenge.title}. {_limits_text(challenge)}")


def limit_warnings(service: TrainingService, config) -> None:
    """Each limit of the active challenge that `config` breaks, before Train is pressed."""
    try:
        problems = classroom_of(service).limit_problems(config)
    except StoreError:
        return
    for problem in problems:
        plain.alert("warning", f"Outside the challenge's limits: {problem}")


def teacher_controls(service: TrainingService) -> None:
    """The teacher's sidebar: start or end a challenge, hide nicknames, start the machine.
    Each panel draws its contents only while it is open (explorer.ui.lazy)."""
    for label, key, draw in (
        ("Challenge", "panel_challenge", _challenge_panel),
        ("The machine", "panel_machine", _machine_panel),
    ):
        with lazy.expander(label, key, st.sidebar) as open_now:
            if open_now:
                draw(service, classroom_of(service), roles.requester(), _class_snapshot(service))


def _challenge_panel(
    service: TrainingService, classroom: Classroom, requester, snapshot: ClassSnapshot | None
) -> None:
    challenge = classroom.challenge() if snapshot is None else snapshot.challenge
    if challenge is None:
        with st.form("challenge_form", border=False):
            title = st.text_input("Title", "Small and sharp", max_chars=80, key="ch_title")
            params = st.number_input("Most parameters (0: no limit)", 0, 10**7, 50_000)
            epochs = st.number_input("Most epochs (0: no limit)", 0, 50, 5)
            seconds = st.number_input("Longest estimated time, s (0: no limit)", 0, 3600, 0)
            if st.form_submit_button("Start the challenge", key="challenge_start"):
                try:
                    classroom.start_challenge(
                        title,
                        requester,
                        max_params=int(params) or None,
                        max_epochs=int(epochs) or None,
                        max_seconds=float(seconds) or None,
                    )
                except (ValueError, StoreError, LimitError) as error:
                    plain.alert("error", str(error))
                else:
                    _written(service)
                    st.rerun()
    else:
        plain.caption(f"On: {challenge.title}. {_limits_text(challenge)}")
        if st.button("End the challenge", key="challenge_end"):
            classroom.end_challenge(requester)
            _written(service)
            st.rerun()
    nicknames = dict(classroom.nicknames() if snapshot is None else snapshot.nicknames)
    if nicknames:
        # A selectbox shows its options as plain text (a checkbox label reads Markdown).
        nickname = st.selectbox(
            "Hide a nickname from the board",
            list(nicknames),
            format_func=lambda name: f"{name} (hidden)" if nicknames[name] else name,
            key="hide_nickname",
        )
        hidden = nicknames[nickname]
        if st.button("Show it again" if hidden else "Hide it", key="hide_nickname_apply"):
            try:
                classroom.hide_nickname(nickname, requester, not hidden)
            except (ValueError, LimitError) as error:
                plain.alert("error", str(error))
            else:
                _written(service)
                st.rerun()


def _machine_panel(
    service: TrainingService, classroom: Classroom, requester, snapshot: ClassSnapshot | None
) -> None:
    search = classroom.machine_search
    if search is not None and search.running:
        trials = len(search.trials()) if snapshot is None else snapshot.machine_trials
        plain.caption(f"Searching: {trials} trials so far.")
        return
    trials = st.number_input("Trials", 1, 200, 20, key="machine_trials")
    learn = st.toggle("Learn from the class's runs too", key="machine_learn")
    if st.button("Start the machine's search", key="machine_start"):
        from explorer.service.search import start_search

        try:
            start_search(classroom, int(trials), requester, learn_from_class=learn)
        except (ValueError, StoreError, LimitError) as error:
            plain.alert("error", str(error))
        else:
            _written(service)
            st.toast(f"The machine searches {int(trials)} trials.")


# -- the runs --------------------------------------------------------------------------------


def _filters(snapshot: ClassSnapshot):
    """The filter row; returns the runs it keeps and the filters (for the charts' keys)."""
    challenge = snapshot.board.challenge
    present = list(snapshot.data_sets)
    with st.container(horizontal=True, wrap=True, gap="medium", key="class_filters"):
        data = st.segmented_control(
            "Data",
            present,
            format_func=DATA_NAMES.get,
            default=present[0],
            required=True,
            key="class_data",
            help="Runs on the sample and on full MNIST are never mixed: their scores differ.",
        )
        scope, since = "all", False
        if challenge is not None:
            scope = st.segmented_control(
                "Runs",
                list(SCOPES),
                format_func=SCOPES.get,
                default="all",
                required=True,
                key="class_scope",
            )
            since = st.toggle("Since the challenge started", key="class_since")
    return snapshot.runs(data, scope, since), (data, scope, since)


def _pictures(service: TrainingService, snapshot: ClassSnapshot, frame, filters: tuple) -> None:
    """The scatter and the parallel coordinates, their selections and the table of runs
    (`frame`: the runs the `filters` keep; the specs are the snapshot's, shared)."""
    from explorer.views import classview as views

    if frame.empty:
        st.info("No run matches these filters.", icon=":material/filter_alt:")
        return
    with st.container(horizontal=True, wrap=True, gap="medium", key="class_chart_options"):
        cost = st.segmented_control(
            "Cost",
            list(COST_NAMES),
            format_func=COST_NAMES.get,
            default="parameters",
            required=True,
            key="class_cost",
        )
        colour = st.selectbox(
            "Colour by",
            views.SETTINGS,
            index=views.SETTINGS.index("optimizer"),
            format_func=views.FIELD_LABELS.get,
            key="class_colour",
            width=260,
        )
    st.caption(
        f"{len(frame)} runs. Each point is a run; the dashed line is the front: the runs no "
        "other run beats on both accuracy and cost. Click a point to open its run; drag to "
        "select runs."
    )
    scatter = st.vega_lite_chart(
        snapshot.chart(
            ("class_scatter", *filters, cost, colour),
            lambda: views.scatter_chart(frame, cost, colour),
        ),
        width="stretch",
        on_select=functools.partial(_clicked, service),
        selection_mode=[views.SCATTER_BRUSH, views.SCATTER_CLICK],
        key="class_scatter",
    )
    axes = views.parallel_axes(frame)
    st.caption(
        "Every run as a line through its settings and its accuracy (scaled to each axis's "
        "range). Drag over one or more axes to keep the runs that pass there."
    )
    parallel = st.vega_lite_chart(
        snapshot.chart(("class_parallel", *filters), lambda: views.parallel_chart(frame, axes)),
        width="stretch",
        on_select="rerun",
        selection_mode=[views.PARALLEL_BRUSH],
        key="class_parallel",
    )
    selected = views.scatter_brushed(frame, cost, _selection(scatter, views.SCATTER_BRUSH))
    selected = views.brushed_runs(selected, axes, _selection(parallel, views.PARALLEL_BRUSH))
    _table(views.table_frame(selected), len(frame))


def _selection(event, name: str) -> dict | None:
    try:
        chosen = event.selection[name]
    except (AttributeError, KeyError):
        return None
    return dict(chosen) if chosen else None


def _clicked(service: TrainingService) -> None:
    """A click on a point: open its run in Explore (a drag that ends on a point is not one)."""
    from explorer.views.classview import SCATTER_BRUSH, SCATTER_CLICK

    selection = st.session_state["class_scatter"]["selection"]
    brush = dict(selection.get(SCATTER_BRUSH) or {})
    dragged = brush != st.session_state.get(_LAST_BRUSH, {})
    st.session_state[_LAST_BRUSH] = brush
    points = selection.get(SCATTER_CLICK) or []
    if dragged or not points:
        return
    record = service.get(str(points[0].get("run_id", "")))
    if record is None or record.config is None:
        return
    controls.set_config(record.config)
    st.session_state[links.VIEW] = "explore"


def _table(table, total: int) -> None:
    st.dataframe(
        table,
        key="class_table",
        hide_index=True,
        width="stretch",
        height=min(400, 38 + 35 * max(1, len(table))),
        on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "run_id": st.column_config.TextColumn("Run", width="small"),
            "label": st.column_config.TextColumn("Network and training", width="large"),
            "accuracy": st.column_config.NumberColumn("Test accuracy", format="%.2f %%"),
            "parameters": st.column_config.NumberColumn("Parameters", format="localized"),
            "train_seconds": st.column_config.NumberColumn("Time (s)", format="%.1f"),
            "data": st.column_config.TextColumn("Data", width="small"),
        },
    )
    ticked = st.session_state.get("class_table")
    rows = list(ticked.selection.rows) if ticked is not None else []
    chosen = [table["run_id"].iloc[row] for row in rows if row < len(table)]
    with st.container(horizontal=True, vertical_alignment="center", key="class_table_actions"):
        st.button(
            "Compare these",
            key="class_compare",
            icon=":material/compare_arrows:",
            disabled=not 2 <= len(chosen) <= links.MAX_COMPARED_RUNS,
            on_click=_compare,
            args=(chosen,),
            help=f"Tick 2 to {links.MAX_COMPARED_RUNS} runs in the table to put them side by side.",
        )
        st.caption(f"{len(table)} of {total} runs selected (best first). Tick up to four.")


def _compare(run_ids: list[str]) -> None:
    st.session_state[links.COMPARED] = list(run_ids)
    st.session_state["compare_runs"] = list(run_ids)
    st.session_state[links.VIEW] = "compare"


def _what_mattered(snapshot: ClassSnapshot, data: str) -> None:
    from explorer.views.classview import importance_chart

    st.markdown("#### What mattered")
    result = snapshot.importances[data]
    if not result.can_tell:
        plain.alert("info", result.reason or "")
        return
    st.vega_lite_chart(
        snapshot.chart(("class_importance", data), lambda: importance_chart(result)),
        width="stretch",
    )
    plain.caption(result.help_text())


# -- the board and the machine ---------------------------------------------------------------


def _board_and_machine(service: TrainingService, data: ClassData) -> None:
    # Each refresh reads the newest snapshot: a run finished elsewhere shows within seconds.
    snapshot = data.latest()
    view = snapshot.board
    challenge = view.challenge
    st.markdown("#### The board")
    if challenge is None:
        st.caption("No challenge yet: the teacher starts one in the sidebar.")
        return
    state = "on" if challenge.active else "ended"
    plain.caption(f"{challenge.title} ({state}). {_limits_text(challenge)}")
    if challenge.active:
        _nickname(data, snapshot)
    frame = snapshot.board_frame
    if frame.empty:
        st.caption("Nobody is on the board yet: pick a nickname, then train within the limits.")
    else:
        _board_table(frame, view.board.revealed)
        if view.board.revealed:
            plain.caption(view.board.why_ranks_move or "")
        else:
            st.caption(
                "Ranked on the public half of the test digits. The other half stays hidden "
                "until the teacher reveals it."
            )
    can_reveal = roles.is_teacher() and not view.board.revealed and not frame.empty
    if can_reveal and st.button(
        "Reveal the private half", key="class_reveal", icon=":material/visibility:"
    ):
        data.classroom.reveal(roles.requester(), challenge)
        data.refresh_now()
        st.rerun(scope="app")
    _machine(snapshot, data.classroom)


def _board_table(frame, revealed: bool) -> None:
    table = frame.assign(public_accuracy=frame["public_accuracy"] * 100)
    columns = {
        "rank": st.column_config.NumberColumn("Rank", width="small"),
        "nickname": st.column_config.TextColumn("Nickname"),
        "public_accuracy": st.column_config.NumberColumn("Public half", format="%.2f %%"),
        "parameters": st.column_config.NumberColumn("Parameters", format="localized"),
        "label": st.column_config.TextColumn("Network and training", width="medium"),
    }
    if revealed:
        table = table.assign(
            private_accuracy=table["private_accuracy"] * 100,
            moved=[_moved(change) for change in table["rank_change"]],
        )
        columns.update(
            private_accuracy=st.column_config.NumberColumn("Private half", format="%.2f %%"),
            private_rank=st.column_config.NumberColumn("Private rank", width="small"),
            moved=st.column_config.TextColumn("Moved", width="small"),
        )
    st.dataframe(
        table,
        key="class_board_table",
        hide_index=True,
        width="stretch",
        column_config=columns,
        column_order=list(columns),
    )


def _moved(change) -> str:
    change = int(change or 0)
    if change > 0:
        return f"up {change}"
    return f"down {-change}" if change < 0 else "same"


def _nickname(data: ClassData, snapshot: ClassSnapshot) -> None:
    requester = roles.requester()
    held = snapshot.nickname_of(requester.session)
    if held is not None:
        st.text(f"Your nickname: {held}")
        return
    with (
        st.form(NICKNAME_FORM, border=False, enter_to_submit=True),
        st.container(horizontal=True, vertical_alignment="bottom"),
    ):
        text = st.text_input(
            "Your nickname on the board",
            max_chars=24,
            key="class_nickname",
            placeholder="letters, digits, spaces",
            help="Plain text, at most 24 characters, not taken by someone else. "
            "Picked once a session.",
        )
        submitted = st.form_submit_button("Use this nickname", key="class_nickname_set")
    if submitted:
        try:
            data.classroom.set_nickname(requester, text)
        except (ValueError, StoreError) as error:
            plain.alert("warning", str(error))
        else:
            data.refresh_now()
            st.rerun()


def _machine(snapshot: ClassSnapshot, classroom: Classroom) -> None:
    from explorer.views.classview import best_so_far_chart

    frame = snapshot.best_so_far
    search = classroom.machine_search  # in this server's memory: no query
    if frame.empty and search is None:
        return
    st.markdown("#### Can the class beat the machine?")
    if search is not None:
        count = snapshot.machine_trials
        plain.caption(
            f"The machine has asked for {count} runs" + (" and goes on." if search.running else ".")
        )
    if frame.empty:
        st.caption("No run on the board's terms yet.")
        return
    spec = snapshot.chart(("class_best_so_far",), lambda: best_so_far_chart(frame))
    st.vega_lite_chart(spec, width="stretch")


# -- updates ---------------------------------------------------------------------------------


def _is_live(snapshot: ClassSnapshot, classroom: Classroom) -> bool:
    search = classroom.machine_search
    return snapshot.challenge is not None or (search is not None and search.running)


def refresh_seconds(session: str) -> float:
    """This session's refresh period: REFRESH_SECONDS plus a jitter of 1 to 2 s that depends
    only on the session, so the sessions of a class spread their reruns out."""
    return REFRESH_SECONDS + random.Random(session).uniform(*JITTER_SECONDS)


def _live(draw, is_live, name: str) -> None:
    """Draw `draw()` in a fragment that reruns by itself: every few seconds while `is_live()`,
    else every IDLE_REFRESH_SECONDS, to notice a challenge or a search that starts (then the
    whole page reruns, for the banner and the quicker rhythm)."""
    live = is_live()
    jitter = refresh_seconds(st.session_state.get(roles.SESSION, ""))
    every = jitter if live else IDLE_REFRESH_SECONDS + jitter

    def part() -> None:
        if is_live() != live:
            st.rerun()
        draw()

    part.__qualname__ = part.__name__ = name  # one fragment identity per part of the page
    st.fragment(part, run_every=every)()


# -- text --------------------------------------------------------------------------------------


def _limits_text(challenge) -> str:
    limits = []
    if challenge.max_params is not None:
        limits.append(f"at most {challenge.max_params:,} parameters")
    if challenge.max_epochs is not None:
        limits.append(f"at most {challenge.max_epochs} epochs")
    if challenge.max_seconds is not None:
        limits.append(f"at most {challenge.max_seconds:.0f} s of training")
    return ("Limits: " + ", ".join(limits) + ".") if limits else "No limits."
