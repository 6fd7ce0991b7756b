"""A small pool of SQLite connections, each used in one transaction at a time.

    pool = ConnectionPool(path_to_db)
    with pool.transaction(write=True) as connection:   # BEGIN IMMEDIATE ... COMMIT
        connection.execute("UPDATE ...")

Why a pool: opening a connection costs more than most of the run store's queries, and a page view
makes several. Why not one shared connection: page sessions and the training worker query from
different threads at once. Under WAL with a busy timeout, this is also safe across processes.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager, suppress
from pathlib import Path

from explorer.store.records import StoreError

# Open connections kept: a few threads (page sessions, the worker) query at once.
MAX_IDLE_CONNECTIONS = 4


class ConnectionPool:
    """Connections to one SQLite file, handed out one transaction at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._idle: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @contextmanager
    def transaction(self, write: bool = True):
        """A connection in a transaction: committed on success, rolled back on error.

        Writers take the write lock up front (BEGIN IMMEDIATE) so a read-then-write cannot
        interleave with another process; readers never block under WAL. A connection that saw
        an error is closed rather than reused. SQLite's own errors become a StoreError that
        names the cause and what to do (see `store_error`).
        """
        try:
            with self._transaction(write) as connection:
                yield connection
        except sqlite3.DatabaseError as error:
            raise store_error(error, self.path) from error

    @contextmanager
    def _transaction(self, write: bool):
        connection = self._take()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield connection
            except BaseException:
                with suppress(sqlite3.Error):  # SQLite may have rolled back already
                    connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        except BaseException:
            connection.close()
            raise
        with self._lock:
            if len(self._idle) < MAX_IDLE_CONNECTIONS:
                self._idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        """Close the idle connections (those in use close when their transaction ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    def _take(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        connection = sqlite3.connect(
            self.path, timeout=60, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection


def store_error(error: sqlite3.DatabaseError, path: Path) -> StoreError:
    """SQLite's error as a StoreError that says what happened and how to recover."""
    text = str(error)
    if "malformed" in text or "not a database" in text or "disk I/O" in text:
        return StoreError(
            f"The run registry {path} is damaged ({text}). Run `python -m explorer doctor`: it "
            "moves the damaged file aside and rebuilds the registry from the run folders; "
            "nothing is deleted."
        )
    if "full" in text:
        return StoreError(
            f"The disk holding the run registry {path} is full ({text}). Free some space; "
            "stored runs can still be viewed."
        )
    if "readonly" in text or "unable to open" in text or "permission" in text.lower():
        return StoreError(
            f"Cannot write to the run registry {path} ({text}). Set EXPLORER_HOME to a folder "
            "you can write to."
        )
    return StoreError(f"The run registry {path} failed: {text}.")
