"""The doctor's rebuild of a damaged registry keeps the class's tables it can still read."""

import sqlite3
from contextlib import closing
from pathlib import Path

from explorer.config import TrainingConfig
from explorer.store.challenges import ClassroomStore
from explorer.store.doctor import check_and_repair
from explorer.store.registry import RunStore
from testkit.fakes import fake_result, tiny_data

DATA = tiny_data()
SESSIONS = {"session-a": "Ada", "session-b": "Bob", "session-c": "Cy"}


def class_store(home: Path) -> tuple[list[str], int]:
    """Three runs, an ended challenge and an active one with 3 nicknames and 9 requests, and a
    search trial; returns the run ids and the active challenge's id."""
    store = RunStore(home)
    run_ids = []
    for hidden1 in (8, 9, 10):
        config = TrainingConfig(hidden1=hidden1)
        run_id, _ = store.claim(config, config.cache_key(DATA.fingerprint), "sample")
        store.finish(run_id, fake_result(config, DATA, [{"epoch": 1, "loss": 0.5}]))
        run_ids.append(run_id)
    classroom = ClassroomStore(store.path)
    classroom.start_challenge("Warm-up")
    classroom.end_challenge()
    challenge = classroom.start_challenge("Smallest net", max_params=50_000, max_epochs=5)
    for session, nickname in SESSIONS.items():
        classroom.set_nickname(challenge.challenge_id, session, nickname)
        for run_id in run_ids:
            classroom.record_request(challenge.challenge_id, session, run_id)
    search_id = classroom.search_id({"trials": 3})
    classroom.add_search_trial(search_id, 0, run_ids[0], {"hidden1": 8})
    classroom.save_scores({run_ids[0]: (0.9, 0.8)})
    classroom.close()
    store.close()
    return run_ids, challenge.challenge_id


def overwrite_page_of(home: Path, name: str) -> None:
    """Fill the first page of the table or index `name` with garbage, as a failing disk might:
    the rest of the file still reads."""
    registry = home / "runs.db"
    with closing(sqlite3.connect(registry)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (size,) = connection.execute("PRAGMA page_size").fetchone()
        (root,) = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)
        ).fetchone()
    data = bytearray(registry.read_bytes())
    data[(root - 1) * size : root * size] = b"\xff" * size
    registry.write_bytes(bytes(data))


def test_a_registry_whose_runs_index_is_broken_keeps_the_challenge_nicknames_and_requests(
    tmp_path,
):
    run_ids, challenge_id = class_store(tmp_path)
    overwrite_page_of(tmp_path, "runs_by_key")  # the integrity check fails; other tables read

    report = check_and_repair(tmp_path).text()

    assert "moved the damaged registry aside" in report
    assert "put back 2 challenges, 3 nicknames, 9 requests, 1 search, 1 search trial, " in report
    assert "put back 3 run(s) from their folders" in report
    assert "could not read" not in report
    classroom = ClassroomStore(tmp_path / "runs.db")
    challenge = classroom.active_challenge()
    assert (challenge.challenge_id, challenge.title) == (challenge_id, "Smallest net")
    assert (challenge.max_params, challenge.max_epochs) == (50_000, 5)
    nicknames = classroom.nicknames(challenge_id)
    assert {session: entry.nickname for session, entry in nicknames.items()} == SESSIONS
    assert sorted(classroom.requests(challenge_id)) == sorted(
        (session, run_id) for session in SESSIONS for run_id in run_ids
    )
    assert [trial.run_id for trial in classroom.search_trials()] == [run_ids[0]]
    assert classroom.scores() == {run_ids[0]: (0.9, 0.8)}
    classroom.end_challenge()
    assert classroom.start_challenge("Next").challenge_id == challenge_id + 1  # ids not reused
    assert {record.run_id for record in RunStore(tmp_path).list_runs()} == set(run_ids)
    assert list(tmp_path.glob("runs.db.damaged-*"))  # nothing deleted


def test_a_class_table_that_cannot_be_read_is_reported_and_the_others_are_put_back(tmp_path):
    _, challenge_id = class_store(tmp_path)
    overwrite_page_of(tmp_path, "runs_by_key")
    overwrite_page_of(tmp_path, "requests")

    report = check_and_repair(tmp_path)

    assert report.healthy_now
    text = report.text()
    assert "put back 2 challenges, 3 nicknames, 1 search" in text
    assert "could not read the class's requests from runs.db.damaged-" in text
    classroom = ClassroomStore(tmp_path / "runs.db")
    assert classroom.active_challenge().challenge_id == challenge_id
    assert len(classroom.nicknames(challenge_id)) == 3
    assert classroom.requests(challenge_id) == []


def test_an_unreadable_registry_says_the_class_tables_could_not_be_put_back(tmp_path):
    run_ids, _ = class_store(tmp_path)
    registry = tmp_path / "runs.db"
    for suffix in ("-wal", "-shm"):
        Path(f"{registry}{suffix}").unlink(missing_ok=True)
    registry.write_bytes(b"garbage" * 1000)  # the header too: no table can be read

    text = check_and_repair(tmp_path).text()

    assert "put back 3 run(s) from their folders" in text
    assert (
        "could not read the class's challenges, nicknames, requests, searches, search trials, "
        "half scores from runs.db.damaged-"
    ) in text
    assert "file is not a database" in text and "stay in that file" in text
    assert "half scores are worked out again from the runs' predictions" in text
    assert "put back 0" not in text and "put back 1 challenge" not in text
    assert ClassroomStore(registry).active_challenge() is None
    assert {record.run_id for record in RunStore(tmp_path).list_runs()} == set(run_ids)
