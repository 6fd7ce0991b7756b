"""First paint: from the server being ready to the page's controls and parameter count on screen.

Each repetition starts a fresh `streamlit run app.py` (full MNIST through EXPLORER_DATA_DIR, a new
empty EXPLORER_HOME), waits until /_stcore/health answers ("ready"), then opens the page in a new
Chromium context and records, in the page (a requestAnimationFrame poll, so each mark is the frame
in which it first showed), when these became visible:

- controls: the "Neurons in hidden layer 1" slider in the bar of controls at the top (the
  container keyed "controls"; the slider's aria-label group);
- network: the line "784 → 400 → 20 → 10" above the parameter table;
- table: the parameter table (an HTML table with one row per layer);
- parameters: "Parameters to learn" with "322,230" (drawn before the data loads): first paint;
- data: the caption "Data: Full MNIST ...".

After the marks it reads /proc/<server pid>/maps: TensorFlow's libraries (_pywrap_tensorflow,
libtensorflow) must not be mapped, i.e. not imported, at first paint. Baseline, in the same run
and the same repetition: a one-line Streamlit app served and painted the same way. Target: first
paint ("parameters") at most 1.5 x the one-line app's, per repetition. Figures come from a 2-core
machine that may be shared (the load average at the start is printed).

    python bench/first_paint.py --data-dir /path/to/mnist    # or EXPLORER_DATA_DIR=... ; --repeat 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

TARGET_RATIO = 1.5  # first paint / the one-line app's, same repetition
MARKS = ("controls", "network", "table", "parameters", "data")

# Marks (epoch milliseconds) of the first frame in which each condition held.
MARK_SCRIPT = """
window.__marks = {};
(() => {
  const visible = (el) => !!el && el.getBoundingClientRect().height > 0;
  const text = () => (document.body ? document.body.innerText : "");
  const checks = {
    controls: () => visible(document.querySelector(
      '.st-key-controls [role="group"][aria-label="Neurons in hidden layer 1"]')),
    network: () => text().includes("784 → 400 → 20 → 10"),
    table: () => visible(document.querySelector('table.parameter-table tr[data-parameters]')),
    parameters: () => text().includes("Parameters to learn") && text().includes("322,230"),
    data: () => text().includes("Data: Full MNIST"),
    baseline: () => text().includes("hello from a one-line app"),
  };
  const poll = () => {
    for (const [name, check] of Object.entries(checks)) {
      if (!(name in window.__marks) && check()) {
        window.__marks[name] = performance.timeOrigin + performance.now();
      }
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})();
"""

TRIVIAL_APP = (
    'import streamlit as st\nst.title("Baseline")\nst.write("hello from a one-line app")\n'
)


def paint(context, server: common.StreamlitServer, wanted: tuple[str, ...]) -> dict:
    """Open the page in a new tab; seconds after ready for each mark, and the TensorFlow check."""
    page = context.new_page()
    try:
        page.add_init_script(MARK_SCRIPT)
        page.set_default_timeout(60_000)
        opened = time.time()
        page.goto(server.url, wait_until="commit")
        page.wait_for_function(
            f"() => window.__marks && {list(wanted)!r}.every((name) => name in window.__marks)",
            polling=50,
        )
        tensorflow = common.tensorflow_mapped(server.pid)
        marks = page.evaluate("window.__marks")
        rss_mib = common.proc_status_kib(server.pid, "VmRSS") / 1024
    finally:
        page.close()
    return {
        "server_start_to_ready": server.ready_at - server.started_at,
        "after_ready": {name: marks[name] / 1000 - server.ready_at for name in wanted},
        "after_goto": {name: marks[name] / 1000 - opened for name in wanted},
        "tensorflow_mapped_at_first_paint": tensorflow,
        "server_rss_mib_at_first_paint": rss_mib,
    }


def paint_fresh(browser, server: common.StreamlitServer, wanted: tuple[str, ...]) -> list[dict]:
    """A first visit (new browser context: empty HTTP cache), then a second visit in it."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    try:
        return [paint(context, server, wanted), paint(context, server, wanted)]
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--repeat", type=int, default=5, help="fresh servers per app (5)")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("first_paint")

    from playwright.sync_api import sync_playwright

    app_runs, baseline_runs, second_visits = [], [], []
    with sync_playwright() as playwright:
        browser = common.launch_chromium(playwright)
        try:
            for index in range(arguments.repeat):
                with common.temporary_home("first-paint") as home:
                    env = common.bench_env(home, data_dir)
                    trivial = Path(home) / "baseline_app.py"
                    trivial.write_text(TRIVIAL_APP)
                    order = ("baseline", "app") if index % 2 == 0 else ("app", "baseline")
                    for which in order:  # alternate which goes first
                        if which == "baseline":
                            log = Path(home) / "baseline.log"
                            with common.StreamlitServer(env, log, app=trivial) as server:
                                baseline_runs.append(paint_fresh(browser, server, ("baseline",))[0])
                        else:
                            with common.StreamlitServer(env, Path(home) / "server.log") as server:
                                first, second = paint_fresh(browser, server, MARKS)
                                app_runs.append(first)
                                second_visits.append(second)
                print(
                    f"repetition {index + 1}: {app_runs[-1]['after_ready']}; one-line app "
                    f"{baseline_runs[-1]['after_ready']['baseline']:.3f} s",
                    flush=True,
                )
        finally:
            browser.close()

    def figures(runs: list[dict], name: str) -> list[float]:
        return [run["after_ready"][name] for run in runs]

    baseline = figures(baseline_runs, "baseline")
    base_median = statistics.median(baseline)
    rows = [["baseline: one-line app text", base_median, max(baseline), "1.00x", "", ""]]
    for name in MARKS:
        values = figures(app_runs, name)
        ratios = [value / base for value, base in zip(values, baseline, strict=True)]
        first_paint = name == "parameters"
        rows.append(
            [
                name + (" (first paint)" if first_paint else ""),
                statistics.median(values),
                max(values),
                f"{statistics.median(ratios):.2f}x",
                f"{max(ratios):.2f}x",
                (max(ratios) <= TARGET_RATIO) if first_paint else "",
            ]
        )
    revisit = [run["after_goto"]["parameters"] for run in second_visits]
    median, worst = statistics.median(revisit), max(revisit)
    rows.append(["(second visit, HTTP cache warm, after goto)", median, worst, "", "", ""])
    ready = [run["server_start_to_ready"] for run in app_runs]
    rows.append(["(server launch to ready)", statistics.median(ready), max(ready), "", "", ""])
    headers = [
        "seconds after ready",
        "median",
        "max",
        "vs baseline (median)",
        "vs baseline (max)",
        f"<= {TARGET_RATIO}x",
    ]
    common.print_table(headers, rows)
    tensorflow = [run["tensorflow_mapped_at_first_paint"] for run in app_runs]
    print(f"\nTensorFlow mapped into the server at first paint: {tensorflow} (must be False)")
    first_paint = [
        run["after_ready"]["parameters"] / base["after_ready"]["baseline"]
        for run, base in zip(app_runs, baseline_runs, strict=True)
    ]
    print(
        "first paint / one-line app, per repetition: "
        + ", ".join(f"{ratio:.2f}" for ratio in first_paint)
        + f" (target <= {TARGET_RATIO}: {'met' if max(first_paint) <= TARGET_RATIO else 'NOT met'})"
    )
    common.write_results(
        "first_paint",
        {
            "repeat": arguments.repeat,
            "target_ratio": TARGET_RATIO,
            "table": [dict(zip(headers, row, strict=True)) for row in rows],
            "tensorflow_mapped_at_first_paint": any(tensorflow),
            "runs": app_runs,
            "baseline_runs": baseline_runs,
            "second_visits": second_visits,
        },
    )


if __name__ == "__main__":
    main()
