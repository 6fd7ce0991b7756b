"""Lessons on the page (AppTest): pick a lesson, walk its steps with Next and Back."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest import alerts

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_a_lesson_sets_the_sliders_then_opens_compare_on_its_runs():
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.selectbox(key="lesson_choice").set_value("1-width").run()
    assert not app.exception
    headings = " ".join(e.proto.body for e in app.get("html") if "plain-heading" in e.proto.body)
    assert "step 1 of 3: The tutorial&#x27;s network" in headings
    assert app.select_slider(key="hidden1").value == 400
    app.button(key="lesson_next").click().run()
    assert app.select_slider(key="hidden1").value == 16
    assert app.select_slider(key="hidden2").value == 0
    assert app.query_params["lesson"] == "1-width" and app.query_params["step"] == "2"
    app.button(key="lesson_next").click().run()
    assert not app.exception
    assert app.query_params["view"] == "compare"
    assert app.button(key="lesson_train").label == "Train this step's runs (4)"
    app.button(key="lesson_back").click().run()
    assert "view" not in app.query_params and app.query_params["step"] == "2"  # explore


def test_a_lesson_step_opens_from_a_link_in_presenter_mode():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lesson": "5-overfitting", "step": "2", "present": "1"})
    app.run()
    assert not app.exception
    notes = " ".join(e.proto.body for e in app.get("html") if "plain-note" in e.proto.body)
    assert "Train accuracy climbs towards 100 %" in notes
    assert "font-size:1.3rem" in notes  # large print on a projector


MARKDOWN_LESSON = """
title = "**Bold** [a link](http://example.com)"
[[steps]]
title = "Visit https://example.com *now*"
note = "A note with <b>tags</b> and [a link](http://example.com)."
config = { hidden1 = 64 }
"""


@pytest.fixture
def lesson_folder(tmp_path, monkeypatch):
    """A folder with a lesson whose titles hold Markdown and HTML, and a broken lesson."""
    from explorer.ui import lessons

    (tmp_path / "a-markdown.toml").write_text(MARKDOWN_LESSON)
    (tmp_path / "b-broken.toml").write_text("title = 'Broken'\n[[steps]]\ntitle = 'x'\n")
    monkeypatch.setenv("EXPLORER_LESSONS_DIR", str(tmp_path))
    lessons._read_lessons.clear()
    yield tmp_path
    lessons._read_lessons.clear()


@pytest.mark.parametrize("present", ["0", "1"], ids=["normal", "presenter"])
def test_lesson_text_is_plain_and_a_bad_file_hides_only_itself(lesson_folder, present):
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lesson": "a-markdown", "step": "1", "present": present})
    app.run()
    assert not app.exception
    assert app.selectbox(key="lesson_choice").options == [
        "No lesson",
        "**Bold** [a link](http://example.com)",
    ]
    assert any("b-broken.toml" in text for text in alerts(app, "error"))
    bodies = " ".join(element.proto.body for element in app.get("html"))
    assert "<strong>**Bold** [a link](http://example.com)</strong>" in bodies
    assert "Visit https://example.com *now*" in bodies
    assert "&lt;b&gt;tags&lt;/b&gt;" in bodies  # the note
    markdown = " ".join(element.value for element in app.markdown)
    assert "example.com" not in markdown and "Bold" not in markdown


def test_a_link_to_a_step_applies_it_as_next_does():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lesson": "2-depth", "step": "2"})
    app.run()
    assert not app.exception
    assert (app.select_slider(key="hidden1").value, app.select_slider(key="hidden2").value) == (
        64,
        64,
    )
    assert app.query_params["hidden1"] == "64" and app.query_params["step"] == "2"


def test_a_link_to_a_compare_step_opens_compare():
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params.update({"lesson": "1-width", "step": "3"})
    app.run()
    assert not app.exception
    assert app.query_params["view"] == "compare"
    assert app.button(key="lesson_train").label == "Train this step's runs (4)"
