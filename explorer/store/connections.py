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
from contextlib import contextmanager
from pathlib import Path

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
        an error is closed rather than reused.
        """
        connection = self._take()
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield connection
            except BaseException:
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
