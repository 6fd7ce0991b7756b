"""Teacher and students on a class server (EXPLORER_TEACHER_PASSWORD set), through AppTest.

Sessions of one test share the server's service, as browser sessions of one server do."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer.config import TrainingConfig
from tests.apptest import alerts, open_panel, page_service

APP = str(Path(__file__).resolve().parents[2] / "app.py")
TEACHER_PANEL = "panel_teacher"  # explorer.ui.roles: the lazy "Teacher" expander
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


def teacher_session(**query) -> AppTest:
    """A session opened with a `?teacher=` link: the first run unlocks and hands the page a
    script that cleans the browser's history, which then reruns the page (done here by hand)."""
    app = session(teacher=SECRET, **query)
    assert any("history.replaceState" in element.proto.body for element in app.get("html"))
    return app.run()


def press_train_on(app: AppTest, values: dict) -> AppTest:
    for key, value in values.items():
        widget = app.slider(key=key) if key == "epochs" else app.select_slider(key=key)
        widget.set_value(value)
    return app.button(key="train").click().run()


def job_of(config: TrainingConfig):
    """The page's job for `config`, as the server's service sees it."""
    jobs = page_service().queue()
    return next(state for state in jobs if state.config == config)


def test_the_secret_unlocks_the_teacher_and_leaves_the_address_bar():
    teacher = teacher_session()
    assert not teacher.exception
    assert "teacher" not in teacher.query_params
    assert any("Teacher: you can stop any run" in s.value for s in teacher.sidebar.success)
    student = session(teacher="a wrong guess")
    assert "teacher" not in student.query_params
    assert not student.sidebar.success


@pytest.fixture
def slow_first_wait(monkeypatch, a_new_server):
    """A first wait of a minute: a loaded machine can take over a second for one page run, and
    with the usual 1 s the second guess would then be heard, not slowed."""
    import functools

    from explorer.service.guesses import GuessLimiter
    from explorer.ui import roles

    monkeypatch.setattr(roles, "GuessLimiter", functools.partial(GuessLimiter, first_delay=60.0))


def test_a_wrong_guess_is_slowed_down(slow_first_wait):
    student = open_panel(session(), TEACHER_PANEL)
    for guess in ("one", "two"):
        student.text_input(key="teacher_password").set_value(guess)
        student.button(key="FormSubmitter:teacher_form-Unlock").click().run()
    captions = " ".join(caption.value for caption in student.sidebar.caption)
    assert "Too many wrong guesses: try again in" in captions


def test_students_wrong_guesses_do_not_keep_the_teacher_out():
    for guess in ("one", "two", "three", "four", "five", "six"):  # a page each, or a script
        student = open_panel(session(), TEACHER_PANEL)
        student.text_input(key="teacher_password").set_value(guess)
        student.button(key="FormSubmitter:teacher_form-Unlock").click().run()
        captions = " ".join(caption.value for caption in student.sidebar.caption)
        assert "That is not the teacher's password." in captions
    teacher = open_panel(session(), TEACHER_PANEL)
    teacher.text_input(key="teacher_password").set_value(SECRET)
    teacher.button(key="FormSubmitter:teacher_form-Unlock").click().run()
    assert any("Teacher: you can stop any run" in s.value for s in teacher.sidebar.success)


def test_a_short_teacher_password_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("EXPLORER_TEACHER_PASSWORD", "short-pw")
    app = session()
    assert not app.exception
    text = " ".join(element.proto.body for element in app.get("html"))
    assert "has 8 characters: use at least 12" in text
    assert not app.slider  # nothing else is served


def test_students_see_no_delete_and_the_teacher_does(seeded):
    student = session(view="compare")
    assert not student.exception
    assert "delete_selected" not in [button.key for button in student.button]
    teacher = teacher_session(view="compare")
    assert "delete_selected" in [button.key for button in teacher.button]


def test_a_student_cannot_cancel_a_run_another_student_waits_for_and_the_teacher_can():
    first = press_train_on(session(), LONG)
    second = press_train_on(session(), LONG)
    config = TrainingConfig(**LONG)
    assert len(job_of(config).waiters) == 2
    first.button(key="stop").click().run()
    assert any("still wait for it, so it goes on" in text for text in alerts(first, "info"))
    assert not job_of(config).stop_requested
    teacher = teacher_session(**{key: str(value) for key, value in LONG.items()})
    teacher.button(key="stop").click().run()
    assert job_of(config).stop_requested
    assert not second.exception


@pytest.mark.parametrize(
    ("options", "warned"),
    [
        ({"server.address": "0.0.0.0", "server.sslCertFile": None}, True),
        ({"server.address": "0.0.0.0", "server.sslCertFile": "cert.pem"}, False),
        ({"server.address": "localhost", "server.sslCertFile": None}, False),
    ],
    ids=["the network without HTTPS", "the network with HTTPS", "this computer only"],
)
def test_a_class_server_without_https_says_so_once_at_start(options, warned, monkeypatch, capsys):
    from explorer.ui import roles

    monkeypatch.setattr(roles.st, "get_option", lambda name: options.get(name))
    assert roles.start_checks() == ""
    assert roles.start_checks() == ""  # a second page view, or the first after the start
    printed = capsys.readouterr().out
    assert printed.count("the teacher's secret crosses the network in clear text") == warned
