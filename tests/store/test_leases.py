"""Leases (explorer.store.leases): a run belongs to a server or command while its lease holds."""

import os
import sqlite3
import time

from explorer.config import TrainingConfig
from explorer.store import leases
from explorer.store.leases import LEASE_SECONDS
from explorer.store.registry import RunStore
from testkit.fakes import tiny_data

DATA = tiny_data()


def test_claim_deduplicates_runs_whose_owner_holds_its_lease(tmp_path):
    store = RunStore(tmp_path)
    store.register_instance("0123456789abcdef")
    config = TrainingConfig(hidden1=8)
    key = config.cache_key(DATA.fingerprint)
    first, created_first = store.claim(config, key, "data-dir", owner="0123456789abcdef")
    second, created_second = store.claim(config, key, "data-dir", owner="fedcba9876543210")
    assert (created_first, created_second) == (True, False)
    assert first == second


def held_run(store: RunStore, tmp_path, *, pid: int, heartbeat_age: float, host=None):
    """A running run owned by an instance registered as another process would register it."""
    config = TrainingConfig(hidden1=8)
    run_id, _ = store.claim(config, config.cache_key(DATA.fingerprint), "x", owner="aaaa")
    store.mark_running(run_id)
    with sqlite3.connect(tmp_path / "runs.db") as connection:
        connection.execute(
            "INSERT INTO instances VALUES ('aaaa', ?, ?, 0, ?)",
            (pid, host or leases._HOST, time.time() - heartbeat_age),
        )
    return run_id


def test_a_run_whose_owner_process_died_is_interrupted_at_once(tmp_path):
    store = RunStore(tmp_path)
    run_id = held_run(store, tmp_path, pid=999_999_999, heartbeat_age=0)
    assert store.interrupt_expired() == 1
    assert store.get(run_id).status == "interrupted"
    config = TrainingConfig(hidden1=8)  # ... and the key can be claimed again
    assert store.claim(config, config.cache_key(DATA.fingerprint), "x")[1] is True


def test_a_lease_that_expires_while_its_pid_is_alive_interrupts_the_run(tmp_path):
    """The container case: a killed server restarts as process 1, and process 1 is always
    alive. Liveness by pid kept its runs "running" forever; the lease expires."""
    store = RunStore(tmp_path)
    run_id = held_run(store, tmp_path, pid=1, heartbeat_age=LEASE_SECONDS + 1)
    assert os.path.exists("/proc/1")  # pid 1 is alive
    assert store.interrupt_expired() == 1
    assert store.get(run_id).status == "interrupted"


def test_an_earlier_process_with_this_pid_holds_no_lease(tmp_path):
    """A restarted container gets the same pid as before: the old instance's fresh heartbeat
    does not make its runs ours."""
    store = RunStore(tmp_path)
    run_id = held_run(store, tmp_path, pid=os.getpid(), heartbeat_age=0)
    assert store.interrupt_expired() == 1
    assert store.get(run_id).status == "interrupted"


def test_a_fresh_lease_on_another_machine_keeps_its_run(tmp_path):
    store = RunStore(tmp_path)
    run_id = held_run(store, tmp_path, pid=999_999_999, heartbeat_age=1, host="elsewhere")
    assert store.interrupt_expired() == 0
    assert store.get(run_id).status == "running"


def test_ending_an_instance_interrupts_its_runs_with_the_reason(tmp_path):
    store = RunStore(tmp_path)
    store.register_instance("bbbbbbbbbbbbbbbb")
    config = TrainingConfig(hidden1=8)
    run_id, _ = store.claim(config, config.cache_key("d"), "x", owner="bbbbbbbbbbbbbbbb")
    assert store.end_instance("bbbbbbbbbbbbbbbb", "The server was stopped (SIGTERM).") == 1
    assert (store.get(run_id).status, store.get(run_id).error) == (
        "interrupted",
        "The server was stopped (SIGTERM).",
    )
