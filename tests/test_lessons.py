"""Lesson files: every shipped lesson loads and its configs are valid; a bad file says where."""

from __future__ import annotations

import pytest

from explorer.config import TrainingConfig
from explorer.lessons import LESSONS_DIR, all_lessons, load_lesson, readable_lessons

SHIPPED = sorted(LESSONS_DIR.glob("*.toml"))


def test_at_least_five_lessons_ship_with_the_app():
    names = [path.stem for path in SHIPPED]
    assert len(names) >= 5
    for topic in ("width", "depth", "batch", "optimizer", "overfitting"):
        assert any(topic in name for name in names), topic


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_every_lesson_loads_and_its_steps_are_valid(path):
    lesson = load_lesson(path)
    assert lesson.title and lesson.steps
    for step in lesson.steps:
        assert step.title and step.note
        assert all(isinstance(config, TrainingConfig) for config in step.configs)
        assert (step.view, len(step.configs) == 1) in (("explore", True), ("compare", False))
    assert all_lessons()[path.stem] == lesson


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title = 'x'", "needs at least one [[steps]]"),
        ("title = 'x'\n[[steps]]\ntitle = 'a'\nnote = 'b'", "give either config"),
        (
            "title = 'x'\n[[steps]]\ntitle = 'Wide'\nnote = 'b'\nconfig = { hidden1 = 5000 }",
            "Lesson bad.toml, step 1 (Wide), config: hidden1 must be a whole number",
        ),
        (
            "title = 'x'\n[[steps]]\ntitle = 'a'\nnote = 'b'\ncompare = [ { hidden1 = 8 } ]",
            "compare must list 2 to 5 configs",
        ),
        (
            "title = 'x'\n[[steps]]\ntitle = 'a'\nnote = 'b'\nconfig = { colour = 'red' }",
            "Unknown setting 'colour'",
        ),
        ("title = 'x'\n[[steps]]\ntitle = 'a'\nconfig = {}", "step 1 (a): note must be some text"),
        ("title = [", "not valid TOML"),
    ],
)
def test_a_bad_lesson_names_the_file_the_step_and_the_field(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError) as raised:
        load_lesson(path)
    assert message in str(raised.value)
    assert str(raised.value).startswith("Lesson bad.toml")


def test_a_bad_lesson_file_hides_only_itself(tmp_path):
    good = (LESSONS_DIR / "1-width.toml").read_text()
    (tmp_path / "a-good.toml").write_text(good)
    (tmp_path / "b-bad.toml").write_text("title = 'x'")
    (tmp_path / "c-also-good.toml").write_text(good)
    lessons, problems = readable_lessons(tmp_path)
    assert list(lessons) == ["a-good", "c-also-good"]
    assert problems == ["Lesson b-bad.toml: needs at least one [[steps]] table."]
    with pytest.raises(ValueError, match=r"b-bad\.toml"):
        all_lessons(tmp_path)  # `warm` and the tests still want every file right


# How a note names a change of each setting (any one of the words will do). "784 → …" spells out
# every layer; "one hidden layer" says the second is gone.
NAMED_BY = {
    "hidden1": ("neuron", "784 →"),
    "hidden2": ("second", "two layers", "one hidden layer", "784 →"),
    "batch_size": ("batch",),
    "epochs": ("epoch",),
    "learning_rate": ("step size", "learning rate"),
    "train_fraction": ("%",),
    "activation": ("activation",),
    "seed": ("seed",),
    "precision": ("float32", "bfloat16"),
}


def changes(step, before: TrainingConfig) -> dict[str, set]:
    """Every setting the step changes from `before` (the step shown before it), or varies among
    its runs, with the values it takes."""
    changed: dict[str, set] = {}
    for config in step.configs:
        for name, value in config.to_dict().items():
            if value != getattr(before, name) or value != getattr(step.configs[0], name):
                changed.setdefault(name, set()).add(value)
    return changed


@pytest.mark.parametrize("path", SHIPPED, ids=lambda path: path.stem)
def test_a_note_names_every_change_its_step_makes(path):
    lesson = load_lesson(path)
    before = TrainingConfig()  # a lesson starts from the tutorial's network
    for number, step in enumerate(lesson.steps, start=1):
        note = step.note.lower()
        for name, values in changes(step, before).items():
            where = f"{lesson.name} step {number}: {name}"
            if name == "optimizer":  # each optimizer by its name
                for value in values | {getattr(step.configs[0], name)}:
                    assert value in note, f"{where}: {value} is not named"
            else:
                assert any(word in note for word in NAMED_BY[name]), f"{where} is not named"
        before = step.configs[-1] if step.view == "compare" else step.configs[0]
