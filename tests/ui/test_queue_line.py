"""The queue line every page shows: what trains now, in words for the class."""

from streamlit.testing.v1 import AppTest


def queue_line_page():
    from types import SimpleNamespace

    from explorer.config import TrainingConfig
    from explorer.ui.page import queue_line

    running = SimpleNamespace(status="running", config=TrainingConfig(), waiters=("teacher",))
    queued = SimpleNamespace(status="queued", config=TrainingConfig(hidden2=0), waiters=("x",))
    queue_line(SimpleNamespace(queue=lambda: [running, queued]))


def test_the_queue_line_says_what_trains_not_who_asked_for_it():
    """The class's screen read "(for teacher)": who asked is in the teacher's Queue panel."""
    app = AppTest.from_function(queue_line_page).run()
    assert not app.exception
    (line,) = [element.value for element in app.get("html")]
    assert "Training now: 784-400-20-10 · sgd 0.01 · batch 200 · 5 epochs · 1 waiting" in line
    assert "teacher" not in line and "(for" not in line
