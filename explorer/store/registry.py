"""The run store: a SQLite registry of runs plus one folder of files per run, under EXPLORER_HOME.

    store = RunStore()                                    # EXPLORER_HOME or the user's cache folder
    store.register_instance(instance_id)                  # a server or command holding runs
    run_id, created = store.claim(config, key, "sample", owner=instance_id)
    store.mark_running(run_id, worker="local:4242"); store.save_progress(run_id, history)
    store.mark_ended(run_id, message, Status.STOPPED)     # a run that ends without a result
    store.finish(run_id, result)                          # files first, then one transaction
    store.find_complete(key)                              # the cache lookup
    store.load_predictions(run_id)                        # per test digit; no pickle, ever
    store.load_weights(run_id)                            # kernel and bias of every layer
    store.load_keras_model(run_id)                        # the trained network, .keras bytes

A run is "complete" only once its folder is in place (written under a temporary name and renamed)
and its row is updated in one transaction, so a crash never leaves a half-written run that counts
as complete. Each folder also holds `run.json`, the row as JSON, so `explorer.store.doctor` can
rebuild a damaged registry from the folders.

Leases (explorer.store.leases): a queued or running run belongs to a server or command whose
lease holds; once it expires, the run is interrupted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from explorer.config import MODEL_VERSION, TrainingConfig
from explorer.store.connections import ConnectionPool
from explorer.store.leases import InstanceLeases
from explorer.store.records import (
    ACTIVE_STATUSES,
    NoKerasModel,
    RunPredictions,
    RunRecord,
    Status,
    StoreError,
    check_run_id,
    sql_statuses,
)

RUN_FILE = "run.json"
# The trained network in Keras' format; runs stored before it was kept have only weights.npz.
MODEL_FILE = "model.keras"
# The SQL spellings of the statuses that queries name.
_ACTIVE = sql_statuses(ACTIVE_STATUSES)
_COMPLETE = sql_statuses([Status.COMPLETE])
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    cache_key TEXT NOT NULL,
    config_json TEXT NOT NULL,
    data_source TEXT NOT NULL,
    model_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    owner_pid INTEGER,
    history_json TEXT NOT NULL DEFAULT '[]',
    summary_json TEXT NOT NULL DEFAULT '{}',
    confusion_json TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_key ON runs (cache_key, status);
CREATE TABLE IF NOT EXISTS instances (
    instance_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at REAL NOT NULL,
    heartbeat_at REAL NOT NULL
);
"""
# Columns added after the first release, added to older registries when they are opened.
_ADDED_COLUMNS = {
    "owner": "TEXT",
    "worker": "TEXT",
    "requested_by": "TEXT",
    "stop_requested": "INTEGER NOT NULL DEFAULT 0",
}


def default_home() -> Path:
    """EXPLORER_HOME, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)/mnist-explorer."""
    if os.environ.get("EXPLORER_HOME"):
        return Path(os.environ["EXPLORER_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mnist-explorer"


class RunStore(InstanceLeases):
    """SQLite registry (runs.db, WAL) plus run folders (runs/<run_id>/) under `home`.

    Raises StoreError, saying what happened and what to do, if the folder cannot be used or the
    registry is damaged. On a full disk it still opens, for reading.
    """

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.runs_dir = self.home / "runs"
        self.path = self.home / "runs.db"
        self._pool = ConnectionPool(self.path)
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(
                f"Cannot use the run store in {self.home}: {error.strerror or error}. Set "
                "EXPLORER_HOME to a folder you can write to."
            ) from error
        try:
            self._create_schema()
        except StoreError as error:
            if not error.args[0].startswith("The disk") or not self._readable():
                raise  # a full disk still lets an existing registry be read

    def _create_schema(self) -> None:
        with self._pool.transaction() as connection:
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("COMMIT")
                connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once
                connection.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)
            present = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
            for name, kind in _ADDED_COLUMNS.items():
                if name not in present:
                    connection.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")

    def _readable(self) -> bool:
        try:
            with self._pool.transaction(write=False) as connection:
                connection.execute("SELECT COUNT(*) FROM runs").fetchone()
            return True
        except StoreError:
            return False

    def close(self) -> None:
        """Close the idle connections (a store is closed with the service that uses it)."""
        self._pool.close()

    def _connect(self, write: bool = True):
        """A pooled connection in a transaction (see explorer.store.connections)."""
        return self._pool.transaction(write)

    # -- writing -------------------------------------------------------------------------------

    def claim(
        self,
        config: TrainingConfig,
        cache_key: str,
        data_source: str,
        *,
        owner: str | None = None,
        requested_by: str | None = None,
    ) -> tuple[str, bool]:
        """Reserve a new queued run for `cache_key` unless one is complete, queued or running.

        Returns (run_id, created); when not created, `run_id` is the complete run if there is
        one, else the active one. One transaction, so two processes asking at once cannot both
        create a run, and a run that completed a moment ago is not trained again. An active run
        whose owner's lease has expired does not count, nor does a row that cannot be read.
        """
        with self._connect() as connection:
            live = self._live_instances(connection)
            rows = connection.execute(
                "SELECT run_id, owner, status, config_json FROM runs WHERE cache_key = ? AND "
                f"status IN {sql_statuses([Status.COMPLETE, *ACTIVE_STATUSES])} "
                f"ORDER BY status IN {_COMPLETE} DESC, created_at DESC",
                (cache_key,),
            ).fetchall()
            for run_id, run_owner, status, config_json in rows:
                if _config_problem(config_json) is None and (
                    status == Status.COMPLETE or run_owner in live
                ):
                    return run_id, False
            run_id = secrets.token_hex(8)
            connection.execute(
                "INSERT INTO runs (run_id, cache_key, config_json, data_source, model_version, "
                "status, created_at, owner_pid, owner, requested_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    cache_key,
                    config.canonical_json(),
                    data_source,
                    MODEL_VERSION,
                    Status.QUEUED.value,
                    time.time(),
                    os.getpid(),
                    owner,
                    requested_by,
                ),
            )
        return run_id, True

    def mark_running(self, run_id: str, worker: str | None = None) -> None:
        self._update(run_id, status=Status.RUNNING.value, started_at=time.time(), worker=worker)

    def set_worker(self, run_id: str, worker: str) -> None:
        self._update(run_id, worker=worker)

    def save_progress(self, run_id: str, history: list[dict]) -> None:
        """Record finished epochs as they come, so a stop or crash keeps the curve so far."""
        self._update(run_id, history_json=json.dumps(history))

    def mark_ended(self, run_id: str, message: str, status: str = Status.FAILED) -> None:
        """End a run without a result: failed (the default), stopped or interrupted, and why."""
        self._update(run_id, status=Status(status).value, error=message, finished_at=time.time())

    def request_stop(self, run_id: str) -> bool:
        """Ask whoever trains `run_id` to stop it (they poll for this); False if not active."""
        check_run_id(run_id)
        with self._connect() as connection:
            cursor = connection.execute(
                f"UPDATE runs SET stop_requested = 1 WHERE run_id = ? AND status IN {_ACTIVE}",
                (run_id,),
            )
            return cursor.rowcount > 0

    def stop_requests(self, owner: str) -> list[str]:
        """The active runs of `owner` that someone asked to stop."""
        with self._connect(write=False) as connection:
            rows = connection.execute(
                "SELECT run_id FROM runs WHERE owner = ? AND stop_requested = 1 AND status IN "
                f"{_ACTIVE}",
                (owner,),
            ).fetchall()
        return [run_id for (run_id,) in rows]

    def finish(self, run_id: str, result) -> RunRecord:
        """Store a TrainingResult: its folder first, then the row, as complete or stopped."""
        check_run_id(run_id)
        record = self.get(run_id)
        final_dir = self.runs_dir / run_id
        temporary = Path(tempfile.mkdtemp(prefix=f".{run_id}-", dir=self.runs_dir))
        columns = {
            "status": (Status.STOPPED if result.stopped else Status.COMPLETE).value,
            "finished_at": time.time(),
            "history_json": json.dumps(result.history),
            "summary_json": json.dumps(result.summary()),
            "confusion_json": json.dumps(np.asarray(result.confusion_matrix).tolist()),
            "error": None,
        }
        try:
            _save_npz(
                temporary / "predictions.npz",
                predicted_labels=result.predicted_labels,
                confidence=result.confidence,
                probabilities=result.probabilities,
            )
            weights = {f"w{index:02d}": array for index, array in enumerate(result.weights)}
            _save_npz(temporary / "weights.npz", **weights)
            keras_model = getattr(result, "keras_model", None)
            if keras_model is not None:
                _save_bytes(temporary / MODEL_FILE, keras_model)
            (temporary / RUN_FILE).write_text(json.dumps(_run_file(record, columns)))
            if final_dir.exists():
                shutil.rmtree(final_dir)
            os.replace(temporary, final_dir)
        except OSError as error:
            shutil.rmtree(temporary, ignore_errors=True)
            self.mark_ended(run_id, f"Could not save the run's files: {error}")
            raise StoreError(f"Could not save run {run_id}: {error}") from error
        self._update(run_id, **columns)
        return self.get(run_id)

    def insert_record(self, row: dict[str, Any]) -> None:
        """Put back a row read from a run folder's run.json (explorer.store.doctor)."""
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        with self._connect() as connection:
            connection.execute(
                f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", (*row.values(),)
            )

    def delete(self, run_id: str) -> None:
        """Remove a run's row and its files."""
        check_run_id(run_id)
        with self._connect() as connection:
            connection.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        shutil.rmtree(self.runs_dir / run_id, ignore_errors=True)

    def _update(self, run_id: str, **columns: Any) -> None:
        check_run_id(run_id)
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._connect() as connection:
            connection.execute(
                f"UPDATE runs SET {assignments} WHERE run_id = ?", (*columns.values(), run_id)
            )

    # -- reading -------------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        """A run by id (a damaged row too, with status "damaged"), or None."""
        check_run_id(run_id)
        return next(iter(self._select("WHERE run_id = ?", (run_id,))), None)

    def find_complete(self, cache_key: str) -> RunRecord | None:
        """The newest complete run for `cache_key`: the cache lookup."""
        rows = self._select(
            f"WHERE cache_key = ? AND status IN {_COMPLETE} ORDER BY finished_at DESC", (cache_key,)
        )
        return next((record for record in rows if record.status == Status.COMPLETE), None)

    def find_latest(self, cache_key: str) -> RunRecord | None:
        """The newest readable run for `cache_key` whatever its status (a stopped one, say)."""
        rows = self._select("WHERE cache_key = ? ORDER BY created_at DESC", (cache_key,))
        return next((record for record in rows if record.status != Status.DAMAGED), None)

    def list_runs(
        self, statuses: tuple[str, ...] | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest first, optionally only those with the given statuses and at most `limit`.

        Damaged rows are listed (status "damaged") when no statuses are given or "damaged" is
        one of them, so they can be seen and deleted.
        """
        records = self._select("ORDER BY created_at DESC", ())
        if statuses:
            records = [record for record in records if record.status in statuses]
        return records[:limit] if limit is not None else records

    def has_files(self, run_id: str) -> bool:
        """Whether both files of a finished run are in place (a cheap check: no reading)."""
        folder = self.runs_dir / check_run_id(run_id)
        return all((folder / name).is_file() for name in ("predictions.npz", "weights.npz"))

    def load_predictions(self, run_id: str) -> RunPredictions:
        """What a complete or stopped run predicted; StoreError if its file is missing or broken."""
        with self._open_npz(run_id, "predictions.npz") as stored:
            arrays = [stored[name] for name in ("predicted_labels", "confidence", "probabilities")]
        for array in arrays:
            array.setflags(write=False)
        return RunPredictions(*arrays)

    def load_weights(self, run_id: str) -> list[np.ndarray]:
        """Kernel and bias of every Dense layer in order; StoreError if missing or broken."""
        with self._open_npz(run_id, "weights.npz") as stored:
            return [stored[name] for name in sorted(stored.files)]

    def load_keras_model(self, run_id: str) -> bytes:
        """The run's trained network as the bytes of a `.keras` file.

        NoKerasModel (a StoreError) for a run stored before runs kept their model; StoreError
        if the run's files are missing or cannot be read.
        """
        folder = self.runs_dir / check_run_id(run_id)
        try:
            return (folder / MODEL_FILE).read_bytes()
        except FileNotFoundError:
            if not (folder / "weights.npz").is_file():
                missing = f"The files of run {run_id} are missing; train it again."
                raise StoreError(missing) from None
            raise NoKerasModel(
                f"Run {run_id} was stored before runs kept their Keras model. Export it with "
                f"`python -m explorer export {run_id}`, which builds the model from its weights."
            ) from None
        except OSError as error:
            raise StoreError(f"The model of run {run_id} cannot be read ({error}).") from error

    @contextmanager
    def _open_npz(self, run_id: str, name: str):
        path = self.runs_dir / check_run_id(run_id) / name
        try:
            with np.load(path, allow_pickle=False) as stored:
                yield stored
        except FileNotFoundError as error:
            raise StoreError(f"The files of run {run_id} are missing; train it again.") from error
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
            raise StoreError(
                f"The files of run {run_id} are damaged ({error}); train it again."
            ) from error

    def _select(self, where: str, parameters: tuple) -> list[RunRecord]:
        with self._connect(write=False) as connection:
            cursor = connection.execute(f"SELECT * FROM runs {where}", parameters)
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return [record_from_row(row) for row in rows]


def record_from_row(row: dict[str, Any]) -> RunRecord:
    """A RunRecord from a registry row. A row that cannot be read becomes a "damaged" record
    that says why, so it is listed and can be deleted instead of vanishing."""
    base = {
        "run_id": row["run_id"],
        "cache_key": row["cache_key"],
        "data_source": str(row["data_source"]),
        "created_at": row["created_at"] or 0.0,
    }
    problem = _config_problem(row["config_json"])
    if problem is not None:
        return RunRecord(config=None, status=Status.DAMAGED, error=problem, **base)
    try:
        confusion = row["confusion_json"]
        return RunRecord(
            config=TrainingConfig.from_mapping(json.loads(row["config_json"])),
            status=row["status"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            history=json.loads(row["history_json"]),
            summary=json.loads(row["summary_json"]),
            confusion_matrix=None if confusion is None else np.array(json.loads(confusion)),
            error=row["error"],
            owner=row.get("owner"),
            worker=row.get("worker"),
            requested_by=row.get("requested_by"),
            stop_requested=bool(row.get("stop_requested")),
            **base,
        )
    except (ValueError, TypeError) as error:
        return RunRecord(
            config=None, status=Status.DAMAGED, error=f"Unreadable row: {error}", **base
        )


def _config_problem(config_json: str) -> str | None:
    """Why a stored config cannot be used (None if it can)."""
    try:
        TrainingConfig.from_mapping(json.loads(config_json))
    except (ValueError, TypeError) as error:
        return f"Its settings are not valid any more: {error}"
    return None


def _run_file(record: RunRecord | None, columns: dict[str, Any]) -> dict[str, Any]:
    """The row of a finished run as its folder's run.json keeps it."""
    if record is None:
        return columns
    return {
        "run_id": record.run_id,
        "cache_key": record.cache_key,
        "config_json": record.config.canonical_json() if record.config else "{}",
        "data_source": record.data_source,
        "model_version": MODEL_VERSION,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "worker": record.worker,
        "requested_by": record.requested_by,
        **columns,
    }


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())


def _save_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
