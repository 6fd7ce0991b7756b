"""Inside the network, in a real browser: draw a "1" with the mouse and see a prediction and
ten probability bars."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import new_page, screenshot

pytestmark = pytest.mark.e2e
CANVAS = '[data-testid="stBidiComponentIsolated"] canvas.dc-canvas'


@pytest.mark.parametrize("size", [(1280, 800, 1.0), (683, 512, 1.5)], ids=["1280x800", "projector"])
def test_draw_a_one_and_see_a_prediction_with_ten_bars(browser, server, stored_runs, size):
    width, height, scale = size
    page = new_page(browser, width, height, scale)
    page.goto(server)  # the tutorial's run is stored: its results and the canvas show
    canvas = page.locator(CANVAS)
    canvas.wait_for()
    # Centre it (the page header would otherwise cover its top), then measure it again.
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
    page.wait_for_function(
        "selector => document.querySelector('[data-testid=stBidiComponentIsolated]')"
        ".shadowRoot.querySelector('canvas').getBoundingClientRect().width > 100",
        arg=CANVAS,
    )
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.8, steps=20)
    page.mouse.up()
    page.get_by_text("What the network sees (28×28)").wait_for()
    answer = page.locator('[data-testid="stMetric"]', has_text="the network says")
    answer.wait_for()
    assert answer.locator('[data-testid="stMetricValue"]').inner_text() in "0123456789"
    bars = page.locator('[data-testid="stVegaLiteChart"]', has_text="Probability")
    bars.first.scroll_into_view_if_needed()
    bars.first.locator("g.mark-rect path").nth(9).wait_for()
    assert bars.first.locator("g.mark-rect path").count() == 10
    screenshot(page, f"draw-a-one-{width}x{height}")
    page.context.close()


def _stroke(page, box, start, end):
    page.mouse.move(box["x"] + box["width"] * start[0], box["y"] + box["height"] * start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * end[0], box["y"] + box["height"] * end[1], steps=15)
    page.mouse.up()


def test_a_seven_in_two_strokes_is_seen_whole(browser, server, stored_runs):
    """The second stroke of a digit reaches the network too: what the network sees changes
    after it, and the canvas keeps the first stroke."""
    page = new_page(browser, 1280, 800, 1.0)
    page.goto(server)
    canvas = page.locator(CANVAS)
    canvas.wait_for()
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stBidiComponentIsolated]')"
        ".shadowRoot.querySelector('canvas').getBoundingClientRect().width > 100"
    )
    box = canvas.bounding_box()
    seen = page.locator('img[alt="the prepared digit"]')
    _stroke(page, box, (0.3, 0.2), (0.7, 0.2))  # the bar of a 7
    seen.wait_for()
    after_bar = seen.get_attribute("src")
    _stroke(page, box, (0.7, 0.2), (0.4, 0.85))  # its stem
    page.wait_for_function(
        "before => { const img = document.querySelector('img[alt=\"the prepared digit\"]');"
        " return img && img.getAttribute('src') !== before; }",
        arg=after_bar,
    )
    # Both strokes are still on the canvas: white pixels where the bar and the stem were drawn.
    lit = canvas.evaluate(
        """c => { const x = c.getContext('2d'), w = c.width;
        const at = (u, v) => x.getImageData(Math.round(u * w), Math.round(v * w), 1, 1).data[0];
        return [at(0.5, 0.2), at(0.55, 0.525)]; }"""
    )
    assert lit == [255, 255]
    page.context.close()


def test_the_first_layer_tab_fills_when_opened_and_the_drawing_stays(browser, server, stored_runs):
    """The heavy tabs are drawn only when open (a switch reruns the page): opening "What the
    first layer learned" shows its pictures, and going back finds the drawing still there."""
    page = new_page(browser, 1280, 1000, 1.0)
    page.goto(server)
    canvas = page.locator(CANVAS)
    canvas.wait_for()
    canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=stBidiComponentIsolated]')"
        ".shadowRoot.querySelector('canvas').getBoundingClientRect().width > 100"
    )
    _stroke(page, canvas.bounding_box(), (0.5, 0.2), (0.5, 0.8))
    page.get_by_text("What the network sees (28×28)").wait_for()
    assert page.locator(".weight-grid").count() == 0  # not drawn while its tab is closed
    page.get_by_role("tab", name="What the first layer learned").click()
    page.locator(".weight-grid .weight-cell img").first.wait_for()
    page.get_by_role("tab", name="Draw a digit").click()
    page.get_by_text("What the network sees (28×28)").wait_for()
    page.locator('[data-testid="stMetric"]', has_text="the network says").wait_for()
    page.context.close()
