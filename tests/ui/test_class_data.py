"""The class view's shared snapshot (explorer.ui.class_data), without a page: the first read
builds it, later reads never wait for a rebuild, a failed build keeps the last snapshot."""

from __future__ import annotations

import threading

import pytest

from explorer.config import TrainingConfig
from explorer.service.classroom import Classroom
from explorer.service.jobs import Requester
from explorer.service.service import TrainingService
from explorer.store.records import StoreError
from explorer.store.registry import RunStore
from explorer.ui.class_data import (
    DEFAULT_COLOUR,
    DEFAULT_COST,
    ClassData,
    build_snapshot,
)
from testkit.classroom import ScoringTrainer, store_runs
from testkit.store import seed_store
from tests.waiting import wait_until

TEACHER = Requester("t0", "teacher")


@pytest.fixture
def classroom(tmp_path, sample_data):
    store_runs(RunStore(tmp_path), sample_data, 3)
    service = TrainingService(
        RunStore(tmp_path), lambda: sample_data, trainer=ScoringTrainer(lambda c: (0.9, 0.9))
    )
    yield Classroom(service)
    service.shutdown()


class GatedBuild:
    """build_snapshot, except that every build after the first waits for `gate` and then
    fails while `failing` is set: a slow or broken rebuild the test controls."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.failing = False
        self.calls = 0

    def __call__(self, classroom: Classroom):
        self.calls += 1
        if self.calls > 1:
            self.started.set()
            assert self.gate.wait(30), "the test never opened the gate"
            if self.failing:
                raise StoreError("database is locked")
        return build_snapshot(classroom)


@pytest.fixture
def gated(classroom):
    build = GatedBuild()
    data = ClassData(classroom, build, poll_seconds=0.02)
    yield data, build
    build.gate.set()
    data.stop()


def test_the_first_read_builds_the_snapshot_at_once(gated, classroom):
    data, build = gated
    assert data.published() is None
    snapshot = data.latest()
    assert build.calls == 1
    assert snapshot.stamp == classroom.stamp()
    assert len(snapshot.frame) == 3 and set(snapshot.records) == set(snapshot.frame["run_id"])
    assert snapshot.data_sets == ("sample",)
    assert snapshot.challenge is None and snapshot.board.challenge is None
    # The default charts come with it: no rerun builds them.
    assert snapshot.has_chart(
        ("class_scatter", "sample", "all", False, DEFAULT_COST, DEFAULT_COLOUR)
    )
    assert snapshot.has_chart(("class_parallel", "sample", "all", False))
    assert data.latest() is snapshot  # nothing changed: the same snapshot


def test_a_read_during_a_rebuild_gets_the_old_snapshot_then_the_new(
    gated, classroom, tmp_path, sample_data
):
    data, build = gated
    old = data.latest()
    seed_store(tmp_path, sample_data, [TrainingConfig(hidden1=200)])  # another server's run
    assert build.started.wait(10), "the poll did not notice the new run"
    # The rebuild is under way and blocked: a read returns at once, with the old snapshot.
    assert data.latest() is old
    assert len(data.latest().frame) == 3
    build.gate.set()
    new = wait_until(lambda: data.latest() if data.latest() is not old else None, timeout=10)
    assert new.stamp == classroom.stamp()
    assert len(new.frame) == 4
    assert 200 in set(new.frame["hidden1"])


def test_a_failed_rebuild_keeps_the_old_snapshot_and_the_poll_goes_on(gated, classroom):
    data, build = gated
    old = data.latest()
    build.failing = True
    build.gate.set()
    classroom.start_challenge("Small", TEACHER)
    wait_until(lambda: build.calls >= 3, timeout=10)  # failed at least twice: still polling
    assert data.latest() is old and old.challenge is None
    build.failing = False
    new = wait_until(lambda: data.latest() if data.latest() is not old else None, timeout=10)
    assert new.challenge is not None and new.challenge.title == "Small"


def test_refresh_now_publishes_this_sessions_write_before_the_poll(classroom):
    data = ClassData(classroom, poll_seconds=3600)  # the poll would come far too late
    try:
        assert data.latest().challenge is None
        classroom.start_challenge("Small", TEACHER)
        student = Requester("s1", "student")
        classroom.set_nickname(student, "Ada")
        assert data.latest().challenge is None  # not yet: nobody rebuilt it
        snapshot = data.refresh_now()
        assert data.latest() is snapshot
        assert snapshot.challenge.title == "Small"
        assert snapshot.nickname_of("s1") == "Ada"
        assert snapshot.nicknames == [("Ada", False)]
    finally:
        data.stop()


def test_charts_for_other_filters_are_built_once_per_snapshot(gated):
    data, _ = gated
    snapshot = data.latest()
    calls = []

    def build():
        from explorer.views.classview import scatter_chart

        calls.append(1)
        return scatter_chart(snapshot.runs("sample"), "train_seconds", "hidden1")

    key = ("class_scatter", "sample", "all", False, "train_seconds", "hidden1")
    first = snapshot.chart(key, build)
    second = snapshot.chart(key, build)
    assert len(calls) == 1
    assert first == second and first is not second  # each draw gets its own copy


def test_the_poll_stops_when_nobody_reads_and_a_read_starts_it_again(classroom):
    data = ClassData(classroom, poll_seconds=0.02, idle_seconds=0.2)
    try:
        old = data.latest()
        assert data.polling
        wait_until(lambda: not data.polling, timeout=10)
        assert data.latest() is old  # woken, nothing changed: the same snapshot
        assert data.polling
        wait_until(lambda: not data.polling, timeout=10)
        classroom.start_challenge("Small", TEACHER)
        assert data.published() is old  # nobody polls: nothing is rebuilt
        # The first read after the quiet spell starts the poll and finds the store changed:
        # it builds the new snapshot itself rather than show a class minutes old.
        new = data.latest()
        assert new is not old and new.challenge is not None
        assert data.polling
    finally:
        data.stop()
