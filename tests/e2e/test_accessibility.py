"""Accessibility in a real browser: axe-core finds no serious or critical violation of WCAG 2.1
AA on any view (Explore, Compare, Sweep, presenter mode, the class view with stored runs), on a
laptop (1280×800), a projector (683×512 CSS pixels at device scale 1.5) and a phone (390×844).

axe-core's script comes from the installed `axe-playwright-python` package: nothing is
downloaded. A school must meet WCAG 2.1 AA, and many students open the page on a phone.
"""

from __future__ import annotations

import pytest

from explorer.data.npz import read_npz
from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays
from explorer.store.registry import RunStore
from testkit.classroom import store_runs
from testkit.server import StreamlitServer
from tests.e2e.conftest import new_page, screenshot, server_environment

pytestmark = pytest.mark.e2e

SIZES = [
    pytest.param((1280, 800, 1.0), id="1280x800"),
    pytest.param((683, 512, 1.5), id="projector"),
    pytest.param((390, 844, 1.0), id="phone"),
]
VIEWS = ["explore", "compare", "sweep", "presenter"]
# WCAG 2.0 and 2.1, levels A and AA: what a school must meet.
# Enough runs on the class view for every chart to draw points, lines and a front.
CLASS_RUNS = 40
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
}


def open_view(page, server: str, stored_runs: list[str], view: str) -> None:
    """Open `view` and wait until what it draws from the stored runs is on the page."""
    if view == "explore":
        page.goto(server)  # the tutorial's run is stored: its results are drawn
        page.locator(".digit-cell").nth(19).wait_for()
        page.get_by_text("More settings").click()  # its controls are checked too
        page.get_by_role("spinbutton", name="Neurons in hidden layer 1, exact").wait_for()
    elif view == "presenter":
        page.goto(f"{server}/?present=1")
        page.locator(".digit-cell").nth(19).wait_for()
    elif view == "compare":
        page.goto(f"{server}/?view=compare&runs={','.join(stored_runs[1:])}")
        page.locator(".digit-rows").wait_for()
    else:
        page.goto(f"{server}/?view=sweep")
        page.get_by_text("cells done").first.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".every(chart => chart.querySelector('canvas, svg'))"
    )


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line per element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS).response
    return [
        f"{violation['id']} ({violation['impact']}): {node['target']} "
        f"{node.get('failureSummary', '').splitlines()[-1:]}"
        for violation in results["violations"]
        if violation["impact"] in ("serious", "critical")
        for node in violation["nodes"]
    ]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("size", SIZES)
def test_no_serious_accessibility_violations(browser, server, stored_runs, size, view):
    width, height, scale = size
    page = new_page(browser, width, height, scale)
    open_view(page, server, stored_runs, view)
    found = serious_violations(page)
    screenshot(page, f"axe-{view}-{width}x{height}")
    page.context.close()
    assert not found, "\n".join(found)


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A server whose store holds CLASS_RUNS runs on the bundled sample, for the class view."""
    environment = server_environment(tmp_path_factory)
    arrays = read_npz(SAMPLE_PATH)
    data = MnistData(*arrays, source="sample", location="", fingerprint=fingerprint_arrays(*arrays))
    store_runs(RunStore(environment["EXPLORER_HOME"]), data, CLASS_RUNS)
    log = tmp_path_factory.mktemp("axe-class-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60) as running:
        yield running.url


@pytest.mark.parametrize("size", SIZES)
def test_no_serious_accessibility_violations_on_the_class_view(browser, class_server, size):
    width, height, scale = size
    page = new_page(browser, width, height, scale)
    page.goto(f"{class_server}/?view=class")
    page.get_by_text(f"{CLASS_RUNS} of {CLASS_RUNS} runs selected").wait_for()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=stVegaLiteChart] canvas, "
        "[data-testid=stVegaLiteChart] svg').length >= 3"
    )
    found = serious_violations(page)
    screenshot(page, f"axe-class-{width}x{height}")
    page.context.close()
    assert not found, "\n".join(found)
