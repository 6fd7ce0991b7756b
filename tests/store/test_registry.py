"""The run store: round trip, atomicity, cache lookups, broken files and rows."""

import dataclasses
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.store.records import NoKerasModel, StoreError, check_run_id
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
    shapes = [w.shape for w in store.load_weights(record.run_id)]
    assert shapes == [(784, 8), (8,), (8, 20), (20,), (20, 10), (10,)]
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


def test_stop_requests_reach_the_owner_through_the_store(tmp_path):
    store = RunStore(tmp_path)
    store.register_instance("cccccccccccccccc")
    config = TrainingConfig(hidden1=8)
    run_id, _ = store.claim(config, config.cache_key("d"), "x", owner="cccccccccccccccc")
    assert store.stop_requests("cccccccccccccccc") == []
    assert store.request_stop(run_id) is True
    assert store.stop_requests("cccccccccccccccc") == [run_id]
    store.mark_ended(run_id, "stopped", "stopped")
    assert store.request_stop(run_id) is False  # not active any more


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


def test_the_keras_model_is_kept_when_the_result_has_one(tmp_path):
    store = RunStore(tmp_path)
    config = TrainingConfig(hidden1=8)
    run_id, _ = store.claim(config, config.cache_key(DATA.fingerprint), "data-dir")
    result = dataclasses.replace(fake_result(config, DATA, HISTORY), keras_model=b"PK keras")
    store.finish(run_id, result)
    assert store.load_keras_model(run_id) == b"PK keras"
    assert (tmp_path / "runs" / run_id / "model.keras").read_bytes() == b"PK keras"


def test_a_run_stored_without_its_keras_model_says_how_to_get_one(tmp_path):
    store = RunStore(tmp_path)
    record, _ = finished_run(store)  # test doubles have no Keras model, as older runs
    assert store.has_files(record.run_id)  # it is still a whole run
    with pytest.raises(NoKerasModel, match=f"python -m explorer export {record.run_id}"):
        store.load_keras_model(record.run_id)
    store.delete(record.run_id)
    with pytest.raises(StoreError, match="missing") as raised:
        store.load_keras_model(record.run_id)
    assert not isinstance(raised.value, NoKerasModel)


@pytest.mark.parametrize("damage", ["'{oops'", "json_set(config_json, '$.hidden1', 4000)"])
def test_a_damaged_row_is_listed_deletable_and_never_blocks_its_config(tmp_path, damage):
    """A row whose config does not validate any more (hidden1 = 4000 written into the store)
    used to vanish from the listing, and its config could never be trained again."""
    store = RunStore(tmp_path)
    good, _ = finished_run(store)
    bad, _ = finished_run(store, TrainingConfig(hidden1=9))
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute(
            f"UPDATE runs SET config_json = {damage} WHERE run_id = ?", (bad.run_id,)
        )
    listed = {record.run_id: record for record in store.list_runs()}
    assert set(listed) == {good.run_id, bad.run_id}
    assert listed[bad.run_id].status == "damaged" and listed[bad.run_id].config is None
    assert "not valid" in listed[bad.run_id].error
    key = TrainingConfig(hidden1=9).cache_key(DATA.fingerprint)
    assert store.find_complete(key) is None
    again, created = store.claim(TrainingConfig(hidden1=9), key, "data-dir")
    assert created and again != bad.run_id  # it can be trained again
    store.delete(bad.run_id)
    assert store.get(bad.run_id) is None


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


def test_a_damaged_registry_says_what_happened_and_how_to_recover(tmp_path):
    store = RunStore(tmp_path)
    finished_run(store)
    database = tmp_path / "runs.db"
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(database.read_bytes())
    data[4096 : 4096 + 4096] = os.urandom(4096)  # 4 KB of garbage inside the file
    database.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"is damaged .*python -m explorer doctor"):
        RunStore(tmp_path).list_runs()


def test_an_overwritten_registry_is_not_blamed_on_permissions(tmp_path):
    finished_run(RunStore(tmp_path))
    (tmp_path / "runs.db").write_bytes(b"this is not a database at all " * 100)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp_path / 'runs.db'}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StoreError) as raised:
        RunStore(tmp_path)
    assert "damaged" in str(raised.value) and "EXPLORER_HOME" not in str(raised.value)


def test_runs_can_be_listed_on_a_full_disk(tmp_path, monkeypatch):
    store = RunStore(tmp_path)
    record, _ = finished_run(store)
    from explorer.store import connections

    original = connections.ConnectionPool._take

    def full(self):  # every write now fails as on a full disk
        connection = original(self)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(connections.ConnectionPool, "_take", full)
    reopened = RunStore(tmp_path)
    assert [r.run_id for r in reopened.list_runs()] == [record.run_id]
    config = TrainingConfig(hidden1=77)
    with pytest.raises(StoreError, match=r"The disk holding the run registry .* is full"):
        for index in range(200):  # fill the last free pages
            reopened.claim(config.replace(seed=index), f"k{index}", "x")
