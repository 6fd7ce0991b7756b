"""Fault tolerance: killed processes, many processes on one store, races, failures, full disks.

Subprocesses run `tests/helpers/fault_worker.py` (or the real CLI) from the repository root. A
killed child is always reaped (`wait`) before the store is checked: an unreaped zombie still
answers `os.kill(pid, 0)`, so the store would rightly think its owner alive.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer import cli
from explorer.config import TrainingConfig
from explorer.service.service import TrainingService, create_service
from explorer.store.records import StoreError
from explorer.store.registry import RunStore
from testkit.fakes import FakeTrainer, fake_result, tiny_data
from tests.apptest import alerts
from tests.helpers.fault_worker import HISTORY, SWARM_PROCESSES, held_config, swarm_config
from tests.waiting import read_line, wait_until

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
DATA = tiny_data()
WORKER = [sys.executable, "-m", "tests.helpers.fault_worker"]
CLI_TRAIN_ARGUMENTS = ["train", "--hidden1", "256", "--epochs", "20", "--batch-size", "32"]


# -- helpers -------------------------------------------------------------------------------------


def kill_and_reap(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def complete_run(store: RunStore, config: TrainingConfig):
    """A complete run written the way the worker writes one: claim, running, finish."""
    run_id, created = store.claim(config, config.cache_key(DATA.fingerprint), "data-dir")
    assert created
    store.mark_running(run_id)
    result = fake_result(config, DATA, HISTORY)
    store.finish(run_id, result)
    return run_id, result


def temporary_folders(store: RunStore) -> list[str]:
    return sorted(path.name for path in store.runs_dir.iterdir() if path.name.startswith("."))


def run_folders(store: RunStore) -> set[str]:
    return {path.name for path in store.runs_dir.iterdir() if not path.name.startswith(".")}


def assert_intact(store: RunStore, run_id: str, result) -> None:
    record = store.get(run_id)
    assert record.status == "complete" and record.error is None
    assert store.find_complete(record.cache_key).run_id == run_id
    predictions = store.load_predictions(run_id)
    np.testing.assert_array_equal(predictions.predicted_labels, result.predicted_labels)
    np.testing.assert_array_equal(predictions.probabilities, result.probabilities)
    assert [w.shape for w in store.load_weights(run_id)] == [w.shape for w in result.weights]


@pytest.fixture
def service_factory(tmp_path):
    """Services on the store in tmp_path/home; all shut down (gates opened) at the end."""
    made: list[tuple[TrainingService, object]] = []

    def make(trainer=None, data=DATA, home=None) -> TrainingService:
        trainer = trainer if trainer is not None else FakeTrainer()
        store = RunStore(home or tmp_path / "home")
        service = TrainingService(store, data_loader=lambda: data, trainer=trainer)
        made.append((service, trainer))
        return service

    yield make
    for service, trainer in made:
        gate = getattr(trainer, "gate", None)
        if gate is not None:
            gate.set()
        service.shutdown()


@pytest.fixture
def spawn():
    """Start a child process from the repository root; any still running at the end is killed."""
    started: list[subprocess.Popen] = []

    def start(arguments: list[str], **options) -> subprocess.Popen:
        options = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, **options}
        process = subprocess.Popen(arguments, cwd=ROOT, **options)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


# -- 1. a training process killed with SIGKILL ---------------------------------------------------


@pytest.mark.parametrize("moment", ["hold", "hold-finish"], ids=["after-epoch-1", "mid-finish"])
def test_sigkilled_run_becomes_interrupted_and_earlier_runs_stay_intact(
    tmp_path, service_factory, spawn, moment
):
    home = tmp_path / "home"
    store = RunStore(home)
    earlier = [complete_run(store, TrainingConfig(hidden1=h, hidden2=0)) for h in (8, 9)]
    config = held_config(10)
    key = config.cache_key(DATA.fingerprint)

    child = spawn([*WORKER, moment, str(home), "10"])
    _, run_id, instance = read_line(child, "READY").split()
    held = store.get(run_id)
    assert (held.status, held.owner, len(held.history)) == ("running", instance, 1)
    if moment == "hold-finish":  # killed half-way through writing the artifact files
        assert [name.startswith(f".{run_id}-") for name in temporary_folders(store)] == [True]
    kill_and_reap(child)

    service = service_factory(home=home)  # a restart: the constructor finds the orphan
    record = store.get(run_id)
    assert record.status == "interrupted"
    assert "stopped before it finished" in record.error
    assert record.history == HISTORY  # the curve so far is kept
    assert store.find_complete(key) is None
    assert service.lookup(config) is None
    assert service.latest(config).run_id == run_id
    with pytest.raises(StoreError, match="missing"):
        store.load_predictions(run_id)
    # Whatever the kill left on disk, only real rows count as runs and only finished ones as
    # folders; a half-written temporary folder is never a run.
    runs = store.list_runs()
    assert sorted(r.run_id for r in runs) == sorted([run_id, *(rid for rid, _ in earlier)])
    assert run_folders(store) == {rid for rid, _ in earlier}
    assert [r.status for r in runs if r.run_id != run_id] == ["complete", "complete"]
    for earlier_id, result in earlier:
        assert_intact(store, earlier_id, result)

    # The config can be trained again: a new run is claimed, not the dead one joined.
    retry = service.submit(config)
    assert not retry.cached and not retry.attached and retry.run_id != run_id
    assert service.wait(retry.run_id, timeout=10).status == "complete"
    assert store.find_complete(key).run_id == retry.run_id
    assert len(store.list_runs(("complete",))) == 3


def test_a_waiter_attached_to_a_killed_process_learns_that_it_died(
    tmp_path, service_factory, spawn
):
    home = tmp_path / "home"
    child = spawn([*WORKER, "hold", str(home), "10"])
    run_id = read_line(child, "READY").split()[1]
    service = service_factory(home=home)  # started while the owner is alive: nothing orphaned
    submission = service.submit(held_config(10))
    assert submission.attached and submission.run_id == run_id
    assert service.progress(run_id).remote
    kill_and_reap(child)
    final = service.wait(run_id, timeout=3)  # the CLI waits with no timeout at all
    assert final.finished, f"still {final.status!r} after its owner was killed"


@pytest.mark.slow
def test_sigkilled_cli_training_is_interrupted_and_can_be_trained_again(
    tmp_path, service_factory, spawn, sample_data
):
    home = tmp_path / "home"
    env = {**os.environ, "EXPLORER_HOME": str(home), "EXPLORER_OFFLINE": "1"}
    env.pop("EXPLORER_DATA_DIR", None)
    config = TrainingConfig(hidden1=256, epochs=20, batch_size=32)
    log_path = tmp_path / "cli.log"
    with log_path.open("w") as log:
        child = spawn(
            [sys.executable, "-m", "explorer", *CLI_TRAIN_ARGUMENTS],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wait_until(home.joinpath("runs.db").exists, timeout=30, interval=0.1)
    store = RunStore(home)

    def running_with_an_epoch():
        if child.poll() is not None:
            raise AssertionError(f"the CLI ended early:\n{log_path.read_text()}")
        runs = store.list_runs(("running",))
        return runs[0] if runs and runs[0].history else None

    running = wait_until(running_with_an_epoch, timeout=90, interval=0.2)
    kill_and_reap(child)
    assert running.owner and running.config == config
    assert len(running.history) < config.epochs  # killed mid-training, not after it

    service = service_factory(data=sample_data, home=home)
    record = store.get(running.run_id)
    assert record.status == "interrupted" and record.error
    assert len(record.history) >= 1
    assert record.cache_key == service.cache_key(config)  # same data, so the same config key
    assert service.lookup(config) is None
    retry = service.submit(config)  # a fake trainer: the retry itself need not take long
    assert not retry.cached and not retry.attached and retry.run_id != running.run_id
    assert service.wait(retry.run_id, timeout=10).status == "complete"
    assert service.lookup(config).run_id == retry.run_id


# -- 2. eight processes on one store -------------------------------------------------------------


def test_eight_processes_sharing_one_store_train_each_config_exactly_once(tmp_path, spawn):
    home = tmp_path / "home"
    RunStore(home)  # create the database once, as a server would before CLI jobs arrive
    go_file = tmp_path / "go"
    started = time.monotonic()
    children = [
        spawn([*WORKER, "swarm", str(home), str(index), str(go_file)])
        for index in range(SWARM_PROCESSES)
    ]
    for child in children:
        read_line(child, "ARRIVED", timeout=30)
    go_file.touch()  # all imported and waiting: submit at the same moment
    outputs = [child.communicate(timeout=40) for child in children]
    assert time.monotonic() - started < 40

    reports = []
    for child, (stdout, stderr) in zip(children, outputs, strict=False):
        assert "database is locked" not in stdout + stderr
        assert child.returncode == 0, f"a process failed:\n{stdout}\n{stderr}"
        report = json.loads(stdout.strip().splitlines()[-1])
        assert report["errors"] == []
        assert report["listings"] > 0
        reports.append(report)

    submissions = [s for report in reports for s in report["submissions"]]
    assert len(submissions) == 3 * SWARM_PROCESSES
    assert all(s["status"] == "complete" for s in submissions), submissions
    run_ids_by_config: dict[int, set[str]] = {}
    for s in submissions:
        run_ids_by_config.setdefault(s["hidden1"], set()).add(s["run_id"])
    assert len(run_ids_by_config) == SWARM_PROCESSES
    assert all(len(ids) == 1 for ids in run_ids_by_config.values()), run_ids_by_config
    assert any(s["attached"] for s in submissions)  # some joined a run of another process
    trained_here = [s for s in submissions if not s["cached"] and not s["attached"]]
    assert len(trained_here) == SWARM_PROCESSES  # each config claimed once, joined otherwise
    assert sum(report["trainer_calls"] for report in reports) == SWARM_PROCESSES

    store = RunStore(home)
    runs = store.list_runs()
    assert len(runs) == SWARM_PROCESSES  # no duplicates, none lost
    assert {r.status for r in runs} == {"complete"}
    expected = {swarm_config(n).cache_key(DATA.fingerprint) for n in range(SWARM_PROCESSES)}
    assert {r.cache_key for r in runs} == expected
    for record in runs:
        assert store.load_weights(record.run_id)[0].shape == (784, record.config.hidden1)
        predictions = store.load_predictions(record.run_id)
        assert predictions.predicted_labels.shape == (len(DATA.y_test),)
    assert temporary_folders(store) == []
    assert run_folders(store) == {r.run_id for r in runs}


# -- 3. two sessions submit the same config at the same moment -----------------------------------


def test_two_sessions_submitting_at_once_share_one_run_and_one_stop(service_factory):
    trainer = FakeTrainer()
    trainer.gate.clear()
    service = service_factory(trainer)
    config = TrainingConfig(hidden1=8, hidden2=0, epochs=3)
    barrier = threading.Barrier(2)
    submissions = [None, None]

    def session(index: int) -> None:
        barrier.wait()
        submissions[index] = service.submit(config)

    threads = [threading.Thread(target=session, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    first, second = submissions
    assert first.run_id == second.run_id
    assert sorted([first.attached, second.attached]) == [False, True]
    wait_until(trainer.started.is_set)
    assert len(trainer.calls) == 1

    # Session one presses Stop; session two, polling, sees it.
    assert service.stop(first.run_id) == "Stopping after the current batch…"
    seen_by_second = service.progress(second.run_id)
    assert seen_by_second.stop_requested and seen_by_second.status == "running"
    trainer.gate.set()
    finals = [service.wait(s.run_id, timeout=10) for s in submissions]
    assert [p.status for p in finals] == ["stopped", "stopped"]
    assert service.store.get(first.run_id).status == "stopped"
    assert len(trainer.calls) == 1
    assert len(service.store.list_runs()) == 1


def test_many_simultaneous_double_submits_never_train_twice(service_factory):
    # The gate holds the first job, so every run stays active while both sessions claim: this
    # checks the claim itself (the lock and the IMMEDIATE transaction), round after round.
    trainer = FakeTrainer(steps=1)
    trainer.gate.clear()
    service = service_factory(trainer)
    rounds = 25
    barrier = threading.Barrier(2)
    submissions: list[list] = [[], []]

    def session(index: int) -> None:
        for number in range(rounds):
            barrier.wait(10)
            config = TrainingConfig(hidden1=number + 1, hidden2=0, epochs=1)
            submissions[index].append(service.submit(config))

    threads = [threading.Thread(target=session, args=(index,)) for index in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [s.run_id for s in submissions[0]] == [s.run_id for s in submissions[1]]
    for first, second in zip(*submissions, strict=False):
        assert sorted([first.attached, second.attached]) == [False, True]
    trainer.gate.set()
    for submission in submissions[0]:
        assert service.wait(submission.run_id, timeout=10).status == "complete"
    assert len(trainer.calls) == rounds
    assert len(service.store.list_runs()) == rounds


def test_a_run_completing_between_lookup_and_claim_is_not_trained_again(
    service_factory, monkeypatch
):
    trainer = FakeTrainer()
    trainer.gate.clear()
    service = service_factory(trainer)
    config = TrainingConfig(hidden1=8, hidden2=0, epochs=1)
    first = service.submit(config)  # session one: training, held by the gate
    wait_until(trainer.started.is_set)
    real_find_complete = RunStore.find_complete
    looked = threading.Event()

    def look_then_let_the_other_run_finish(self, cache_key):
        stale = real_find_complete(self, cache_key)  # None: the run is still training
        if not looked.is_set():
            looked.set()
            trainer.gate.set()
            assert service.wait(first.run_id, timeout=10).status == "complete"
        return stale

    monkeypatch.setattr(RunStore, "find_complete", look_then_let_the_other_run_finish)
    second = service.submit(config)  # session two looked a moment too early
    if not second.cached:
        service.wait(second.run_id, timeout=10)
    assert second.run_id == first.run_id
    assert len(trainer.calls) == 1
    assert len(service.store.list_runs()) == 1


# -- 4. TensorFlow raises during a real training -------------------------------------------------


def _resource_exhausted():
    import tensorflow as tf

    return tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor [32,8]")


@pytest.mark.slow
@pytest.mark.parametrize(
    "make_error, expected",
    [
        (lambda: RuntimeError("injected at batch 3"), "RuntimeError: injected at batch 3"),
        (_resource_exhausted, "ResourceExhaustedError: OOM when allocating tensor [32,8]"),
    ],
    ids=["RuntimeError", "ResourceExhaustedError"],
)
def test_tensorflow_error_fails_the_run_and_the_service_keeps_serving(
    service_factory, sample_data, make_error, expected
):
    from explorer.training.loop import train

    armed = threading.Event()
    armed.set()

    class FailInEpochTwo:
        """A progress listener that raises in the middle of epoch two, like a failing kernel."""

        def __init__(self, progress):
            self.progress = progress

        def on_start(self, *arguments):
            self.progress.on_start(*arguments)

        def on_batch(self, epoch, step, logs):
            if armed.is_set() and epoch == 2 and step >= 2:
                raise make_error()
            self.progress.on_batch(epoch, step, logs)

        def on_epoch(self, epoch, record):
            self.progress.on_epoch(epoch, record)

    def failing_train(config, data, *, progress=None, stop=None):
        return train(config, data, progress=FailInEpochTwo(progress), stop=stop)

    service = service_factory(failing_train, data=sample_data)
    config = TrainingConfig(hidden1=8, hidden2=0, epochs=2, batch_size=32, train_fraction=0.05)
    run_id = service.submit(config).run_id
    final = service.wait(run_id, timeout=60)
    assert final.status == "failed" and final.error == expected
    record = service.store.get(run_id)
    assert (record.status, record.error) == ("failed", expected)
    assert [r["epoch"] for r in record.history] == [1]  # epoch 1 finished before the error
    assert service.lookup(config) is None

    armed.clear()
    other = service.submit(config.replace(hidden1=9))
    assert service.wait(other.run_id, timeout=60).status == "complete"
    assert service.store.load_weights(other.run_id)[0].shape == (784, 9)
    retry = service.submit(config)
    assert retry.run_id != run_id and not retry.cached
    assert service.wait(retry.run_id, timeout=60).status == "complete"
    assert service.lookup(config).run_id == retry.run_id


# -- 5. the disk fills up while a run is saved ---------------------------------------------------


@pytest.mark.parametrize("failing_file", ["predictions", "weights"])
def test_disk_full_while_saving_fails_only_that_run_and_a_retry_completes(
    service_factory, monkeypatch, failing_file
):
    service = service_factory()
    store = service.store
    first_config = TrainingConfig(hidden1=8, hidden2=0, epochs=2)
    first = service.submit(first_config)
    assert service.wait(first.run_id, timeout=10).status == "complete"
    first_artifacts = store.load_predictions(first.run_id)

    disk_full = threading.Event()
    real_savez = np.savez_compressed

    def savez(handle, **arrays):
        is_weights = "w00" in arrays
        if disk_full.is_set() and is_weights == (failing_file == "weights"):
            raise OSError(28, "No space left on device")
        return real_savez(handle, **arrays)

    monkeypatch.setattr("explorer.store.registry.np.savez_compressed", savez)
    config = TrainingConfig(hidden1=9, hidden2=0, epochs=2)
    disk_full.set()
    failed = service.submit(config)
    final = service.wait(failed.run_id, timeout=10)
    assert final.status == "failed"
    assert "No space left on device" in final.error
    record = store.get(failed.run_id)
    assert record.status == "failed" and "No space left on device" in record.error
    assert f"Could not save run {failed.run_id}" in record.error
    assert store.find_complete(config.cache_key(DATA.fingerprint)) is None
    assert temporary_folders(store) == []  # the half-written folder was removed
    assert run_folders(store) == {first.run_id}

    # The earlier run is untouched and still served from the cache.
    again = service.submit(first_config)
    assert again.cached and again.run_id == first.run_id
    np.testing.assert_array_equal(
        store.load_predictions(first.run_id).predicted_labels, first_artifacts.predicted_labels
    )

    disk_full.clear()  # space again
    retry = service.submit(config)
    assert not retry.cached and not retry.attached and retry.run_id != failed.run_id
    assert service.wait(retry.run_id, timeout=10).status == "complete"
    assert store.load_weights(retry.run_id)[0].shape == (784, 9)
    assert store.get(failed.run_id).status == "failed"
    assert {r.status for r in store.list_runs()} == {"complete", "failed"}


def _failing_database_writes(monkeypatch, should_fail) -> list[str]:
    """Row updates of runs for which `should_fail(run_id)` fail as SQLite does on a full disk.

    Returns the list of exceptions that end a thread. They are collected quietly instead of
    being formatted by pytest's hook on the dying thread, which, on Python 3.11, can race with
    the main thread's own traceback formatting (both use `ast`) and crash pytest.
    """
    real_update = RunStore._update

    def update(self, run_id, **columns):
        if should_fail(run_id):
            raise sqlite3.OperationalError("database or disk is full")
        return real_update(self, run_id, **columns)

    monkeypatch.setattr(RunStore, "_update", update)
    thread_deaths: list[str] = []
    monkeypatch.setattr(
        threading,
        "excepthook",
        lambda args: thread_deaths.append(f"{args.thread.name}: {args.exc_value!r}"),
    )
    return thread_deaths


def test_worker_survives_a_database_full_error_and_runs_the_queued_jobs(
    service_factory, monkeypatch
):
    trainer = FakeTrainer()
    trainer.gate.clear()
    service = service_factory(trainer)
    blocking = service.submit(TrainingConfig(hidden1=8, hidden2=0, epochs=1))
    wait_until(trainer.started.is_set)
    doomed = service.submit(TrainingConfig(hidden1=9, hidden2=0, epochs=1))
    queued = service.submit(TrainingConfig(hidden1=10, hidden2=0, epochs=1))
    thread_deaths = _failing_database_writes(monkeypatch, lambda run_id: run_id == doomed.run_id)
    trainer.gate.set()
    assert service.wait(blocking.run_id, timeout=10).status == "complete"
    assert service.wait(doomed.run_id, timeout=10).status == "failed"
    final = service.wait(queued.run_id, timeout=3)
    assert final.status == "complete", f"queued job left {final.status!r}; died: {thread_deaths}"
    assert thread_deaths == []


def test_a_run_whose_failure_could_not_be_recorded_can_be_retried(service_factory, monkeypatch):
    service = service_factory()
    config = TrainingConfig(hidden1=9, hidden2=0, epochs=1)
    disk_full = threading.Event()
    disk_full.set()
    _failing_database_writes(monkeypatch, lambda run_id: disk_full.is_set())
    doomed = service.submit(config)  # mark_running fails, and so does recording the failure
    assert service.wait(doomed.run_id, timeout=10).status == "failed"
    assert service.store.get(doomed.run_id).status == "queued"  # what the store was left with
    disk_full.clear()  # space again: pressing Train once more should train it
    retry = service.submit(config)
    assert not retry.attached and retry.run_id != doomed.run_id
    assert service.wait(retry.run_id, timeout=10).status == "complete"


# -- 6. a store folder that cannot be written ----------------------------------------------------


@pytest.fixture
def unusable_home(tmp_path, monkeypatch) -> Path:
    """EXPLORER_HOME under a regular file: not creatable even by root (chmod would not stop it)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    home = blocker / "explorer-home"
    monkeypatch.setenv("EXPLORER_HOME", str(home))
    return home


def test_unusable_home_raises_store_error_that_says_what_to_do(unusable_home):
    for make in (lambda: RunStore(), lambda: create_service(), lambda: RunStore(unusable_home)):
        with pytest.raises(StoreError) as caught:
            make()
        message = str(caught.value)
        assert "Cannot use the run store" in message and str(unusable_home) in message
        assert "Set EXPLORER_HOME" in message
    assert not unusable_home.exists()


def test_cli_reports_an_unusable_home_and_exits_1(unusable_home, capsys):
    assert cli.main(["runs"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Cannot use the run store") and "EXPLORER_HOME" in error


def test_page_shows_the_store_error_instead_of_crashing(unusable_home):
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    errors = [text for text in alerts(app, "error")]
    assert any("Cannot use the run store" in e and "EXPLORER_HOME" in e for e in errors), errors
    # The controls still work: the page is usable, not a stack trace.
    app.select_slider(key="hidden1").set_value(128).run()
    assert not app.exception
    assert any("Cannot use the run store" in element for element in alerts(app, "error"))


def test_compare_view_shows_the_store_error_instead_of_crashing(unusable_home):
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["view"] = "compare"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Cannot use the run store" in element for element in alerts(app, "error"))
