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
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

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
