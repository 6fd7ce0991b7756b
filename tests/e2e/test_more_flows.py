"""Browser flows beyond the first look: links, compare, stop, sliders during training."""

import re

import pytest

from tests.e2e.conftest import new_page, screenshot

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
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    screenshot(page, "06-history")

    link = f"{server}/?view=compare&runs={first},{second}"
    page.goto(link)
    page.get_by_text("What differs").wait_for()
    page.get_by_text(re.compile(r"What differs.*neurons in hidden layer 1")).wait_for()
    page.locator(".digit-rows").wait_for()
    assert page.locator('.digit-rows [data-run="A"]').count() == 20
    screenshot(page, "07-compare")

    page.get_by_text("Where the runs disagree").click()
    page.locator('.digit-rows [data-disagree="true"]').first.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.digit-rows [data-disagree]')]"
        ".every(cell => cell.dataset.disagree === 'true')"
    )

    # Clicking a cell of the difference heatmap shows the test digits behind it: the cell of
    # the 7s, on the diagonal (every run reads some 7s right).
    difference = page.locator(f".st-key-difference_{second}")
    difference.scroll_into_view_if_needed()
    cells = difference.locator("g.mark-rect path")
    cells.nth(99).wait_for()
    cells.nth(7 * 10 + 7).click()  # row-major: true 7, predicted 7
    page.get_by_text("Test digits behind the click (true 7, predicted 7, run B)").wait_for()
    page.get_by_text("most confident first").wait_for()
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
    # Long enough to be still training when the slider moves, on a quiet machine too: 40 epochs
    # of 750 batches through 1,024 neurons take about 20 s there (300 neurons took 2 s, and the
    # run could end before the page said it was still going).
    page.goto(f"{server}/?hidden1=1024&hidden2=0&batch_size=8&epochs=40")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch \d+/40")).first.wait_for(timeout=60_000)
    slider = page.get_by_role("slider", name="Neurons in hidden layer 1")
    slider.focus()
    slider.press("ArrowLeft")  # a different network: the page shows that one instead
    page.get_by_text("784 → 768 → 10").wait_for()  # the next size down on the slider's ladder
    page.get_by_text("Not trained yet").wait_for()
    # ... and says the run it left is still going (it used to vanish without a word).
    notice = page.locator(".plain-info", has_text="Still training: 784-1024-10")
    notice.wait_for()
    screenshot(page, "11-slider-moved-while-training")
    page.get_by_role("button", name="Show it").click()  # back to it: it went on, and completes
    page.get_by_text("784 → 1,024 → 10").wait_for()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=200_000)
    assert page.get_by_text(re.compile("Stopped after")).count() == 0
    screenshot(page, "12-run-finished")


def test_a_tiny_sweep_end_to_end(page, server):
    page.goto(f"{server}/?view=sweep&sweep=hidden1:8,16&hidden2=0&epochs=1&train_fraction=0.05")
    page.get_by_text("2 runs: 0 stored, 0 training, 2 to train").wait_for()
    page.get_by_role("button", name="Train 2 run(s)").click()
    page.get_by_text("2 of 2 cells done").first.wait_for(timeout=120_000)
    chart = page.locator(".st-key-sweep_chart_test_accuracy [data-testid='stVegaLiteChart']")
    chart.locator("svg, canvas").first.wait_for()
    screenshot(page, "13-tiny-sweep")


def test_train_brings_its_progress_into_view_on_a_projector(browser, server):
    page = new_page(browser, 683, 512, 1.5)
    page.goto(f"{server}/?hidden1=200&hidden2=0&batch_size=16&epochs=20")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_function(
        """() => {
            const panel = document.querySelector('.st-key-run_panel');
            if (!panel) return false;
            const box = panel.getBoundingClientRect();
            return box.top < window.innerHeight - 40 && box.bottom > 0;
        }"""
    )
    panel = page.locator(".st-key-run_panel")
    panel.get_by_text(re.compile(r"Epoch \d+/20|Starting|Queued")).first.wait_for()
    page.get_by_role("button", name="Stop", exact=True).click()
    page.get_by_text(re.compile(r"Stopped after \d+ of 20 epochs|ended as stopped")).wait_for()
    page.context.close()
