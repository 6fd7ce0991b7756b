"""Lessons on the page (AppTest): pick a lesson, walk its steps with Next and Back."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_a_lesson_sets_the_sliders_then_opens_compare_on_its_runs():
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.selectbox(key="lesson_choice").set_value("1-width").run()
    assert not app.exception
    markdown = " ".join(element.value for element in app.markdown)
    assert "step 1 of 3: The tutorial's network" in markdown
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
