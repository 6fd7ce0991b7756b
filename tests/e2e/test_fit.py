"""The page on a laptop screen (1280×800), on a projector (1024×768 at 150 %: 683×512 CSS
pixels, device scale 1.5) and on a phone (390×844): nothing cut off or wider than the page,
Train and the parameter count in sight, Compare with four runs and no label cut short,
presenter mode from a link, a clicked bar showing its own run, and links that cannot inject
formatting."""

from __future__ import annotations

import contextlib

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from explorer.views.charts import RUN_COLOURS
from tests.e2e.conftest import new_page, screenshot

pytestmark = pytest.mark.e2e

SIZES = [
    pytest.param((1280, 800, 1.0), id="1280x800"),
    pytest.param((683, 512, 1.5), id="projector"),
]
PHONE = pytest.param((390, 844, 1.0), id="phone")
RUN_C_COLOUR = RUN_COLOURS[3]  # Baseline, A, B, C, D

OVERFLOW = """() => {
    const page = document.documentElement;
    const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')];
    const wide = charts.filter(chart => {
        const drawing = chart.querySelector('canvas, svg');
        const inner = drawing && drawing.getBoundingClientRect().width;
        return inner > chart.getBoundingClientRect().width + 1;
    }).length;
    return {scroll: page.scrollWidth, client: page.clientWidth, wideCharts: wide};
}"""


def assert_clear_of_the_header(page) -> None:
    """The view switch (the page's first line in every mode) starts below Streamlit's header
    bar, which is drawn over the page and would hide the top of anything under it."""
    header = page.locator('[data-testid="stHeader"]').bounding_box()
    switch = page.locator('[data-testid="stButtonGroup"]').first.bounding_box()
    assert header and switch and switch["y"] >= header["y"] + header["height"], (header, switch)


def assert_fits(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".every(chart => chart.querySelector('canvas, svg'))"
    )
    sizes = page.evaluate(OVERFLOW)
    assert sizes["scroll"] <= sizes["client"], f"the page is wider than the screen: {sizes}"
    assert sizes["wideCharts"] == 0, f"charts drawn wider than their column: {sizes}"


@pytest.mark.parametrize("size", [*SIZES, PHONE])
def test_explore_fits_and_train_is_in_sight(browser, server, stored_runs, size):
    width, height, scale = size
    page = new_page(browser, width, height, scale)
    page.goto(server)  # the tutorial's network: trained, so its charts are drawn
    page.get_by_text("Test accuracy").first.wait_for()
    page.locator(".digit-cell").nth(19).wait_for()
    train = page.get_by_role("button", name="Train", exact=True)
    box = train.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= height, box  # no scrolling
    assert_fits(page)
    assert_clear_of_the_header(page)
    screenshot(page, f"fit-explore-{width}x{height}")
    page.context.close()


@pytest.mark.parametrize("size", [*SIZES, PHONE])
def test_compare_with_four_runs_fits(browser, server, stored_runs, size):
    width, height, scale = size
    page = new_page(browser, width, height, scale)
    page.goto(f"{server}/?view=compare&runs={','.join(stored_runs[1:])}")
    page.locator(".digit-rows").wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').nth(3 + 5 + 4).wait_for()  # curves, 5, 4
    assert page.locator('.digit-rows [data-run="D"]').count() == 20
    assert_fits(page)
    screenshot(page, f"fit-compare-{width}x{height}")
    page.context.close()


# Every element whose text is cut short: a button label or a metric's change that overflows
# its box (Streamlit ends it with "…"), and Vega's titles, axis titles and legends, which Vega
# cuts with "…".
CUT_TEXT = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const boxes = main.querySelectorAll('button, [data-testid="stMetricDelta"]');
    const buttons = [...boxes].filter(button => {
        return [button, ...button.querySelectorAll('*')].some(element =>
            element.clientWidth > 0 && element.scrollWidth > element.clientWidth + 1);
    }).map(button => button.innerText);
    const charts = [...main.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
        .map(text => text.textContent).filter(text => text.includes('…'));
    return {buttons, charts};
}"""
NOTHING_CUT = f"""() => {{
    const cut = ({CUT_TEXT})();
    return !cut.buttons.length && !cut.charts.length;
}}"""
# Any element showing `text` as its own, with its whole box inside the first screen.
IN_SIGHT = """text => [...document.querySelectorAll('[data-testid="stMain"] *')].some(element => {
    if (element.children.length || !element.textContent.includes(text)) return false;
    const box = element.getBoundingClientRect();
    return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight;
})"""


def test_compare_on_a_projector_cuts_no_label_short(browser, server, stored_runs):
    """Buttons read "Compar…" and "CSV (17 …", chart titles "Loss (lower is b…" at 683×512."""
    page = new_page(browser, 683, 512, 1.5)
    page.goto(f"{server}/?view=compare&runs={','.join(stored_runs[1:])}")
    page.locator(".digit-rows").wait_for()
    page.locator('[data-testid="stVegaLiteChart"]').nth(3 + 5 + 4).wait_for()
    assert_fits(page)  # every chart drawn
    # Under load a chart may first be laid out in a narrower column and cut its title, then
    # drawn again at its width: what counts is what the class is left to read.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(NOTHING_CUT, timeout=30_000)
    assert page.evaluate(CUT_TEXT) == {"buttons": [], "charts": []}
    # A chart's toolbar (full screen, data) covered the section title above it.
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.hover()
    toolbars = page.locator('[data-testid="stElementToolbar"]')
    assert all(not toolbars.nth(i).is_visible() for i in range(toolbars.count()))
    page.context.close()


def test_the_parameter_count_is_in_sight_of_the_sliders_on_a_projector(browser, server):
    """At 683×512 the count was under the fold: moving a slider, the class did not see it."""
    page = new_page(browser, 683, 512, 1.5)
    page.goto(server)
    page.wait_for_function(IN_SIGHT, arg="322,230", timeout=30_000)  # the tutorial's network
    slider = page.get_by_role("slider", name="Neurons in hidden layer 2")
    slider.focus()
    slider.press("Home")  # no second hidden layer: 784·400 + 400 + 400·10 + 10
    page.wait_for_function(IN_SIGHT, arg="318,010", timeout=30_000)
    screenshot(page, "fit-parameter-count-projector")
    page.context.close()


def test_clicking_run_cs_bar_shows_run_cs_digits(browser, server, stored_runs):
    """Only the digit used to be recorded, so a click on run C's bar showed run B's digits."""
    page = new_page(browser, 1280, 800)
    page.goto(f"{server}/?view=compare&runs={','.join(stored_runs[1:])}")
    page.locator(".digit-rows").wait_for()
    chart = page.locator(".st-key-class_deltas")
    chart.scroll_into_view_if_needed()  # charts draw when they come into sight
    # Vega draws each bar as an SVG path filled with its run's colour: run C's ten bars, one
    # per digit, left to right.
    bars = chart.locator(f'g.mark-rect path[fill="{RUN_C_COLOUR}"]')
    bars.nth(9).wait_for()
    left_to_right = sorted(range(10), key=lambda i: bars.nth(i).bounding_box()["x"])
    bars.nth(left_to_right[5]).click()  # digit 5 (Playwright scrolls it into view first)
    page.get_by_text("The 5s that changed between Baseline and run C").wait_for()
    assert page.get_by_text("run C's answers").first.is_visible()
    screenshot(page, "fit-clicked-bar-of-run-c")
    page.context.close()


def test_presenter_mode_from_a_link(browser, server, stored_runs):
    page = new_page(browser, 683, 512, 1.5)
    page.goto(f"{server}/?present=1")
    page.get_by_text("Test accuracy").first.wait_for()
    page.wait_for_function("() => getComputedStyle(document.documentElement).fontSize === '20px'")
    assert page.get_by_text("Class limits").count() == 0  # teacher-only controls hidden
    assert "present=1" in page.url
    assert_fits(page)
    assert_clear_of_the_header(page)
    train = page.get_by_role("button", name="Train", exact=True).bounding_box()
    assert train and train["y"] + train["height"] <= 512, train  # still in sight
    screenshot(page, "presenter-projector")
    page.context.close()


@pytest.mark.parametrize(
    "query",
    [
        "%5BSession%20expired%20-%20log%20in%20here%5D(http%3A%2F%2Fexample.invalid%2Fphish)=1",
        "!%5Bt%5D(http%3A%2F%2Fexample.invalid%2Ft.png)=1",
        "%3Ared-background%5B**TEACHER%3A%20hand%20in%20your%20password**%5D=1",
    ],
    ids=["link", "image", "styled-notice"],
)
def test_a_link_cannot_inject_formatting(browser, server, query):
    page = new_page(browser, 1280, 800)
    page.goto(f"{server}/?{query}")
    warning = page.locator(".plain-warning").first
    warning.wait_for()
    assert "does not know" in warning.inner_text()
    main = page.locator('[data-testid="stMain"]')
    assert main.locator('a[href*="example.invalid"]').count() == 0
    assert main.locator('img[src*="example.invalid"]').count() == 0
    assert main.locator('[data-testid="stMarkdownContainer"]', has_text="TEACHER").count() == 0
    page.context.close()
