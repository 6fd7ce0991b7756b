"""Take the README's screenshots (docs/*.png) from a real server on the full MNIST.

    python scripts/readme_screenshots.py --data-dir path/to/mnist

It trains what the pictures need with the command line first (a few minutes the first time;
stored runs are reused), then starts `streamlit run app.py` on a free port and drives Debian's
Chromium: the Explore view on a laptop screen, Compare and presenter mode on a projector
(683×512 CSS pixels at 150 %), a drawn digit, the first layer, and a sweep.

    python scripts/readme_screenshots.py --data-dir path/to/mnist --only class

takes only the class view's: the top of the page with 300 runs (title, filters, the scatter with
its front) and the parallel coordinates of 1,000 runs with the most accurate brushed. Their runs
are stored as if trained (testkit.classroom.store_runs, on the full MNIST's labels): seconds,
not hours.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.server import StreamlitServer, launch_chromium  # noqa: E402

DOCS = ROOT / "docs"
VARIANTS = [
    ["--hidden1", "400", "--hidden2", "20"],
    ["--hidden1", "400", "--hidden2", "0"],
    ["--hidden1", "64", "--hidden2", "0"],
    ["--hidden1", "128", "--hidden2", "0", "--optimizer", "adam"],
    ["--hidden1", "400", "--hidden2", "20", "--batch-size", "32"],
]
SWEEP = ["--hidden1", "16,64,256", "--hidden2", "0", "--epochs", "1,3"]


def cli(home: Path, environment: dict, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "explorer", *arguments, "--json"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def settle(page) -> None:
    """Wait until the script has finished and every chart is drawn."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stSkeleton]')"
        " && !document.querySelector('[data-testid=stStatusWidget]')"
        " && [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]"
        ".every(chart => chart.querySelector('canvas, svg'))"
    )


def environment_for(home: Path, data_dir: str) -> dict[str, str]:
    """The server's and the command line's environment for the run store in `home`."""
    home.mkdir(parents=True, exist_ok=True)
    # The page names the data folder, with the home folder as "~": a home of its own keeps
    # this computer's paths out of the pictures.
    if not (home / "mnist").exists():  # a --home used before has it already
        (home / "mnist").symlink_to(Path(data_dir).resolve(), target_is_directory=True)
    environment = {**os.environ, "EXPLORER_HOME": str(home), "EXPLORER_OFFLINE": "1"}
    environment.update(HOME=str(home), EXPLORER_DATA_DIR=str(home / "mnist"))
    return environment


def class_view_shots(home: Path, data_dir: str) -> None:
    """docs/class-view.png (the top of the class view, 300 runs) and docs/class-view-1000.png
    (the parallel coordinates of 1,000 runs, the most accurate brushed on the accuracy axis)."""
    from playwright.sync_api import sync_playwright

    from explorer.data.sources import load_mnist
    from explorer.store.registry import RunStore
    from testkit.classroom import store_runs

    for count in (300, 1000):
        store_home = home / f"class-{count}"
        environment = environment_for(store_home, data_dir)
        store = RunStore(store_home)
        if not store.list_runs(limit=1):
            store_runs(store, load_mnist(store_home / "mnist", offline=True), count)
        store.close()
        log = store_home / "server.log"
        with StreamlitServer(environment, log) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            # 1280×800, a laptop; the chart and its table need a taller window.
            height = 800 if count == 300 else 1100
            context = browser.new_context(viewport={"width": 1280, "height": height})
            page = context.new_page()
            page.set_default_timeout(120_000)
            page.goto(f"{server.url}/?view=class")
            page.get_by_text(f"{count} of {count} runs selected").wait_for()
            settle(page)
            if count == 300:
                page.screenshot(path=str(DOCS / "class-view.png"))
            else:
                chart = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
                chart.scroll_into_view_if_needed()
                box = chart.locator("canvas, svg").first.bounding_box()
                # The last axis is the accuracy: a drag over its top fifth keeps the best runs.
                x = box["x"] + box["width"] * 0.97
                top = box["y"] + box["height"] * 0.08
                page.mouse.move(x - 12, top)
                page.mouse.down()
                page.mouse.move(x + 8, top + box["height"] * 0.2, steps=8)
                page.mouse.up()
                page.wait_for_function(
                    f"() => !document.body.innerText.includes('{count} of {count} runs selected')"
                )
                settle(page)
                page.mouse.move(0, 0)  # no tooltip in the picture
                # The chart with its caption above and the table it filtered below.
                caption = page.get_by_text("Every run as a line through").first
                caption.evaluate("c => c.scrollIntoView({block: 'start'})")
                main = page.locator('[data-testid="stMain"]')
                main.evaluate("main => main.scrollBy(0, -80)")  # out from under the header bar
                top = caption.bounding_box()
                bottom = page.locator(".st-key-class_table_actions").bounding_box()
                page.screenshot(
                    path=str(DOCS / "class-view-1000.png"),
                    clip={
                        "x": top["x"] - 16,
                        "y": top["y"] - 12,
                        "width": bottom["x"] + bottom["width"] - top["x"] + 32,
                        "height": bottom["y"] + bottom["height"] - top["y"] + 24,
                    },
                )
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True, help="folder holding the full MNIST")
    parser.add_argument("--home", help="run store to use (default: a new temporary one)")
    parser.add_argument("--only", choices=("all", "class"), default="all", help="which pictures")
    arguments = parser.parse_args()
    home = Path(arguments.home or tempfile.mkdtemp(prefix="explorer-shots-"))
    DOCS.mkdir(exist_ok=True)
    class_view_shots(home, arguments.data_dir)
    if arguments.only == "class":
        print(f"Screenshots written to {DOCS}")
        return
    environment = environment_for(home, arguments.data_dir)
    import json

    run_ids = [json.loads(cli(home, environment, "train", *v))["run_id"] for v in VARIANTS]
    cli(home, environment, "sweep", *SWEEP, "--workers", "2")
    from playwright.sync_api import sync_playwright

    log = home / "server.log"
    with StreamlitServer(environment, log) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)

        def shoot(name, query, width, height, scale=1.0, wait="Test accuracy"):
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=scale
            )
            page = context.new_page()
            page.set_default_timeout(60_000)
            page.goto(f"{server.url}/?{query}")
            page.get_by_text(wait).first.wait_for()
            settle(page)
            page.screenshot(path=str(DOCS / f"{name}.png"))
            return page

        shoot("explore", "", 1280, 1900).context.close()
        compared = ",".join(run_ids[1:])
        shoot(
            "compare-projector", f"view=compare&runs={compared}", 683, 1500, 1.5, "What differs"
        ).context.close()
        shoot("presenter", "present=1&lesson=1-width&step=1", 683, 512, 1.5).context.close()
        shoot(
            "sweep",
            "view=sweep&sweep=hidden1:16,64,256;epochs:1,3&hidden2=0",
            1280,
            1040,
            wait="6 runs",
        ).context.close()
        page = shoot("draw", "", 1280, 800)
        canvas = page.locator('[data-testid="stBidiComponentIsolated"] canvas.dc-canvas')
        seen = page.locator('img[alt="the prepared digit"]')
        before = None
        for (x0, y0), (x1, y1) in (((0.3, 0.2), (0.7, 0.2)), ((0.7, 0.2), (0.4, 0.85))):  # a 7
            canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
            box = canvas.bounding_box()  # again: the page moves when its answer appears
            page.mouse.move(box["x"] + box["width"] * x0, box["y"] + box["height"] * y0)
            page.mouse.down()
            page.mouse.move(box["x"] + box["width"] * x1, box["y"] + box["height"] * y1, steps=15)
            page.mouse.up()
            page.wait_for_function(  # the network's view of this stroke has arrived
                "before => { const img = document.querySelector('img[alt=\"the prepared digit\"]');"
                " return img && img.getAttribute('src') !== before; }",
                arg=before,
            )
            before = seen.get_attribute("src")
            settle(page)
        page.get_by_text("the network says").wait_for()
        settle(page)
        canvas.evaluate("c => c.scrollIntoView({block: 'center'})")
        page.screenshot(path=str(DOCS / "draw.png"))
        page.context.close()
        # The tutorial's first layer: its weights, and under each the digits that excite it.
        page = shoot("first-layer", "", 1280, 800)
        tab = page.get_by_role("tab", name="What the first layer learned")
        tab.click()
        page.locator(".weight-grid img.favourite").nth(15).wait_for()
        settle(page)
        tab.evaluate("t => t.scrollIntoView({block: 'start'})")  # just below the header bar
        page.locator('[data-testid="stMain"]').evaluate("main => main.scrollBy(0, -70)")
        page.screenshot(path=str(DOCS / "first-layer.png"))
        page.context.close()
        browser.close()
    print(f"Screenshots written to {DOCS}")


if __name__ == "__main__":
    main()
