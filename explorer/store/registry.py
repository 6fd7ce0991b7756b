"""The run store: a SQLite registry of runs plus one artifact folder per run, under EXPLORER_HOME.

    store = RunStore()                                   # EXPLORER_HOME or the user's cache folder
    run_id, created = store.claim(config, key, "sample")  # one active run per cache key
    store.mark_running(run_id); store.save_progress(run_id, history)
    store.finish(run_id, result)                         # artifacts first, then one transaction
    store.find_complete(key)                             # the cache lookup
    store.load_predictions(run_id)                       # per test digit; no pickle, ever
    store.load_weights(run_id)                           # kernel and bias of every layer

A run is "complete" only once its artifact folder is in place (written under a temporary name and
renamed) and its row is updated in a single transaction, so a crash never leaves a half-written
run that counts as complete. Calls share a small pool of connections (explorer.connections): safe
across threads, and with WAL and a busy timeout, safe across processes.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import tempfile
import time
import zipfile
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from explorer.config import MODEL_VERSION, TrainingConfig
from explorer.store.connections import ConnectionPool
from explorer.store.records import (
    RunPredictions,
    RunRecord,
    StoreError,
    check_run_id,
    process_alive,
)

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
"""


def default_home() -> Path:
    """EXPLORER_HOME, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)/mnist-explorer."""
    if os.environ.get("EXPLORER_HOME"):
        return Path(os.environ["EXPLORER_HOME"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mnist-explorer"


class RunStore:
    """SQLite registry (runs.db, WAL) plus artifact folders (runs/<run_id>/) under `home`."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.runs_dir = self.home / "runs"
        self._pool = ConnectionPool(self.home / "runs.db")
        try:
            self.runs_dir.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.home / "runs.db", timeout=60)) as connection:
                connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once
                connection.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise StoreError(
                f"Cannot use the run store in {self.home}: {error}. Set EXPLORER_HOME to a "
                "folder you can write to."
            ) from error

    def _connect(self, write: bool = True):
        """A pooled connection in a transaction (see explorer.connections)."""
        return self._pool.transaction(write)

    # -- writing ---------------------------------------------------------------------------

    def claim(self, config: TrainingConfig, cache_key: str, data_source: str) -> tuple[str, bool]:
        """Reserve a new queued run for `cache_key` unless one is complete, queued or running.

        Returns (run_id, created); when not created, `run_id` is the complete run if there is
        one, else the active one. One transaction, so two processes asking at once cannot both
        create a run, and a run that completed a moment ago is not trained again; an active run
        whose owner process has died does not count.
        """
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT run_id, owner_pid, status FROM runs WHERE cache_key = ? AND status IN "
                "('complete', 'queued', 'running') "
                "ORDER BY status = 'complete' DESC, created_at DESC",
                (cache_key,),
            ).fetchall()
            for run_id, owner_pid, status in rows:
                if status == "complete" or process_alive(owner_pid):
                    return run_id, False
            run_id = secrets.token_hex(8)
            connection.execute(
                "INSERT INTO runs (run_id, cache_key, config_json, data_source, model_version, "
                "status, created_at, owner_pid) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?)",
                (
                    run_id,
                    cache_key,
                    config.canonical_json(),
                    data_source,
                    MODEL_VERSION,
                    time.time(),
                    os.getpid(),
                ),
            )
        return run_id, True

    def mark_running(self, run_id: str) -> None:
        self._update(run_id, status="running", started_at=time.time())

    def save_progress(self, run_id: str, history: list[dict]) -> None:
        """Record finished epochs as they come, so a stop or crash keeps the curve so far."""
        self._update(run_id, history_json=json.dumps(history))

    def mark_failed(self, run_id: str, message: str, status: str = "failed") -> None:
        self._update(run_id, status=status, error=message, finished_at=time.time())

    def finish(self, run_id: str, result) -> RunRecord:
        """Store a TrainingResult: artifact folder first, then the row, as complete or stopped."""
        check_run_id(run_id)
        final_dir = self.runs_dir / run_id
        temporary = Path(tempfile.mkdtemp(prefix=f".{run_id}-", dir=self.runs_dir))
        try:
            _save_npz(
                temporary / "predictions.npz",
                predicted_labels=result.predicted_labels,
                confidence=result.confidence,
                probabilities=result.probabilities,
            )
            weights = {f"w{index:02d}": array for index, array in enumerate(result.weights)}
            _save_npz(temporary / "weights.npz", **weights)
            if final_dir.exists():
                shutil.rmtree(final_dir)
            os.replace(temporary, final_dir)
        except OSError as error:
            shutil.rmtree(temporary, ignore_errors=True)
            self.mark_failed(run_id, f"Could not save the run's files: {error}")
            raise StoreError(f"Could not save run {run_id}: {error}") from error
        self._update(
            run_id,
            status="stopped" if result.stopped else "complete",
            finished_at=time.time(),
            history_json=json.dumps(result.history),
            summary_json=json.dumps(result.summary()),
            confusion_json=json.dumps(np.asarray(result.confusion_matrix).tolist()),
            error=None,
        )
        return self.get(run_id)

    def mark_orphans_interrupted(self) -> int:
        """Runs left queued or running by a process that is gone become "interrupted"."""
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT run_id, owner_pid FROM runs WHERE status IN ('queued', 'running')"
            ).fetchall()
            orphans = [run_id for run_id, pid in rows if not process_alive(pid)]
            for run_id in orphans:  # files half-written when the process died
                for leftover in self.runs_dir.glob(f".{run_id}-*"):
                    shutil.rmtree(leftover, ignore_errors=True)
            for run_id in orphans:
                connection.execute(
                    "UPDATE runs SET status = 'interrupted', finished_at = ?, error = ? "
                    "WHERE run_id = ?",
                    (
                        time.time(),
                        "The process training this run stopped before it finished.",
                        run_id,
                    ),
                )
        return len(orphans)

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

    # -- reading ---------------------------------------------------------------------------

    def get(self, run_id: str) -> RunRecord | None:
        check_run_id(run_id)
        return next(iter(self._select("WHERE run_id = ?", (run_id,))), None)

    def find_complete(self, cache_key: str) -> RunRecord | None:
        """The newest complete run for `cache_key`: the cache lookup."""
        rows = self._select(
            "WHERE cache_key = ? AND status = 'complete' ORDER BY finished_at DESC LIMIT 1",
            (cache_key,),
        )
        return next(iter(rows), None)

    def find_latest(self, cache_key: str) -> RunRecord | None:
        """The newest run for `cache_key` whatever its status (to show a stopped or failed one)."""
        rows = self._select("WHERE cache_key = ? ORDER BY created_at DESC LIMIT 1", (cache_key,))
        return next(iter(rows), None)

    def list_runs(
        self, statuses: tuple[str, ...] | None = None, limit: int | None = None
    ) -> list[RunRecord]:
        """Runs, newest first, optionally only those with the given statuses and at most `limit`."""
        where = f"WHERE status IN ({', '.join('?' for _ in statuses)}) " if statuses else ""
        tail = f" LIMIT {int(limit)}" if limit is not None else ""
        return self._select(f"{where}ORDER BY created_at DESC{tail}", tuple(statuses or ()))

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
        return [record for record in map(_record_from_row, rows) if record is not None]


def _record_from_row(row: dict[str, Any]) -> RunRecord | None:
    """A RunRecord from a registry row, or None for a row too damaged to read: it is skipped,
    and the other runs still show."""
    try:
        confusion = row["confusion_json"]
        return RunRecord(
            run_id=row["run_id"],
            cache_key=row["cache_key"],
            config=TrainingConfig.from_mapping(json.loads(row["config_json"])),
            data_source=row["data_source"],
            status=row["status"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            history=json.loads(row["history_json"]),
            summary=json.loads(row["summary_json"]),
            confusion_matrix=None if confusion is None else np.array(json.loads(confusion)),
            error=row["error"],
            owner_pid=row["owner_pid"],
        )
    except (ValueError, TypeError):
        return None


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
