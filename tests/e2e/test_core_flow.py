"""A new user's first minutes, in a real browser: look, move sliders, train, come back."""

import re

import pytest

from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def open_page(page, server):
    page.goto(server)
    page.get_by_text("Parameters to learn").wait_for()
    return page


def set_slider(page, label: str, presses: list[str]):
    slider = page.get_by_role("slider", name=label)
    slider.focus()
    for key in presses:
        slider.press(key)


def width_to_16(page) -> None:
    """Hidden layer 1 to 1 (Home), then along the slider's ladder to 16, a press at a time:
    each rerun lands before the next press (presses in a burst can be lost under load)."""
    for key, width in [("Home", 1), *(("ArrowRight", width) for width in (2, 4, 8, 16))]:
        set_slider(page, "Neurons in hidden layer 1", [key])
        page.get_by_text(f"784 → {width} → 10").wait_for()


def parameter_total(page) -> str:
    total = page.locator('[data-testid="stMarkdownContainer"]', has_text="Parameters to learn")
    return total.locator("h2").inner_text().strip()


def test_first_look_shows_the_tutorial_network(page, server):
    open_page(page, server)
    assert parameter_total(page) == "322,230"
    page.get_by_text("784 → 400 → 20 → 10").wait_for()
    # The data line comes after the parameter total (first paint draws the total first).
    page.get_by_text("bundled with the app").wait_for()
    screenshot(page, "01-first-look")


def test_sliders_change_the_table_then_train_and_come_back(page, server):
    open_page(page, server)
    links = [page.url]  # the page keeps its settings in the link: a trail for a failure
    # Hidden layer 2 to 0 (Home), hidden layer 1 to 16.
    set_slider(page, "Neurons in hidden layer 2", ["Home"])
    page.get_by_text("784 → 400 → 10").wait_for()
    links.append(page.url)
    width_to_16(page)
    links.append(page.url)
    assert parameter_total(page) == f"{784 * 16 + 16 + 16 * 10 + 10:,}"
    screenshot(page, "02-sliders-moved")

    page.get_by_role("button", name="Train", exact=True).click()
    # A warm trainer may finish before a progress bar is ever drawn: wait for either.
    run_panel = page.locator(".st-key-run_panel")
    run_panel.get_by_text(re.compile(r"Starting|Epoch \d+/5|Queued|Test accuracy")).first.wait_for()
    links.append(page.url)
    screenshot(page, "03-training")
    page.get_by_text("Test accuracy").wait_for(timeout=120_000)
    page.locator(".digit-cell").nth(19).wait_for()
    assert page.locator(".digit-cell").count() == 20
    # The learning curves (loss, accuracy) and the confusion matrix draw just after the digits.
    charts = page.locator('[data-testid="stVegaLiteChart"]')
    charts.nth(2).wait_for()
    assert charts.count() == 3
    accuracy = page.locator('[data-testid="stMetric"]', has_text="Test accuracy")
    value = float(accuracy.locator('[data-testid="stMetricValue"]').inner_text().rstrip("%"))
    shown = run_panel.inner_text()[:300]
    # Chance is 10%; a tiny SGD run on the sample gets about 45%.
    assert value > 20, f"{shown}\nlinks: {links}"
    screenshot(page, "04-results")

    # A fresh visit with the same settings shows the stored run at once, marked cached.
    open_page(page, server)
    set_slider(page, "Neurons in hidden layer 2", ["Home"])
    page.get_by_text("784 → 400 → 10").wait_for()  # let that rerun land before the next slider
    width_to_16(page)
    page.get_by_text("cached").wait_for(timeout=30_000)
    page.locator(".digit-cell").nth(19).wait_for(timeout=30_000)
    assert page.locator('[data-testid="stProgress"]').count() == 0  # nothing trained again
    screenshot(page, "05-cached")


def test_arrow_keys_step_the_widths_along_a_ladder_and_an_exact_size_can_be_typed(page, server):
    """From 400 to 64 took hundreds of arrow presses on a slider over 1..1024."""
    open_page(page, server)
    for width in (256, 192, 128, 96, 64):  # one press each, from the tutorial's 400
        set_slider(page, "Neurons in hidden layer 1", ["ArrowLeft"])
        page.get_by_text(f"784 → {width} → 20 → 10").wait_for()
    page.get_by_text("More settings").click()
    exact = page.get_by_role("spinbutton", name="Neurons in hidden layer 1, exact")
    exact.fill("300")
    exact.press("Enter")
    page.get_by_text("784 → 300 → 20 → 10").wait_for()
    assert parameter_total(page) == f"{784 * 300 + 300 + 300 * 20 + 20 + 20 * 10 + 10:,}"


def test_the_terminal_stays_quiet_through_a_training(page, running_server):
    """A teacher watching the terminal used to see ~165 "missing ScriptRunContext" warnings,
    Streamlit's "use streamlit run" hint and TensorFlow's CUDA probe on the first training."""
    page.goto(f"{running_server.url}/?hidden1=20&hidden2=0&epochs=1")
    page.get_by_role("button", name="Train", exact=True).click()
    page.locator(".st-key-run_panel").get_by_text("Test accuracy").first.wait_for()
    log = running_server.log_path.read_text()
    for noise in ("ScriptRunContext", "streamlit run", "cuInit", "CUDA", "oneDNN", "Traceback"):
        assert noise not in log, f"{noise!r} in the server's output:\n{log}"
