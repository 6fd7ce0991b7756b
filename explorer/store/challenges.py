"""The class's challenge, nicknames, requests, half scores and searches, in the run registry.

    classroom = ClassroomStore(run_store.path)             # same SQLite file as the runs
    challenge = classroom.start_challenge("Smallest net", max_params=50_000, max_epochs=5)
    classroom.active_challenge()                           # the one running, or None
    classroom.set_nickname(challenge.challenge_id, session, "Ada")  # NicknameTaken if in use
    classroom.record_request(challenge.challenge_id, session, run_id)
    classroom.requests(challenge.challenge_id)             # (session, run_id) pairs
    classroom.save_scores({run_id: (public, private)}); classroom.scores()
    classroom.stamp()                                      # changes whenever anything above does

Tables of their own beside `runs`, created when first opened, so older stores gain them and keep
their runs. Every write happens in one transaction (explorer.store.connections), so two servers
on one store never give one nickname twice. Text (titles, nicknames) is stored as typed; the page
and the command line show it as plain text.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from explorer.store.connections import ConnectionPool
from explorer.store.records import Status, StoreError, sql_statuses

_SCHEMA = """
CREATE TABLE IF NOT EXISTS challenges (
    challenge_id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    max_params INTEGER,
    max_epochs INTEGER,
    max_seconds REAL,
    started_at REAL NOT NULL,
    ended_at REAL,
    revealed_at REAL
);
CREATE TABLE IF NOT EXISTS nicknames (
    challenge_id INTEGER NOT NULL,
    session TEXT NOT NULL,
    nickname TEXT NOT NULL,
    nickname_key TEXT NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0,
    chosen_at REAL NOT NULL,
    PRIMARY KEY (challenge_id, session),
    UNIQUE (challenge_id, nickname_key)
);
CREATE TABLE IF NOT EXISTS requests (
    challenge_id INTEGER NOT NULL,
    session TEXT NOT NULL,
    run_id TEXT NOT NULL,
    asked_at REAL NOT NULL,
    PRIMARY KEY (challenge_id, session, run_id)
);
CREATE TABLE IF NOT EXISTS half_scores (
    run_id TEXT PRIMARY KEY,
    public_accuracy REAL NOT NULL,
    private_accuracy REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS searches (
    search_id INTEGER PRIMARY KEY AUTOINCREMENT,
    spec_json TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS search_trials (
    search_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    params_json TEXT NOT NULL,
    PRIMARY KEY (search_id, number)
);
CREATE TABLE IF NOT EXISTS classroom_changes (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    counter INTEGER NOT NULL
);
INSERT OR IGNORE INTO classroom_changes VALUES (1, 0);
"""


class NicknameTaken(StoreError):
    """Another session of the same challenge already uses this nickname."""


@dataclass(frozen=True)
class Challenge:
    """A challenge the teacher set: its title, its limits (None: no limit) and when it ran."""

    challenge_id: int
    title: str
    max_params: int | None
    max_epochs: int | None
    max_seconds: float | None
    started_at: float
    ended_at: float | None = None
    revealed_at: float | None = None

    @property
    def active(self) -> bool:
        return self.ended_at is None

    @property
    def revealed(self) -> bool:
        return self.revealed_at is not None

    def to_json(self) -> dict:
        return {
            "challenge_id": self.challenge_id,
            "title": self.title,
            "max_params": self.max_params,
            "max_epochs": self.max_epochs,
            "max_seconds": self.max_seconds,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "active": self.active,
            "revealed": self.revealed,
        }


@dataclass(frozen=True)
class Nickname:
    """A session's nickname in one challenge."""

    session: str
    nickname: str
    hidden: bool


@dataclass(frozen=True)
class SearchTrial:
    """One trial of a stored search: its number, its run and the sampler's parameters."""

    number: int
    run_id: str
    params: dict


class ClassroomStore:
    """The classroom's tables in the registry file at `path` (see the module docstring)."""

    def __init__(self, path: str | Path) -> None:
        self._pool = ConnectionPool(Path(path))
        with self._pool.transaction() as connection:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    connection.execute(statement)

    def close(self) -> None:
        self._pool.close()

    def _changed(self, connection) -> None:
        connection.execute("UPDATE classroom_changes SET counter = counter + 1")

    def stamp(self) -> tuple:
        """Changes whenever a run is added, finishes or is deleted, or a classroom table
        changes: one cheap query that a cache of the board is keyed by."""
        with self._pool.transaction(write=False) as connection:
            runs = connection.execute(
                "SELECT COUNT(*), MAX(created_at), MAX(finished_at), "
                f"SUM(status IN {sql_statuses([Status.COMPLETE])}) FROM runs"
            ).fetchone()
            (counter,) = connection.execute("SELECT counter FROM classroom_changes").fetchone()
        return (*runs, counter)

    # -- challenges ----------------------------------------------------------------------------

    def start_challenge(
        self,
        title: str,
        *,
        max_params: int | None = None,
        max_epochs: int | None = None,
        max_seconds: float | None = None,
    ) -> Challenge:
        """Start a challenge; StoreError if one is already active (end it first)."""
        with self._pool.transaction() as connection:
            active = connection.execute(
                "SELECT title FROM challenges WHERE ended_at IS NULL"
            ).fetchone()
            if active is not None:
                raise StoreError(
                    f"The challenge {active[0]!r} is still on; end it before starting another."
                )
            cursor = connection.execute(
                "INSERT INTO challenges (title, max_params, max_epochs, max_seconds, started_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (title, max_params, max_epochs, max_seconds, time.time()),
            )
            self._changed(connection)
            challenge_id = cursor.lastrowid
        return self.challenge(challenge_id)

    def end_challenge(self) -> Challenge | None:
        """End the active challenge (its board stays readable); None if none was active."""
        active = self.active_challenge()
        if active is None:
            return None
        with self._pool.transaction() as connection:
            connection.execute(
                "UPDATE challenges SET ended_at = ? WHERE challenge_id = ?",
                (time.time(), active.challenge_id),
            )
            self._changed(connection)
        return self.challenge(active.challenge_id)

    def reveal(self, challenge_id: int) -> None:
        """Record that the private half's scores are shown (the teacher's Reveal)."""
        with self._pool.transaction() as connection:
            connection.execute(
                "UPDATE challenges SET revealed_at = COALESCE(revealed_at, ?) "
                "WHERE challenge_id = ?",
                (time.time(), challenge_id),
            )
            self._changed(connection)

    def challenge(self, challenge_id: int) -> Challenge | None:
        rows = self._challenges("WHERE challenge_id = ?", (challenge_id,))
        return rows[0] if rows else None

    def active_challenge(self) -> Challenge | None:
        rows = self._challenges("WHERE ended_at IS NULL", ())
        return rows[0] if rows else None

    def latest_challenge(self) -> Challenge | None:
        """The active challenge, else the one that ended last (its board is still shown)."""
        rows = self._challenges("ORDER BY ended_at IS NOT NULL, challenge_id DESC LIMIT 1", ())
        return rows[0] if rows else None

    def _challenges(self, where: str, parameters: tuple) -> list[Challenge]:
        with self._pool.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT challenge_id, title, max_params, max_epochs, max_seconds, started_at, "
                f"ended_at, revealed_at FROM challenges {where}",
                parameters,
            ).fetchall()
        return [Challenge(*row) for row in rows]

    # -- nicknames and requests ----------------------------------------------------------------

    def set_nickname(self, challenge_id: int, session: str, nickname: str) -> None:
        """Give `session` this nickname in the challenge (replacing its earlier one).

        NicknameTaken if another session of the challenge has it, in any case of letters.
        """
        key = nickname.casefold()
        with self._pool.transaction() as connection:
            owner = connection.execute(
                "SELECT session FROM nicknames WHERE challenge_id = ? AND nickname_key = ?",
                (challenge_id, key),
            ).fetchone()
            if owner is not None and owner[0] != session:
                raise NicknameTaken(
                    f"The nickname {nickname!r} is taken in this challenge; pick another one."
                )
            connection.execute(
                "INSERT INTO nicknames (challenge_id, session, nickname, nickname_key, chosen_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (challenge_id, session) DO UPDATE SET "
                "nickname = excluded.nickname, nickname_key = excluded.nickname_key",
                (challenge_id, session, nickname, key, time.time()),
            )
            self._changed(connection)

    def set_hidden(self, challenge_id: int, nickname: str, hidden: bool = True) -> bool:
        """Hide (or show again) a nickname on the board; False if there is no such nickname."""
        with self._pool.transaction() as connection:
            cursor = connection.execute(
                "UPDATE nicknames SET hidden = ? WHERE challenge_id = ? AND nickname_key = ?",
                (int(hidden), challenge_id, nickname.casefold()),
            )
            self._changed(connection)
            return cursor.rowcount > 0

    def nicknames(self, challenge_id: int) -> dict[str, Nickname]:
        """Session -> its nickname in the challenge."""
        with self._pool.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT session, nickname, hidden FROM nicknames WHERE challenge_id = ?",
                (challenge_id,),
            ).fetchall()
        return {session: Nickname(session, name, bool(hidden)) for session, name, hidden in rows}

    def record_request(self, challenge_id: int, session: str, run_id: str) -> None:
        """Note that `session` asked for `run_id` during the challenge (once is enough)."""
        with self._pool.transaction() as connection:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO requests VALUES (?, ?, ?, ?)",
                (challenge_id, session, run_id, time.time()),
            )
            if cursor.rowcount:
                self._changed(connection)

    def requests(self, challenge_id: int) -> list[tuple[str, str]]:
        """(session, run_id) of every request of the challenge, oldest first."""
        with self._pool.transaction(write=False) as connection:
            return connection.execute(
                "SELECT session, run_id FROM requests WHERE challenge_id = ? ORDER BY asked_at",
                (challenge_id,),
            ).fetchall()

    # -- half scores ---------------------------------------------------------------------------

    def scores(self) -> dict[str, tuple[float, float]]:
        """run_id -> (public accuracy, private accuracy) of every run scored so far."""
        with self._pool.transaction(write=False) as connection:
            rows = connection.execute(
                "SELECT run_id, public_accuracy, private_accuracy FROM half_scores"
            ).fetchall()
        return {run_id: (public, private) for run_id, public, private in rows}

    def save_scores(self, scores: dict[str, tuple[float, float]]) -> None:
        if not scores:
            return
        with self._pool.transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO half_scores VALUES (?, ?, ?)",
                [(run_id, *pair) for run_id, pair in scores.items()],
            )

    # -- searches ------------------------------------------------------------------------------

    def search_id(self, spec: dict) -> int:
        """The id of the search with this spec, made if it is new: the same spec carries on."""
        text = json.dumps(spec, sort_keys=True)
        with self._pool.transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO searches (spec_json, created_at) VALUES (?, ?)",
                (text, time.time()),
            )
            (search_id,) = connection.execute(
                "SELECT search_id FROM searches WHERE spec_json = ?", (text,)
            ).fetchone()
        return search_id

    def add_search_trial(self, search_id: int, number: int, run_id: str, params: dict) -> None:
        with self._pool.transaction() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO search_trials VALUES (?, ?, ?, ?)",
                (search_id, number, run_id, json.dumps(params, sort_keys=True)),
            )
            self._changed(connection)

    def search_trials(self, search_id: int | None = None) -> list[SearchTrial]:
        """The trials of one search (or of every search), in order."""
        where, parameters = ("WHERE search_id = ?", (search_id,)) if search_id else ("", ())
        with self._pool.transaction(write=False) as connection:
            rows = connection.execute(
                f"SELECT number, run_id, params_json FROM search_trials {where} "
                "ORDER BY search_id, number",
                parameters,
            ).fetchall()
        return [SearchTrial(number, run_id, json.loads(params)) for number, run_id, params in rows]
