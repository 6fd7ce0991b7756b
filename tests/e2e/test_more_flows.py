"""Browser flows beyond the first look: links, compare, stop, sliders during training."""

import re
import time

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e

RUN_ID = re.compile(r"run ([0-9a-f]{16})")


def train_from_link(page, server, query: str) -> str:
    """Open a link with a configuration, press Train, wait for the result; return its run id."""
    page.goto(f"{server}/?{query}")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    caption = page.get_by_text(RUN_ID).first.inner_text()
    return RUN_ID.search(caption).group(1)


def test_compare_two_runs_from_a_shared_link(page, server):
    first = train_from_link(page, server, "hidden1=8&hidden2=0&epochs=1")
    second = train_from_link(page, server, "hidden1=24&hidden2=0&epochs=1")
    page.goto(f"{server}/?view=compare")
    page.get_by_text("Run history").wait_for()
    page.get_by_text("has not been trained yet").wait_for()  # no tutorial baseline yet
    screenshot(page, "06-history")

    link = f"{server}/?view=compare&runs={first},{second}"
    page.goto(link)
    page.get_by_text("What differs").wait_for()
    page.get_by_text(re.compile(r"What differs.*neurons in hidden layer 1")).wait_for()
    page.locator(".digit-rows").wait_for()
    assert page.locator('.digit-rows [data-run="A"]').count() == 20
    screenshot(page, "07-compare")

    started = time.perf_counter()
    page.get_by_text("Where the runs disagree").click()
    page.locator('.digit-rows [data-disagree="true"]').first.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.digit-rows [data-disagree]')]"
        ".every(cell => cell.dataset.disagree === 'true')"
    )
    print(f"selection change shown in {time.perf_counter() - started:.2f} s")

    # Clicking a cell of the difference heatmap shows the test digits behind it.
    difference = page.locator(f".st-key-difference_{second} [data-testid='stVegaLiteChart']")
    difference.scroll_into_view_if_needed()
    box = difference.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    page.get_by_text("Test digits behind the click").wait_for(timeout=30_000)
    page.get_by_text(re.compile("most confident first|No test digits there")).wait_for()
    screenshot(page, "08-clicked-cell")

    # The shared link reproduces the comparison in a fresh page.
    page.goto(link)
    page.get_by_text("What differs").wait_for()
    assert page.url.endswith(f"runs={first}%2C{second}") or f"runs={first},{second}" in page.url
    screenshot(page, "08b-compare-reloaded")


def test_stop_a_run(page, server):
    page.goto(f"{server}/?hidden1=512&hidden2=256&batch_size=8&epochs=30")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch \d+/30")).first.wait_for(timeout=60_000)
    screenshot(page, "09-before-stop")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"Stopped after \d+ of 30 epochs")).wait_for(timeout=60_000)
    screenshot(page, "10-stopped")


def test_moving_a_slider_while_training_does_not_stop_it(page, server):
    # Long enough (20 epochs of 375 small batches) to be still training when the slider moves.
    page.goto(f"{server}/?hidden1=300&hidden2=0&batch_size=16&epochs=20")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch \d+/20")).first.wait_for(timeout=60_000)
    slider = page.get_by_role("slider", name="Neurons in hidden layer 1")
    slider.focus()
    slider.press("ArrowLeft")  # a different network: the page shows that one instead
    page.get_by_text("784 → 299 → 10").wait_for()
    page.get_by_text("Not trained yet").wait_for()
    screenshot(page, "11-slider-moved-while-training")
    slider.press("ArrowRight")  # back: the run went on, and ends complete
    page.get_by_text("784 → 300 → 10").wait_for()
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    assert page.get_by_text(re.compile("Stopped after")).count() == 0
    screenshot(page, "12-run-finished")
