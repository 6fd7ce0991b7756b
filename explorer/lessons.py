"""Lessons: short sequences of steps a teacher walks a class through, kept in `lessons/*.toml`.

    lessons = all_lessons()                    # every lesson file, by name
    lessons, problems = readable_lessons()     # the good ones, and one message per bad file
    lesson = load_lesson("lessons/width.toml") # ValueError naming the file, step and field
    step = lesson.steps[0]                     # .title, .note, .configs, .view

A lesson file::

    title = "How wide should a layer be?"
    summary = "One sentence on what the class will see."

    [[steps]]
    title = "The tutorial's network"
    note = "One or two sentences for students: what to notice."
    config = { hidden1 = 400, hidden2 = 20 }          # an Explore step: sets the sliders

    [[steps]]
    title = "Narrow against wide"
    note = "..."
    compare = [ { hidden1 = 16 }, { hidden1 = 400 } ]  # a Compare step: the first is the baseline

Settings left out take the tutorial's values. `python -m explorer warm lessons/width.toml`
trains a lesson's runs before class.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from explorer.config import TrainingConfig

LESSONS_DIR = Path(__file__).resolve().parents[1] / "lessons"
MAX_COMPARED = 5  # a baseline and four runs, as the Compare view shows them


@dataclass(frozen=True)
class LessonStep:
    title: str
    note: str
    configs: tuple[TrainingConfig, ...]  # one for an Explore step; the baseline first otherwise
    view: str  # "explore" or "compare"


@dataclass(frozen=True)
class Lesson:
    name: str  # the file's name without .toml, as links name it
    title: str
    summary: str
    steps: tuple[LessonStep, ...]

    def all_configs(self) -> list[TrainingConfig]:
        """Every config of every step, each once, in order (what `warm` trains)."""
        return list(dict.fromkeys(config for step in self.steps for config in step.configs))


def lessons_dir() -> Path:
    """EXPLORER_LESSONS_DIR, else the lessons/ folder beside the package."""
    return Path(os.environ.get("EXPLORER_LESSONS_DIR") or LESSONS_DIR)


def all_lessons(folder: str | Path | None = None) -> dict[str, Lesson]:
    """Every lesson in the folder, by name. A bad file raises ValueError naming it."""
    folder = Path(folder) if folder is not None else lessons_dir()
    if not folder.is_dir():
        return {}
    return {path.stem: load_lesson(path) for path in sorted(folder.glob("*.toml"))}


def readable_lessons(folder: str | Path | None = None) -> tuple[dict[str, Lesson], list[str]]:
    """Every good lesson in the folder, by name, and one message per bad file (naming it): a
    bad file hides only itself, so a class still gets the others."""
    folder = Path(folder) if folder is not None else lessons_dir()
    if not folder.is_dir():
        return {}, []
    lessons, problems = {}, []
    for path in sorted(folder.glob("*.toml")):
        try:
            lessons[path.stem] = load_lesson(path)
        except ValueError as error:
            problems.append(str(error))
    return lessons, problems


def load_lesson(path: str | Path) -> Lesson:
    """Read and check one lesson file; ValueError names the file, the step and the field."""
    path = Path(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"Lesson {path.name}: cannot be read ({error.strerror}).") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"Lesson {path.name}: not valid TOML ({error}).") from None
    where = f"Lesson {path.name}"
    title = _text(document, "title", where)
    summary = str(document.get("summary", ""))
    steps = document.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{where}: needs at least one [[steps]] table.")
    return Lesson(
        path.stem,
        title,
        summary,
        tuple(_step(step, f"{where}, step {n}") for n, step in enumerate(steps, start=1)),
    )


def _step(table: object, where: str) -> LessonStep:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: must be a table with title, note and config or compare.")
    title = _text(table, "title", where)
    where = f"{where} ({title})"
    note = _text(table, "note", where)
    unknown = sorted(set(table) - {"title", "note", "config", "compare"})
    if unknown:
        raise ValueError(f"{where}: unknown field {', '.join(unknown)}.")
    if ("config" in table) == ("compare" in table):
        raise ValueError(f"{where}: give either config (Explore) or compare (Compare).")
    if "config" in table:
        return LessonStep(title, note, (_config(table["config"], f"{where}, config"),), "explore")
    runs = table["compare"]
    if not isinstance(runs, list) or not 2 <= len(runs) <= MAX_COMPARED:
        raise ValueError(f"{where}: compare must list 2 to {MAX_COMPARED} configs.")
    configs = tuple(_config(run, f"{where}, compare[{i}]") for i, run in enumerate(runs, 1))
    return LessonStep(title, note, configs, "compare")


def _config(values: object, where: str) -> TrainingConfig:
    if not isinstance(values, dict):
        raise ValueError(f"{where}: must be a table of settings, e.g. {{ hidden1 = 64 }}.")
    try:
        return TrainingConfig.from_mapping(values)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None


def _text(table: dict, field: str, where: str) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {field} must be some text.")
    return value.strip()
