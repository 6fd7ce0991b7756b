"""Memory: peak RSS of the server through a lesson's steps, with 20 runs already stored.

Seeds a temporary EXPLORER_HOME with 20 complete runs of different configs (the tutorial's among
them) made with testkit.fakes.fake_result under the full-MNIST fingerprint, with artifacts of real
size (random weights of each config's layer shapes). Starts `streamlit run app.py` (full MNIST via
EXPLORER_DATA_DIR) and, in Chromium:

1. opens the page (waits for "Parameters to learn" and the data caption);
2. trains a real small config from a link (`hidden1=64&hidden2=0&epochs=1`, Train, "Test
   accuracy"): TensorFlow gets loaded into the server;
3. opens the compare view with 4 runs (the tutorial as baseline, the new run, two seeded ones)
   and waits for the config diff and the rows of digits.

After each step it reads VmHWM (peak RSS) and VmRSS from /proc/<pid>/status of the server and of
any child processes (a sampler thread also keeps the largest sum seen every 0.1 s). Baseline in
the same run: a one-line Streamlit app served and opened the same way. Target: peak < 1.5 GB
(1.5e9 bytes = 1430 MiB). Figures come from a 2-core machine that may be shared.

    python bench/memory.py --data-dir /path/to/mnist    # or EXPLORER_DATA_DIR=...
"""

from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

TARGET_MIB = 1.5e9 / 2**20  # 1.5 GB (decimal) = 1430.5 MiB
TRAIN_QUERY = "hidden1=64&hidden2=0&epochs=1"
RUN_ID = re.compile(r"run ([0-9a-f]{16})")
TRIVIAL_APP = (
    'import streamlit as st\nst.title("Baseline")\nst.write("hello from a one-line app")\n'
)


def seeded_configs() -> list:
    from explorer.config import TrainingConfig

    configs = [TrainingConfig()]
    for hidden1 in (16, 32, 128, 256, 512, 1024):
        for hidden2, optimizer in ((0, "sgd"), (20, "adam"), (64, "rmsprop")):
            configs.append(TrainingConfig(hidden1=hidden1, hidden2=hidden2, optimizer=optimizer))
    configs.append(TrainingConfig(epochs=10, batch_size=32))
    return configs[:20]


class Sampler(threading.Thread):
    """Largest RSS (server + children) seen, every 0.1 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mib, self.done = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.peak_mib = max(self.peak_mib, rss(self.pid)["rss_mib"])
            except OSError:
                return
            time.sleep(0.1)


def rss(pid: int) -> dict:
    """VmRSS and VmHWM of the process and its descendants, in MiB."""
    pids = [pid, *common.descendants(pid)]
    return {
        "rss_mib": sum(common.proc_status_kib(p, "VmRSS") for p in pids) / 1024,
        "peak_mib": sum(common.proc_status_kib(p, "VmHWM") for p in pids) / 1024,
        "processes": len(pids),
        "tensorflow_loaded": common.tensorflow_mapped(pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)

    from playwright.sync_api import sync_playwright

    from explorer.data.sources import load_mnist

    steps: dict[str, dict] = {}
    with common.temporary_home("memory") as home, sync_playwright() as playwright:
        env = common.bench_env(home, data_dir)
        configs = seeded_configs()
        run_ids = common.seed_store(home, load_mnist(data_dir), configs)
        trivial = Path(home) / "baseline_app.py"
        trivial.write_text(TRIVIAL_APP)
        browser = common.launch_chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
            page.set_default_timeout(180_000)
            with common.StreamlitServer(env, Path(home) / "baseline.log", app=trivial) as server:
                page.goto(server.url)
                page.get_by_text("hello from a one-line app").wait_for()
                steps["baseline: one-line app, page open"] = rss(server.pid)
            with common.StreamlitServer(env, Path(home) / "server.log") as server:
                sampler = Sampler(server.pid)
                sampler.start()
                steps["server ready"] = rss(server.pid)
                page.goto(server.url)
                page.get_by_text("Parameters to learn").wait_for()
                page.get_by_text("Data: Full MNIST").wait_for()
                steps["page loaded (20 runs stored)"] = rss(server.pid)

                page.goto(f"{server.url}/?{TRAIN_QUERY}")
                page.get_by_role("button", name="Train", exact=True).click()
                page.get_by_text("Test accuracy").wait_for()
                page.locator(".digit-cell").nth(19).wait_for()
                caption = page.get_by_text(RUN_ID).first.inner_text()
                trained = RUN_ID.search(caption).group(1)
                steps["trained hidden1=64 hidden2=0 epochs=1"] = rss(server.pid)

                compared = [trained, run_ids[1], run_ids[5]]
                page.goto(
                    f"{server.url}/?view=compare&runs={','.join(compared)}&baseline={run_ids[0]}"
                )
                page.get_by_text("What differs").wait_for()
                page.locator(".digit-rows").wait_for()
                time.sleep(1)  # let the charts' data go out
                steps["compare view, 4 runs"] = rss(server.pid)
                sampler.done.set()
                sampler.join()
        finally:
            browser.close()

    baseline = steps.pop("baseline: one-line app, page open")
    peak = max(step["peak_mib"] for step in steps.values())
    rows = [
        ["baseline: one-line app, page open", baseline["rss_mib"], baseline["peak_mib"], "", ""]
    ]
    for name, step in steps.items():
        ratio = f"{step['peak_mib'] / baseline['peak_mib']:.1f}x"
        rows.append([name, step["rss_mib"], step["peak_mib"], step["tensorflow_loaded"], ratio])
    common.print_table(["step", "RSS MiB", "peak RSS MiB", "TF loaded", "peak vs baseline"], rows)
    print(
        f"\npeak RSS {peak:.0f} MiB = {peak * 2**20 / 1e9:.2f} GB (sampled max "
        f"{sampler.peak_mib:.0f} MiB); target < 1.5 GB ({TARGET_MIB:.0f} MiB): "
        f"{'met' if peak < TARGET_MIB else 'NOT met'}; "
        f"processes: {max(s['processes'] for s in steps.values())}"
    )
    common.write_results(
        "memory",
        {
            "target_mib": TARGET_MIB,
            "peak_mib": peak,
            "peak_gb": peak * 2**20 / 1e9,
            "sampled_peak_mib": sampler.peak_mib,
            "met": peak < TARGET_MIB,
            "baseline_trivial_app": baseline,
            "steps": steps,
            "seeded_configs": [config.label() for config in configs],
        },
    )


if __name__ == "__main__":
    main()
