"""Teacher and students on a class server (EXPLORER_TEACHER_PASSWORD set), through AppTest.

Sessions of one test share the server's service, as browser sessions of one server do."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.config import TrainingConfig
from explorer.service.service import all_services
from tests.apptest import alerts

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SECRET = "correct horse battery staple"
LONG = {"hidden1": 64, "hidden2": 0, "epochs": 50, "batch_size": 8}


@pytest.fixture(autouse=True)
def class_server(monkeypatch):
    monkeypatch.setenv("EXPLORER_TEACHER_PASSWORD", SECRET)


def session(**query) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    return app.run()


def press_train_on(app: AppTest, values: dict) -> AppTest:
    for key, value in values.items():
        widget = app.slider(key=key) if key == "epochs" else app.select_slider(key=key)
        widget.set_value(value)
    return app.button(key="train").click().run()


def job_of(config: TrainingConfig):
    """The page's job for `config`, as the server's service sees it."""
    jobs = [state for service in all_services() for state in service.queue()]
    return next(state for state in jobs if state.config == config)


def test_the_secret_unlocks_the_teacher_and_leaves_the_address_bar():
    teacher = session(teacher=SECRET)
    assert not teacher.exception
    assert "teacher" not in teacher.query_params
    assert any("Teacher: you can stop any run" in s.value for s in teacher.sidebar.success)
    student = session(teacher="a wrong guess")
    assert "teacher" not in student.query_params
    assert not student.sidebar.success


def test_a_wrong_guess_is_slowed_down():
    student = session()
    for guess in ("one", "two"):
        student.text_input(key="teacher_password").set_value(guess)
        student.button(key="FormSubmitter:teacher_form-Unlock").click().run()
    captions = " ".join(caption.value for caption in student.sidebar.caption)
    assert "Too many wrong guesses: try again in" in captions


def test_students_see_no_delete_and_the_teacher_does(seeded):
    student = session(view="compare")
    assert not student.exception
    assert "delete_selected" not in [button.key for button in student.button]
    teacher = session(view="compare", teacher=SECRET)
    assert "delete_selected" in [button.key for button in teacher.button]


def test_a_student_cannot_cancel_a_run_another_student_waits_for_and_the_teacher_can():
    first = press_train_on(session(), LONG)
    second = press_train_on(session(), LONG)
    config = TrainingConfig(**LONG)
    assert len(job_of(config).waiters) == 2
    first.button(key="stop").click().run()
    assert any("still wait for it, so it goes on" in text for text in alerts(first, "info"))
    assert not job_of(config).stop_requested
    teacher = session(teacher=SECRET, **{key: str(value) for key, value in LONG.items()})
    teacher.button(key="stop").click().run()
    assert job_of(config).stop_requested
    assert not second.exception
