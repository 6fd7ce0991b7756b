"""Check the run store, and rebuild a damaged registry from the run folders.

    report = check_and_repair(home)     # what `python -m explorer doctor` runs
    report = check_and_repair(home, repair=True)  # `doctor --repair`: also mark runs whose
    print(report.text())                          # files are gone as failed

Nothing is ever deleted. A finished run whose folder or files are gone is listed as damaged; with
`repair` its row is marked failed ("its files are gone"), so it no longer counts as a result and
its configuration can be trained again. A registry SQLite cannot read, or whose integrity check
fails, is moved aside as `runs.db.damaged-<time>` (with its -wal and -shm files), a new one is
made, and every run folder that holds its `run.json` is put back as a row. Folders without one
(from before run.json existed) are listed, not touched.

The class's tables live in the same file (explorer.store.challenges): after the move, each one
(challenges, nicknames, requests, searches and their trials, half scores) is read from the
damaged copy, opened read-only, and the rows it gives are put back with their ids, so requests
and nicknames still point at their challenge. A table that cannot be read is reported, not
fatal; its rows stay in the damaged copy. Half scores are only a cache: the board works them out
again from the runs' predictions. Nothing is unpickled: the tables hold only numbers and text.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from explorer.store.challenges import ClassroomStore
from explorer.store.records import RUN_ID_PATTERN, StoreError
from explorer.store.registry import RUN_FILE, RunStore


@dataclass
class Report:
    home: Path
    problems: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    healthy_now: bool = True

    def text(self) -> str:
        lines = [f"Run store: {self.home}"]
        lines += [f"problem: {problem}" for problem in self.problems] or ["no problems found"]
        lines += [f"done: {action}" for action in self.actions]
        return "\n".join(lines)


# Runs of these statuses have a folder with these files (explorer.store.registry.finish).
FINISHED = ("complete", "stopped")
RUN_FILES = ("predictions.npz", "weights.npz")


def check_and_repair(home: str | Path, repair: bool = False) -> Report:
    """Check the store (and rebuild a damaged registry); with `repair`, mark finished runs whose
    files are gone as failed. Never deletes a file."""
    home = Path(home)
    report = Report(home)
    registry = home / "runs.db"
    problem = _registry_problem(registry)
    aside = None
    if problem is not None:
        report.problems.append(f"the registry {registry} is damaged: {problem}")
        aside = registry.with_name(f"runs.db.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{registry}{suffix}")
            if source.exists():
                shutil.move(source, f"{aside}{suffix}")
        report.actions.append(f"moved the damaged registry aside to {aside.name}")
    try:
        store = RunStore(home)
    except StoreError as error:
        report.problems.append(str(error))
        report.healthy_now = False
        return report
    if aside is not None:
        _salvage_class_tables(aside, store, report)
    known = {record.run_id for record in store.list_runs()}
    restored, without = 0, []
    for folder in sorted(store.runs_dir.iterdir()) if store.runs_dir.is_dir() else []:
        if not folder.is_dir() or not RUN_ID_PATTERN.match(folder.name) or folder.name in known:
            continue
        try:
            row = json.loads((folder / RUN_FILE).read_text())
        except (OSError, ValueError):
            without.append(folder.name)
            continue
        store.insert_record({"owner_pid": None, **row})
        restored += 1
    if restored:
        report.actions.append(f"put back {restored} run(s) from their folders")
    if without:
        report.problems.append(
            f"{len(without)} run folder(s) have no {RUN_FILE} and are not in the registry: "
            f"{', '.join(without[:5])}{' …' if len(without) > 5 else ''} (left as they are)"
        )
    _check_files(store, report, repair)
    damaged = [record.run_id for record in store.list_runs(("damaged",))]
    if damaged:
        report.problems.append(
            f"{len(damaged)} row(s) cannot be read: {', '.join(damaged[:5])}. They are listed as "
            "damaged; delete them with `python -m explorer delete RUN_ID`."
        )
    return report


def missing_files(store: RunStore) -> dict[str, str]:
    """Finished runs whose folder or files are gone: run id -> what is missing."""
    found = {}
    for record in store.list_runs(FINISHED):
        folder = store.runs_dir / record.run_id
        if not folder.is_dir():
            found[record.run_id] = "its folder"
            continue
        missing = [name for name in RUN_FILES if not (folder / name).is_file()]
        if missing:
            found[record.run_id] = " and ".join(missing)
    return found


def _check_files(store: RunStore, report: Report, repair: bool) -> None:
    missing = missing_files(store)
    if not missing:
        return
    listed = "; ".join(f"{run_id} ({what})" for run_id, what in list(missing.items())[:5])
    more = " …" if len(missing) > 5 else ""
    report.problems.append(
        f"{len(missing)} finished run(s) are damaged, their files are gone: {listed}{more}"
    )
    if not repair:
        report.problems.append(
            "run `python -m explorer doctor --repair` to mark them failed (no file is deleted)"
        )
        report.healthy_now = False
        return
    for run_id, what in missing.items():
        store.mark_ended(run_id, f"Its files are gone ({what} missing); train it again.")
    report.actions.append(f"marked {len(missing)} run(s) failed: their files are gone")


# The class's tables and their columns, parents first (see explorer.store.challenges._SCHEMA),
# with the words the report counts their rows in. classroom_changes is only a change counter.
CLASS_TABLES = {
    "challenges": (
        ("challenge_id", "title", "max_params", "max_epochs", "max_seconds", "started_at",
         "ended_at", "revealed_at"),
        ("challenge", "challenges"),
    ),
    "nicknames": (
        ("challenge_id", "session", "nickname", "nickname_key", "hidden", "chosen_at"),
        ("nickname", "nicknames"),
    ),
    "requests": (("challenge_id", "session", "run_id", "asked_at"), ("request", "requests")),
    "searches": (("search_id", "spec_json", "created_at"), ("search", "searches")),
    "search_trials": (
        ("search_id", "number", "run_id", "params_json"),
        ("search trial", "search trials"),
    ),
    "half_scores": (
        ("run_id", "public_accuracy", "private_accuracy"),
        ("half score", "half scores"),
    ),
}  # fmt: skip


def _salvage_class_tables(damaged: Path, store: RunStore, report: Report) -> None:
    """Copy the class's tables from the damaged registry into the new one, table by table."""
    ClassroomStore(store.path).close()  # the new registry gets the class's tables
    put_back: list[str] = []
    lost: dict[str, list[str]] = {}  # error -> the tables it kept from being read
    try:
        source = sqlite3.connect(f"{damaged.as_uri()}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as error:
        report.problems.append(f"the class's tables could not be read from {damaged.name}: {error}")
        return
    with closing(source), closing(sqlite3.connect(store.path, timeout=10)) as target:
        for table, (columns, (one, many)) in CLASS_TABLES.items():
            rows, error = _readable_rows(source, table, columns)
            if rows:
                with target:
                    target.executemany(
                        f"INSERT OR IGNORE INTO {table} ({', '.join(columns)}) "
                        f"VALUES ({', '.join('?' for _ in columns)})",
                        rows,
                    )
                put_back.append(f"{len(rows)} {one if len(rows) == 1 else many}")
            if error is not None:
                read = f" (beyond the first {len(rows)})" if rows else ""
                lost.setdefault(error, []).append(f"{many}{read}")
        if put_back:
            with target:
                target.execute("UPDATE classroom_changes SET counter = counter + 1")
    if put_back:
        report.actions.append(f"put back {', '.join(put_back)} from {damaged.name}")
    for error, tables in lost.items():
        scores = any(table.startswith("half scores") for table in tables)
        report.problems.append(
            f"could not read the class's {', '.join(tables)} from {damaged.name} ({error}); "
            "they are not put back and stay in that file"
            + ("; half scores are worked out again from the runs' predictions" if scores else "")
        )


def _readable_rows(
    source: sqlite3.Connection, table: str, columns: tuple[str, ...]
) -> tuple[list[tuple], str | None]:
    """The rows of `table` read before any error, and that error (None if all were read). A
    table the damaged registry never had (a store from before the class view) has no rows."""
    rows: list[tuple] = []
    try:
        cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table}")
        for row in cursor:
            rows.append(row)
    except sqlite3.Error as error:
        if str(error).startswith("no such table"):
            return rows, None
        return rows, str(error)
    return rows, None


def _registry_problem(registry: Path) -> str | None:
    """What is wrong with the registry file (None if it reads and passes its integrity check)."""
    if not registry.exists():
        return None
    try:
        with closing(sqlite3.connect(registry, timeout=10)) as connection:
            result = connection.execute("PRAGMA integrity_check").fetchone()[0]
            connection.execute("SELECT COUNT(*) FROM runs").fetchone()
    except sqlite3.DatabaseError as error:
        return str(error)
    return None if result == "ok" else result
