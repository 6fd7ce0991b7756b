"""The page on a laptop screen (1280×800) and on a projector (1024×768 at 150 %: 683×512 CSS
pixels, device scale 1.5): nothing cut off or wider than the page, Train in sight, Compare with
four runs, presenter mode from a link, a clicked bar showing its own run, and links that cannot
inject formatting."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.data.files import read_npz
from explorer.data.sources import SAMPLE_PATH, fingerprint_arrays
from explorer.store.registry import RunStore
from testkit.fakes import fake_result
from tests.e2e.conftest import new_page, screenshot

pytestmark = pytest.mark.e2e

SIZES = [
    pytest.param((1280, 800, 1.0), id="1280x800"),
    pytest.param((683, 512, 1.5), id="projector"),
]
VARIANTS = [
    TrainingConfig(hidden2=0),
    TrainingConfig(hidden1=64),
    TrainingConfig(hidden1=128, optimizer="adam"),
    TrainingConfig(hidden1=32, batch_size=32),
]
RUN_C_COLOUR = (0xB2, 0x79, 0xA2)  # charts.RUN_COLOURS[3]: Baseline, A, B, C, D

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


@pytest.fixture(scope="module")
def stored_runs(running_server):
    """The tutorial's run and four variants in the test server's store, as if trained there.

    Run C (the third variant) gets every test digit right, so each of its per-digit bars
    stands above zero."""
    arrays = read_npz(SAMPLE_PATH)
    from explorer.data.sources import MnistData

    data = MnistData(*arrays, source="sample", location="", fingerprint=fingerprint_arrays(*arrays))
    store = RunStore(running_server.env["EXPLORER_HOME"])
    ids = []
    for index, config in enumerate([TrainingConfig(), *VARIANTS]):
        run_id, created = store.claim(config, config.cache_key(data.fingerprint), "sample")
        if not created:
            ids.append(run_id)
            continue
        history = [
            {
                "epoch": e,
                "loss": 1 / e,
                "accuracy": 0.7 + e / 50,
                "test_loss": 1.1 / e,
                "test_accuracy": 0.7 + e / 60 - index / 100,
            }
            for e in range(1, 6)
        ]
        result = fake_result(config, data, history)
        if index == 3:
            result.predicted_labels = data.y_test.astype(np.uint8).copy()
            result.confusion_matrix = np.diag(np.bincount(data.y_test, minlength=10))
        store.finish(run_id, result)
        ids.append(run_id)
    return ids


def assert_fits(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".every(chart => chart.querySelector('canvas, svg'))"
    )
    sizes = page.evaluate(OVERFLOW)
    assert sizes["scroll"] <= sizes["client"], f"the page is wider than the screen: {sizes}"
    assert sizes["wideCharts"] == 0, f"charts drawn wider than their column: {sizes}"


@pytest.mark.parametrize("size", SIZES)
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
    screenshot(page, f"fit-explore-{width}x{height}")
    page.context.close()


@pytest.mark.parametrize("size", SIZES)
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


def test_clicking_run_cs_bar_shows_run_cs_digits(browser, server, stored_runs):
    page = new_page(browser, 1280, 800)
    page.goto(f"{server}/?view=compare&runs={','.join(stored_runs[1:])}")
    page.locator(".digit-rows").wait_for()
    page.locator(".st-key-class_deltas").scroll_into_view_if_needed()  # charts draw when seen
    bars = page.locator(".st-key-class_deltas canvas")
    bars.wait_for()
    page.wait_for_function("() => document.querySelector('.st-key-class_deltas canvas').width > 0")
    # Find run C's bars by their colour: ten clusters, one per digit, left to right.
    clusters = bars.evaluate(
        """(canvas, colour) => {
            const context = canvas.getContext('2d');
            const {width, height} = canvas;
            const pixels = context.getImageData(0, 0, width, height).data;
            const hits = [];
            for (let x = 0; x < width; x++) {
                for (let y = 0; y < height; y++) {
                    const i = (y * width + x) * 4;
                    const near = [0, 1, 2].every(c => Math.abs(pixels[i + c] - colour[c]) < 8);
                    if (near) { hits.push([x, y]); break; }
                }
            }
            const groups = [];
            for (const [x, y] of hits) {
                const last = groups[groups.length - 1];
                if (last && x - last.end <= 1) { last.end = x; last.y = Math.max(last.y, y); }
                else groups.push({start: x, end: x, y});
            }
            const scale = canvas.getBoundingClientRect().width / width;
            return groups.map(g => ({x: (g.start + g.end) / 2 * scale, y: (g.y + 3) * scale}));
        }""",
        list(RUN_C_COLOUR),
    )
    assert len(clusters) == 10, clusters
    box = bars.bounding_box()
    page.mouse.click(box["x"] + clusters[5]["x"], box["y"] + clusters[5]["y"])
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
    assert (
        main.locator('[data-testid="stMarkdownContainer"] span[style*="background"]').count() == 0
    )
    page.context.close()
