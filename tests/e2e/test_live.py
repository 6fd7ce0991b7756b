"""The page keeps up on its own: counts, buttons and comparisons follow the runs it asked for
while they train, without a click; and a link to a lesson step sets what the step says."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

TRAINING_DEADLINE = 180_000  # ms: a few small runs on a loaded two-core machine


def test_repeat_reaches_n_3_without_a_click(page, server):
    page.goto(f"{server}/?hidden1=12&hidden2=0&epochs=1&train_fraction=0.2")
    page.get_by_role("button", name="Repeat", exact=True).click()
    summary = page.locator(".st-key-repeats")
    expect(summary).to_contain_text("still to train", timeout=TRAINING_DEADLINE)
    # Seeds 1 and 2 finish after seed 0: the summary follows them with nobody touching the page.
    expect(summary).to_contain_text("(n = 3)", timeout=TRAINING_DEADLINE)
    expect(summary).not_to_contain_text("still to train")
    screenshot(page, "live-01-repeat-n3")


def test_a_lesson_steps_button_goes_once_its_runs_are_stored(page, server):
    page.goto(f"{server}/?lesson=2-depth&step=3")
    button = page.get_by_role("button", name="Train this step's runs (3)")
    button.click()
    expect(page.get_by_role("button", name=re.compile("Train this step's runs"))).to_have_count(
        0, timeout=TRAINING_DEADLINE
    )
    # ... and Compare shows every run of the step against its first, with no click.
    for name in ("A", "B"):
        expect(page.get_by_text(f"{name} against Baseline:")).to_be_visible(
            timeout=TRAINING_DEADLINE
        )
    screenshot(page, "live-02-lesson-step-runs")


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("lesson=2-depth&step=2", "55,050"),  # 784 → 64 → 64 → 10
        ("lesson=1-width&step=2", "12,730"),  # 784 → 16 → 10
    ],
    ids=["depth-2", "width-2"],
)
def test_a_lesson_link_sets_the_sliders(page, server, query, total):
    page.goto(f"{server}/?{query}")
    expect(page.get_by_text(total, exact=True)).to_be_visible()
    expect(page.get_by_text("322,230", exact=True)).to_have_count(0)
