"""The SQLite connection pool behind the run store."""

import sqlite3
import threading

import pytest

from explorer.store.connections import MAX_IDLE_CONNECTIONS, ConnectionPool


@pytest.fixture
def pool(tmp_path):
    pool = ConnectionPool(tmp_path / "test.db")
    with pool.transaction() as connection:
        connection.execute("CREATE TABLE numbers (value INTEGER)")
    yield pool
    pool.close()


def test_a_connection_is_reused_after_a_good_transaction(pool):
    with pool.transaction() as first:
        first.execute("INSERT INTO numbers VALUES (1)")
    with pool.transaction(write=False) as second:
        assert second is first
        assert second.execute("SELECT value FROM numbers").fetchall() == [(1,)]


def test_an_error_rolls_back_and_the_connection_is_not_reused(pool):
    with pytest.raises(RuntimeError), pool.transaction() as broken:
        broken.execute("INSERT INTO numbers VALUES (2)")
        raise RuntimeError("boom")
    with pool.transaction(write=False) as fresh:
        assert fresh is not broken
        assert fresh.execute("SELECT COUNT(*) FROM numbers").fetchone() == (0,)
    with pytest.raises(sqlite3.ProgrammingError):  # closed, not left half-open
        broken.execute("SELECT 1")


def test_threads_get_their_own_connections_and_the_pool_stays_small(pool):
    barrier = threading.Barrier(8)
    seen = []

    def insert(value):
        with pool.transaction(write=False) as connection:
            seen.append(connection)
            barrier.wait()  # all eight hold a connection at the same moment
        with pool.transaction() as connection:
            connection.execute("INSERT INTO numbers VALUES (?)", (value,))

    threads = [threading.Thread(target=insert, args=(value,)) for value in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(connection) for connection in seen}) == 8
    assert len(pool._idle) == MAX_IDLE_CONNECTIONS
    with pool.transaction(write=False) as connection:
        assert sorted(v for (v,) in connection.execute("SELECT value FROM numbers")) == list(
            range(8)
        )
