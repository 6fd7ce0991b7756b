"""The run store: round trip, atomicity, cache lookups, broken files and rows."""

import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.store.records import StoreError, check_run_id
from explorer.store.registry import RunStore
from testkit.fakes import fake_result, tiny_data

DATA = tiny_data()
HISTORY = [{"epoch": 1, "loss": 0.5, "accuracy": 0.8, "test_loss": 0.4, "test_accuracy": 0.85}]


def finished_run(store: RunStore, config=None, stopped=False):
    config = config or TrainingConfig(hidden1=8)
    key = config.cache_key(DATA.fingerprint)
    run_id, created = store.claim(config, key, "data-dir")
    assert created
    store.mark_running(run_id)
    result = fake_result(config, DATA, HISTORY, stopped)
    return store.finish(run_id, result), result


def test_round_trip(tmp_path):
    store = RunStore(tmp_path)
    record, result = finished_run(store)
    assert record.status == "complete"
    assert record.config == TrainingConfig(hidden1=8)
    assert record.history == HISTORY
    assert record.summary["test_accuracy"] == pytest.approx(result.test_accuracy)
    np.testing.assert_array_equal(record.confusion_matrix, result.confusion_matrix)
    predictions = store.load_predictions(record.run_id)
    np.testing.assert_array_equal(predictions.predicted_labels, result.predicted_labels)
    np.testing.assert_array_equal(predictions.probabilities, result.probabilities)
    assert [w.shape for w in store.load_weights(record.run_id)] == [(784, 8), (8,)]
    # A new store object on the same folder (a restart) sees the same run.
    again = RunStore(tmp_path).find_complete(TrainingConfig(hidden1=8).cache_key(DATA.fingerprint))
    assert again.run_id == record.run_id


def test_cache_lookup_only_finds_complete_runs_of_that_key(tmp_path):
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    key = config.cache_key(DATA.fingerprint)
    run_id, _ = store.claim(config, key, "data-dir")
    assert store.find_complete(key) is None  # queued is not a result
    store.finish(run_id, fake_result(config, DATA, HISTORY, stopped=True))
    assert store.find_complete(key) is None  # stopped is not the cached result either
    assert store.find_latest(key).status == "stopped"
    assert store.find_complete(TrainingConfig(hidden1=9).cache_key(DATA.fingerprint)) is None


def test_claim_deduplicates_active_runs(tmp_path):
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    key = config.cache_key(DATA.fingerprint)
    first, created_first = store.claim(config, key, "data-dir")
    second, created_second = store.claim(config, key, "data-dir")
    assert (created_first, created_second) == (True, False)
    assert first == second


def test_runs_of_dead_processes_become_interrupted(tmp_path):
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    run_id, _ = store.claim(config, config.cache_key(DATA.fingerprint), "data-dir")
    store.mark_running(run_id)
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute("UPDATE runs SET owner_pid = 999999999 WHERE run_id = ?", (run_id,))
    assert store.mark_orphans_interrupted() == 1
    assert store.get(run_id).status == "interrupted"
    # ... and the key can be claimed again.
    assert store.claim(config, config.cache_key(DATA.fingerprint), "data-dir")[1] is True


def test_finish_is_atomic_when_files_cannot_be_written(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    key = config.cache_key(DATA.fingerprint)
    run_id, _ = store.claim(config, key, "data-dir")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("explorer.store.registry.np.savez_compressed", disk_full)
    with pytest.raises(StoreError, match="No space left"):
        store.finish(run_id, fake_result(config, DATA, HISTORY))
    assert store.find_complete(key) is None
    assert store.get(run_id).status == "failed"
    assert not (tmp_path / "runs" / run_id).exists()
    assert [p for p in (tmp_path / "runs").iterdir()] == []  # no temporary folder left behind


def test_missing_and_truncated_artifacts_give_clear_errors(tmp_path):
    store = RunStore(tmp_path)
    record, _ = finished_run(store)
    other, _ = finished_run(store, TrainingConfig(hidden1=9))
    predictions = tmp_path / "runs" / record.run_id / "predictions.npz"
    predictions.write_bytes(predictions.read_bytes()[:100])
    with pytest.raises(StoreError, match="damaged"):
        store.load_predictions(record.run_id)
    predictions.unlink()
    with pytest.raises(StoreError, match="missing"):
        store.load_predictions(record.run_id)
    assert store.load_predictions(other.run_id).predicted_labels.shape == (30,)


def test_corrupt_row_is_skipped_and_others_stay_usable(tmp_path):
    store = RunStore(tmp_path)
    good, _ = finished_run(store)
    bad, _ = finished_run(store, TrainingConfig(hidden1=9))
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute("UPDATE runs SET config_json = '{oops' WHERE run_id = ?", (bad.run_id,))
    assert [record.run_id for record in store.list_runs()] == [good.run_id]


@pytest.mark.parametrize("run_id", ["../etc/passwd", "ABCDEF0123456789", "abc", "", None, "a" * 17])
def test_run_ids_are_validated_before_use(run_id):
    with pytest.raises(StoreError, match="not a valid run id"):
        check_run_id(run_id)


def test_unwritable_home_gives_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "file"
        blocker.write_text("not a folder")
        home = blocker / "store"  # cannot create a folder inside a file, even as root
    else:
        home = tmp_path / "locked"
        home.mkdir(mode=0o500)
    with pytest.raises(StoreError, match="Cannot use the run store"):
        RunStore(home)


def test_delete_removes_row_and_files(tmp_path):
    store = RunStore(tmp_path)
    record, _ = finished_run(store)
    store.delete(record.run_id)
    assert store.get(record.run_id) is None
    assert not Path(tmp_path / "runs" / record.run_id).exists()


def test_list_runs_filters_by_status(tmp_path):
    store = RunStore(tmp_path)
    finished_run(store)
    finished_run(store, TrainingConfig(hidden1=9), stopped=True)
    assert [r.status for r in store.list_runs(("stopped",))] == ["stopped"]
    assert len(store.list_runs()) == 2
    newest = store.list_runs(limit=1)
    assert len(newest) == 1 and newest[0].config == TrainingConfig(hidden1=9)
