"""The class view in a real browser, with 300 stored runs: nothing cut off on a laptop or a
projector, a brush on the parallel coordinates filters the table, and a click on a point opens
its run in Explore."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from explorer.data.npz import read_npz
from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays
from explorer.store.challenges import ClassroomStore
from explorer.store.registry import RunStore
from testkit.classroom import store_runs
from testkit.server import StreamlitServer
from tests.e2e.conftest import new_page, screenshot, server_environment
from tests.e2e.test_fit import SIZES, assert_fits

pytestmark = pytest.mark.e2e
RUNS = 300
TABLE_CAPTION = "runs selected (best first)"

# Text cut short with an ellipsis (CSS text-overflow) in a button, a title or a label.
CUT_TEXT = """() => [...document.querySelectorAll(
        'button, h1, h2, h3, h4, [data-testid="stWidgetLabel"],'
        + ' [data-testid="stMarkdownContainer"] p'
    )].filter(element => element.offsetParent !== null
        && element.scrollWidth > element.clientWidth + 1
        && getComputedStyle(element).textOverflow === 'ellipsis'
    ).map(element => element.textContent.trim())"""


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A server whose store already holds RUNS runs on the bundled sample."""
    environment = server_environment(tmp_path_factory)
    arrays = read_npz(SAMPLE_PATH)
    data = MnistData(*arrays, source="sample", location="", fingerprint=fingerprint_arrays(*arrays))
    run_ids = store_runs(RunStore(environment["EXPLORER_HOME"]), data, RUNS)
    log = tmp_path_factory.mktemp("class-view-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60) as running:
        running.run_ids = run_ids
        yield running


def selected_count(page) -> int:
    """How many runs the table under the charts lists, from its caption."""
    caption = page.get_by_text(TABLE_CAPTION)
    caption.wait_for()
    return int(caption.inner_text().split(" of ")[0])


def open_class_view(browser, url: str, width: int, height: int, scale: float = 1.0):
    page = new_page(browser, width, height, scale)
    page.goto(f"{url}/?view=class")
    page.get_by_text(f"{RUNS} of {RUNS} {TABLE_CAPTION}").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
        "[data-testid=stVegaLiteChart] svg').length >= 3"
    )
    return page


@pytest.mark.parametrize("size", SIZES)
def test_the_class_view_fits(browser, class_server, size):
    width, height, scale = size
    page = open_class_view(browser, class_server.url, width, height, scale)
    assert_fits(page)
    assert page.evaluate(CUT_TEXT) == []
    screenshot(page, f"class-view-{width}x{height}")
    page.context.close()


def test_brushing_an_axis_filters_the_table(browser, class_server):
    page = open_class_view(browser, class_server.url, 1280, 800)
    chart = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    chart.scroll_into_view_if_needed()
    box = chart.locator("canvas, svg").first.bounding_box()
    # The last axis is the accuracy; drag over its top third: the most accurate runs.
    x = box["x"] + box["width"] * 0.97
    top = box["y"] + box["height"] * 0.1
    page.mouse.move(x - 12, top)
    page.mouse.down()
    page.mouse.move(x + 8, top + box["height"] * 0.3, steps=8)
    page.mouse.up()
    page.wait_for_function(
        f"() => !document.body.innerText.includes('{RUNS} of {RUNS} {TABLE_CAPTION}')"
    )
    kept = selected_count(page)
    assert 0 < kept < RUNS
    screenshot(page, "class-view-brushed")
    page.context.close()


def point_under_the_mouse(page, chart) -> tuple[float, float, str]:
    """(x, y, run label) of a point of `chart`: the mouse sweeps the plot until a point's
    tooltip shows (the chart is drawn on a canvas, so its points are not in the page)."""
    box = chart.locator("canvas, svg").first.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    for column in range(10, 80):  # from the left: the smallest networks first
        for row in range(4, 40):
            x = box["x"] + box["width"] * column / 90
            y = box["y"] + box["height"] * row / 60
            page.mouse.move(x, y)
            if tooltip.is_visible() and "Run id" in tooltip.inner_text():
                return x, y, tooltip.inner_text()
    raise AssertionError("no point of the chart shows a tooltip")


def test_a_click_on_a_point_opens_its_run(browser, class_server):
    page = open_class_view(browser, class_server.url, 1280, 800)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.scroll_into_view_if_needed()
    x, y, text = point_under_the_mouse(page, chart)
    # The tooltip's first line is the run's label, e.g. "784-64-8-10 · adam 0.01 · ...".
    layers = re.search(r"784-(\d+)-(?:(\d+)-)?10", text)
    assert layers, text
    page.mouse.click(x, y)
    page.get_by_role("button", name="Train", exact=True).wait_for()
    page.wait_for_url(re.compile(rf"hidden1={layers.group(1)}\b"))
    assert "view=class" not in page.url
    screenshot(page, "class-view-opened-run")
    page.context.close()


def test_a_run_asked_for_elsewhere_reaches_an_open_board_by_itself(browser, class_server):
    """Another session's request during the challenge (written here straight into the store, as
    a second server would) shows on a board nobody touches, within the refresh's few seconds."""
    classroom = ClassroomStore(Path(class_server.env["EXPLORER_HOME"]) / "runs.db")
    challenge = classroom.start_challenge("Small and sharp", max_params=200_000)
    try:
        page = open_class_view(browser, class_server.url, 1280, 800)
        page.get_by_text("Nobody is on the board yet").wait_for()
        classroom.set_nickname(challenge.challenge_id, "elsewhere", "Bea")
        classroom.record_request(challenge.challenge_id, "elsewhere", class_server.run_ids[0])
        # The board's fragment reruns every 3 to 4 s: well within the deadline.
        page.get_by_text("Nobody is on the board yet").wait_for(state="detached", timeout=20_000)
        page.get_by_text("Ranked on the public half").wait_for(timeout=5_000)
        page.context.close()
    finally:
        classroom.end_challenge()
        classroom.close()
