"""Real-browser fixtures: a Streamlit server on a free port and Debian's Chromium via Playwright.

The server uses the bundled MNIST sample and a temporary run store, so the flows are quick and
leave nothing behind. Screenshots of each step go to test-artifacts/e2e/.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.data.npz import read_npz
from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays
from testkit.fakes import fake_result
from testkit.server import CHROMIUM, StreamlitServer, launch_chromium
from testkit.store import seed_store

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def server_environment(tmp_path_factory, **extra) -> dict[str, str]:
    """The environment of a test server: the bundled sample (quick runs), its own run store."""
    return {
        **os.environ,
        "EXPLORER_HOME": str(tmp_path_factory.mktemp("e2e-home")),
        "EXPLORER_DATA_DIR": "",
        "EXPLORER_OFFLINE": "1",
        "KERAS_HOME": str(tmp_path_factory.mktemp("e2e-keras")),
        **extra,
    }


@pytest.fixture(scope="session")
def running_server(tmp_path_factory):
    """`streamlit run app.py` on a free port (stopped afterwards): .url, .env, .log_path."""
    environment = server_environment(tmp_path_factory)
    log = tmp_path_factory.mktemp("e2e-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60) as running:
        yield running


@pytest.fixture(scope="session")
def server(running_server):
    """The base URL of the shared test server."""
    return running_server.url


# The teacher's password of the class servers below (12 characters or more, as a class server
# requires).
CLASS_SECRET = "a-long-class-secret-2026"


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    """A class server (a teacher password is set), one per test module so that one module's
    guesses and runs never reach another's: .url, .env, .log_path."""
    environment = server_environment(tmp_path_factory, EXPLORER_TEACHER_PASSWORD=CLASS_SECRET)
    log = tmp_path_factory.mktemp("class-log") / "server.log"
    with StreamlitServer(environment, log, timeout=60) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}; .ci/run installs it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a screenshot as a test artifact and fail if it is blank (one flat colour)."""
    from PIL import Image, ImageStat

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
    assert spread > 5, f"screenshot {path.name} looks blank"
    return path


def new_page(browser, width: int, height: int, scale: float = 1.0):
    """A page in a fresh browser context: 1280×800, or a projector's 683×512 at scale 1.5."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=scale
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    return page


VARIANTS = [
    TrainingConfig(hidden2=0),
    TrainingConfig(hidden1=64),
    TrainingConfig(hidden1=128, optimizer="adam"),
    TrainingConfig(hidden1=32, batch_size=32),
]


@pytest.fixture(scope="session")
def stored_runs(running_server):
    """The tutorial's run and four variants in the test server's store, as if trained there.

    Run C (the third variant) gets every test digit right, so each of its per-digit bars
    stands above zero."""
    arrays = read_npz(SAMPLE_PATH)

    data = MnistData(*arrays, source="sample", location="", fingerprint=fingerprint_arrays(*arrays))

    def result_for(index, config):
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
        return result

    home = running_server.env["EXPLORER_HOME"]
    return seed_store(home, data, [TrainingConfig(), *VARIANTS], result_for)
