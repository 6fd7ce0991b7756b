"""The class view's data, built once per store change off the sessions' reruns, and shared.

    data = class_data_of(classroom)        # one per classroom (so per server), made on first use
    snapshot = data.latest()               # the newest published ClassSnapshot: never waits
    snapshot.frame, snapshot.records       # the complete runs (read-only: filter, never change)
    snapshot.board, snapshot.challenge     # the board as the page shows it, the active challenge
    snapshot.importances["mnist"]          # what mattered, for each data set with runs
    snapshot.chart(("class_scatter", ...), lambda: scatter_chart(...))   # a shared spec
    classroom.reveal(teacher); data.refresh_now()   # after this session writes: seen at once

Why: thirty sessions share the class view, and its data changes whenever a run is added or
finishes. Built in the reruns, the first rerun after a change built the runs' frame, the charts,
the board and what mattered (0.5-1 s on two cores shared with the trainers) while every other
session that reran meanwhile waited for it. Here a daemon thread polls the classroom's change
stamp (one small query) every POLL_SECONDS; when it changes, the thread builds a whole new
ClassSnapshot and then publishes it by swapping one reference. A rerun reads the published
snapshot and never builds it, except the server's very first (nothing published yet: that one
is built in the rerun). The board's live fragment rereads it at each refresh (every 3-4 s), so a
newly finished run reaches every board within a few seconds.

What a session writes itself (a challenge started or ended, Reveal, a nickname set or hidden,
the machine's search started) it should see on its next draw: the page calls `refresh_now()`
after the write, which builds and publishes at once (and makes page tests deterministic).

Chart specs: the defaults the page opens with (each data set's scatter and parallel
coordinates over all its runs, by parameter count, coloured by optimizer; what mattered; the
best-so-far lines) are built with the snapshot. Other filters' specs are built on demand by the
rerun that asks and kept in the snapshot (keyed without the stamp: a snapshot is one stamp),
so they go with it when the next one is published.

The thread starts on the first read and stops after IDLE_SECONDS without one; the next read
starts it again and, if the store changed meanwhile, builds a snapshot itself (the first
reader after a quiet spell waits once rather than being shown a stale class). A build that
fails (a locked or full store: StoreError, or anything else) is logged and the old snapshot
stays; the thread polls on.

Keys of the shared specs (what `chart` is called with):

    ("class_scatter", data, scope, since, cost, colour)   ("class_parallel", data, scope, since)
    ("class_importance", data)                            ("class_best_so_far",)
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.service.classroom import DATA_SETS, BoardView, Classroom
from explorer.ui.resources import spec_of

if TYPE_CHECKING:
    import pandas as pd

    from explorer.service.classroom import Challenge  # the store's, as the classroom hands it
    from explorer.service.importance import ImportanceResult
    from explorer.store.records import RunRecord

POLL_SECONDS = 0.5
IDLE_SECONDS = 180.0  # no session read the class data this long: stop polling until one does
# The filters the page opens with: the snapshot builds these specs before it is published.
DEFAULT_SCOPE, DEFAULT_SINCE = "all", False
DEFAULT_COST, DEFAULT_COLOUR = "parameters", "optimizer"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassSnapshot:
    """Everything the class view draws, as of one change stamp of the store. Read-only."""

    stamp: tuple
    frame: pd.DataFrame  # runs_frame of the complete runs
    records: dict[str, RunRecord]  # run id -> record of the complete runs
    challenge: Challenge | None  # the active challenge (banner, limits, nickname form)
    board: BoardView  # the latest challenge's board; private figures only after Reveal
    board_frame: pd.DataFrame  # board.frame(): its entries as the page's table
    nicknames: list[tuple[str, bool]]  # (nickname, hidden): the teacher's list to hide from
    session_nicknames: dict[str, str]  # session -> nickname in the active challenge
    importances: dict[str, ImportanceResult]  # for each data set with complete runs
    best_so_far: pd.DataFrame  # classroom.best_so_far()
    machine_trials: int  # trials of the machine's search (0 without one)
    data_sets: tuple[str, ...]  # the data sets with complete runs, in DATA_SETS' order
    classroom: Classroom = field(repr=False)  # for its rule of what is within the limits
    _specs: dict[Hashable, dict] = field(default_factory=dict, repr=False)
    _specs_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def chart(self, key: Hashable, build: Callable[[], object]) -> dict:
        """The spec of the chart `build()` makes (resources.spec_of), shared under `key` by
        every session reading this snapshot; built here on the first call for a key the
        snapshot was not published with. A fresh copy each call: Streamlit may change it."""
        spec = self._specs.get(key)
        if spec is None:
            spec = spec_of(build())  # outside the lock: two sessions may build it, none waits
            with self._specs_lock:
                spec = self._specs.setdefault(key, spec)
        # The data is bytes, which deepcopy shares: only the small dicts around it are copied.
        return copy.deepcopy(spec)

    def has_chart(self, key: Hashable) -> bool:
        """Whether the spec for `key` is built already (the defaults are, when published)."""
        return key in self._specs

    def nickname_of(self, session: str) -> str | None:
        """The session's nickname in the active challenge, or None."""
        return self.session_nicknames.get(session)

    def runs(self, data: str, scope: str = DEFAULT_SCOPE, since: bool = DEFAULT_SINCE):
        """The runs on `data` that the filters keep: `since` the challenge started only, and
        with `scope` "limits" only those within its limits (both only while a challenge is
        on; the page offers them then)."""
        chosen = self.frame[self.frame["data"] == data]
        challenge = self.board.challenge
        if challenge is None:
            return chosen
        if since:
            chosen = chosen[chosen["created_at"] >= challenge.started_at]
        if scope == "limits":
            within = self.classroom.within_limits
            keep = [within(self.records[run_id], challenge) for run_id in chosen["run_id"]]
            chosen = chosen[keep]
        return chosen


def build_snapshot(classroom: Classroom) -> ClassSnapshot:
    """A new snapshot of the class: read the stamp first, so a change during the build makes
    the next poll build again."""
    from explorer.views import classview as views

    stamp = classroom.stamp()
    records = {record.run_id: record for record in classroom.service.runs(("complete",))}
    frame = views.runs_frame(records.values())
    present = tuple(name for name in DATA_SETS if (frame["data"] == name).any())
    search = classroom.machine_search
    board = classroom.board()  # reveal=None: what every viewer sees follows the teacher's Reveal
    snapshot = ClassSnapshot(
        stamp=stamp,
        frame=frame,
        records=records,
        challenge=classroom.challenge(),
        board=board,
        board_frame=board.frame(),
        nicknames=classroom.nicknames(),
        session_nicknames=classroom.session_nicknames(),
        importances={name: classroom.importance(name) for name in present},
        best_so_far=classroom.best_so_far(),
        machine_trials=0 if search is None else len(search.trials()),
        data_sets=present,
        classroom=classroom,
    )
    for name in present:
        chosen = snapshot.runs(name)
        snapshot.chart(
            ("class_scatter", name, DEFAULT_SCOPE, DEFAULT_SINCE, DEFAULT_COST, DEFAULT_COLOUR),
            lambda chosen=chosen: views.scatter_chart(chosen, DEFAULT_COST, DEFAULT_COLOUR),
        )
        snapshot.chart(
            ("class_parallel", name, DEFAULT_SCOPE, DEFAULT_SINCE),
            lambda chosen=chosen: views.parallel_chart(chosen, views.parallel_axes(chosen)),
        )
        result = snapshot.importances[name]
        if result.can_tell:
            snapshot.chart(
                ("class_importance", name), lambda result=result: views.importance_chart(result)
            )
    if not snapshot.best_so_far.empty:
        snapshot.chart(
            ("class_best_so_far",), lambda: views.best_so_far_chart(snapshot.best_so_far)
        )
    return snapshot


class ClassData:
    """The newest ClassSnapshot of one classroom, rebuilt by a daemon thread after each change.

    Get it with `class_data_of(classroom)`; `build` and the periods are for tests.
    """

    def __init__(
        self,
        classroom: Classroom,
        build: Callable[[Classroom], ClassSnapshot] = build_snapshot,
        *,
        poll_seconds: float = POLL_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        self.classroom = classroom
        self.poll_seconds = poll_seconds
        self.idle_seconds = idle_seconds
        self._build = build
        self._snapshot: ClassSnapshot | None = None
        self._build_lock = threading.Lock()  # one build at a time: publishes stay in order
        self._thread_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._polled = False  # whether a poll ever ran: a new one after it is a wake-up
        self._last_read = time.monotonic()

    def latest(self) -> ClassSnapshot:
        """The newest published snapshot, at once; the very first is built here (the store's
        errors reach the caller then), and so is the first after the poll stopped unread, if
        the store changed meanwhile (else that read would show what was there minutes ago)."""
        self._last_read = time.monotonic()
        woke = self._ensure_polling()
        if self._snapshot is None:
            with self._build_lock:  # the sessions that open the view first wait for one build
                if self._snapshot is None:
                    self._snapshot = self._build(self.classroom)
        elif woke:
            with self._build_lock:
                try:
                    stale = self._stale()
                except Exception:  # the stamp's query failed: show the last snapshot
                    _log.exception("The class view could not read the store's change stamp")
                    stale = False
                if stale:
                    self._rebuild()
        return self._snapshot  # type: ignore[return-value]  # published above

    def published(self) -> ClassSnapshot | None:
        """The published snapshot, or None before the first: no build, no poll started."""
        return self._snapshot

    @property
    def polling(self) -> bool:
        """Whether the thread polls the store now (it stops after IDLE_SECONDS unread)."""
        with self._thread_lock:
            return self._thread is not None

    def refresh_now(self) -> ClassSnapshot | None:
        """Build and publish a snapshot now: after this session wrote, so that its next draw
        shows what it did. If the build fails, it is logged and the old snapshot stays."""
        with self._build_lock:
            self._rebuild()
        return self._snapshot

    def stop(self) -> None:
        """Stop polling for good (tests; a server's thread is a daemon and ends with it)."""
        self._stop.set()
        with self._thread_lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout=10)

    def _ensure_polling(self) -> bool:
        """Start the poll if it is not running; whether it was started again (after a stop
        for want of readers, not the first start)."""
        with self._thread_lock:
            if self._thread is not None or self._stop.is_set():
                return False
            self._thread = threading.Thread(target=self._poll, name="class-data", daemon=True)
            self._thread.start()
            woke, self._polled = self._polled, True
            return woke

    def _poll(self) -> None:
        failing = False
        while not self._stop.wait(self.poll_seconds):
            with self._thread_lock:
                if time.monotonic() - self._last_read > self.idle_seconds:
                    self._thread = None  # under the lock: a read now starts a new thread
                    return
            try:
                if self._stale():
                    with self._build_lock:
                        if self._stale():  # refresh_now may have built it meanwhile
                            self._rebuild()
            except Exception:  # the stamp's query failed (a locked store, say): poll on
                if not failing:  # logged once per failing spell, not twice a second
                    _log.exception("The class view could not read the store's change stamp")
                failing = True
            else:
                failing = False

    def _stale(self) -> bool:
        snapshot = self._snapshot
        return snapshot is None or self.classroom.stamp() != snapshot.stamp

    def _rebuild(self) -> None:
        """Build and publish (the caller holds the build lock); a failure keeps the old one."""
        try:
            snapshot = self._build(self.classroom)
        except Exception:  # a StoreError, or a bug: the thread and the old snapshot live on
            _log.exception("The class view's data could not be rebuilt; the last one stays")
            return
        self._snapshot = snapshot  # one reference: readers see the old or the new, whole


_CLASS_DATA: weakref.WeakKeyDictionary[Classroom, ClassData] = weakref.WeakKeyDictionary()
_CLASS_DATA_LOCK = threading.Lock()


def class_data_of(classroom: Classroom) -> ClassData:
    """The one ClassData of `classroom` (made on first use): every session of the server
    shares it. Kept here rather than in st.cache_resource: the page's writes must reach the
    same object, and a cache cleared from the page menu would leave its thread polling."""
    with _CLASS_DATA_LOCK:
        data = _CLASS_DATA.get(classroom)
        if data is None:
            data = _CLASS_DATA[classroom] = ClassData(classroom)
        return data
