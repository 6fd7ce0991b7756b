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
    expect(page.get_by_text(total, exact=True).first).to_be_visible()
    expect(page.get_by_text("322,230", exact=True)).to_have_count(0)


def test_a_sweeps_plan_and_train_button_follow_its_runs(page, server):
    page.goto(f"{server}/?view=sweep&sweep=hidden1:6,10&hidden2=0&epochs=1&train_fraction=0.1")
    page.get_by_role("button", name="Train 2 run(s)").click()
    expect(page.get_by_text("2 runs: 2 stored, 0 training, 0 to train")).to_be_visible(
        timeout=TRAINING_DEADLINE
    )
    expect(page.get_by_role("button", name=re.compile(r"Train \d+ run"))).to_have_count(0)
    expect(page.get_by_text("2 of 2 cells done").first).to_be_visible()


def test_still_training_moves_on_its_own(page, server):
    # Long enough (30 epochs of 750 small batches) to be still training when the slider moves.
    page.goto(f"{server}/?hidden1=512&hidden2=256&batch_size=8&epochs=30")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch \d+/30")).first.wait_for(timeout=TRAINING_DEADLINE)
    slider = page.get_by_role("slider", name="Neurons in hidden layer 1")
    slider.focus()
    slider.press("ArrowLeft")
    notice = page.locator(".plain-info", has_text="Still training: 784-512-256-10")
    first = re.search(r"\((\d+)% done\)", notice.inner_text()).group(1)
    # The share done grows with nobody touching the page (it stood still before).
    expect(notice).not_to_contain_text(f"({first}% done)", timeout=TRAINING_DEADLINE)
    expect(notice).to_contain_text("% done")
    page.get_by_role("button", name="Show it").click()  # back to it, and stop it
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"Stopped after \d+ of 30 epochs")).wait_for()
