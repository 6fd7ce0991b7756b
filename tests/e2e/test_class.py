"""A class server in a real browser: a teacher and a student in two browser contexts on one
server started with a teacher password. The student trains; the teacher unlocks with a link,
sees the student's run in the queue and stops it; the student has no delete control."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import CLASS_SECRET as SECRET
from tests.e2e.conftest import new_page, screenshot

pytestmark = pytest.mark.e2e


def test_a_teacher_stops_a_students_run_and_only_the_teacher_may_delete(browser, class_server):
    url = class_server.url
    student = new_page(browser, 1280, 800)
    student.goto(f"{url}/?hidden1=300&hidden2=0&batch_size=8&epochs=40")
    student.get_by_role("button", name="Train", exact=True).click()
    student.locator(".st-key-run_panel").get_by_text(
        re.compile(r"Epoch \d+/40|Starting|Queued")
    ).first.wait_for()
    screenshot(student, "class-student-training")

    teacher = new_page(browser, 1280, 800)
    teacher.goto(f"{url}/?teacher={SECRET}")
    teacher.get_by_text("Teacher: you can stop any run").wait_for()
    teacher.wait_for_function("() => !location.search.includes('teacher=')")
    teacher.get_by_text("Queue", exact=True).click()
    entry = teacher.get_by_text(re.compile(r"784-300-10 .* for student"))
    entry.wait_for()
    screenshot(teacher, "class-teacher-queue")
    teacher.locator('[data-testid="stSidebar"]').get_by_role("button", name="Stop").first.click()

    student.get_by_text(re.compile(r"Stopped after \d+ of 40 epochs|ended as stopped")).wait_for()
    student.goto(f"{url}/?view=compare")
    student.get_by_text("Run history").wait_for()
    assert student.get_by_role("button", name=re.compile("Delete selected")).count() == 0
    switch = teacher.locator('[data-testid="stMain"] [data-testid="stButtonGroup"]').first
    switch.get_by_text("Compare", exact=True).click()  # in the same session: still unlocked
    teacher.get_by_text("Run history").wait_for()
    teacher.get_by_role("button", name=re.compile("Delete selected")).wait_for()
    for page in (student, teacher):
        page.context.close()
