"""Cache hit: how long from asking for a stored configuration to having its result.

Measures, against a temporary run store seeded with complete runs of the tutorial's config and of
`hidden2=0` (testkit.fakes.fake_result under the real full-MNIST fingerprint, real-size files):

- service, fresh process: `python -c` that imports explorer, makes the service, calls
  `service.submit(config)` (must say cached=True) and `service.predictions(run_id)` (what the
  result view reads: each test digit's answer and probabilities); timed from the parent's launch
  of the interpreter (so imports and the data load count). Also whether TensorFlow got imported
  (must not be).
- service, warm process: the same calls again in that process, median of 20.
- page: AppTest.from_file(app.py) in a fresh process, first `at.run()` (fresh) and then reruns
  (warm): the same config, switching between the two stored configs with a slider, a second
  AppTest session in the same process (a new student on a warm server), and, after a tiny
  training in that process (as on a server that has trained once: Keras loaded), reruns again.
- CLI: `python -m explorer train --json` on the stored config, wall time of the whole process.

Baselines in the same run: a `python -c` that only prints (interpreter start) for fresh
processes, and an AppTest of a one-line Streamlit script for the page. Targets: < 0.3 s warm,
< 1 s fresh, no TensorFlow import on a hit. Figures come from a 2-core machine that may be shared.

    python bench/cache_hit.py --data-dir /path/to/mnist      # or EXPLORER_DATA_DIR=... ; --repeat N
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

WARM_REPEATS = 20
HEADERS = ["case", "process", "median_s", "target", "met", "vs_baseline"]

SERVICE_CHILD = r"""
import json, os, sys, time
t0 = time.perf_counter()
from explorer.config import TrainingConfig
from explorer.service.service import create_service
imported = time.perf_counter()
service = create_service(os.environ["EXPLORER_DATA_DIR"])
data = service.data
loaded = time.perf_counter()
config = TrainingConfig()
submission = service.submit(config)
predictions = service.predictions(submission.run_id)
hit_wall, hit = time.time(), time.perf_counter()
warm, submit_only, lookup_only, predictions_only, weights_only = [], [], [], [], []
for _ in range(int(sys.argv[1])):
    s = time.perf_counter(); again = service.submit(config)
    service.predictions(again.run_id); warm.append(time.perf_counter() - s)
    s = time.perf_counter(); service.submit(config); submit_only.append(time.perf_counter() - s)
    s = time.perf_counter(); service.lookup(config); lookup_only.append(time.perf_counter() - s)
    s = time.perf_counter(); service.predictions(again.run_id)
    predictions_only.append(time.perf_counter() - s)
    s = time.perf_counter(); service.weights(again.run_id)
    weights_only.append(time.perf_counter() - s)
print(json.dumps({
    "cached": submission.cached and again.cached, "hit_wall": hit_wall,
    "imports": imported - t0, "data_load": loaded - imported,
    "submit_and_predictions": hit - loaded,
    "warm": warm, "warm_submit_only": submit_only, "warm_lookup_only": lookup_only,
    "warm_predictions_only": predictions_only, "warm_weights_only": weights_only,
    "tensorflow_imported": "tensorflow" in sys.modules,
}))
"""

PAGE_CHILD = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
app_path, repeats = sys.argv[1], int(sys.argv[2])
def has_result(at):
    return not at.exception and any(m.label == "Test accuracy" for m in at.metric)
at = AppTest.from_file(app_path, default_timeout=120)
s = time.perf_counter(); at.run(); first = time.perf_counter() - s; hit_wall = time.time()
ok = has_result(at) and any("cached" in e.value for e in at.markdown)
same, switch = [], []
for _ in range(repeats):
    s = time.perf_counter(); at.run(); same.append(time.perf_counter() - s); ok &= has_result(at)
for index in range(repeats):
    at.select_slider(key="hidden2").set_value(0 if index % 2 == 0 else 20)
    s = time.perf_counter(); at.run(); switch.append(time.perf_counter() - s)
    ok &= has_result(at)
second = AppTest.from_file(app_path, default_timeout=120)
s = time.perf_counter(); second.run(); new_session = time.perf_counter() - s
ok &= has_result(second)
tensorflow = "tensorflow" in sys.modules
# A server that has trained once has Keras loaded; Streamlit then calls
# keras.backend.clear_session() after every script run. Train a tiny net here, rerun again.
from explorer.config import TrainingConfig
from explorer.data.sources import load_mnist
from explorer.training.loop import train
train(TrainingConfig(hidden1=8, hidden2=0, epochs=1, train_fraction=0.01), load_mnist())
after_training = []
for _ in range(repeats):
    s = time.perf_counter(); at.run(); after_training.append(time.perf_counter() - s)
    ok &= has_result(at)
print(json.dumps({
    "first_run": first, "hit_wall": hit_wall, "rerun_same": same, "rerun_switch": switch,
    "new_session": new_session, "all_showed_result": bool(ok),
    "tensorflow_imported": tensorflow, "rerun_after_training": after_training,
}))
"""

CLI_CHILD = r"""
import atexit, json, runpy, sys
atexit.register(lambda: print(json.dumps({"tensorflow_imported": "tensorflow" in sys.modules}),
                              file=sys.stderr))
sys.argv = ["explorer", "train", "--json", "--data-dir", sys.argv[1]]
runpy.run_module("explorer", run_name="__main__", alter_sys=True)
"""

BASELINE_PAGE_CHILD = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=60)
s = time.perf_counter(); at.run(); first = time.perf_counter() - s
rerun = []
for _ in range(int(sys.argv[2])):
    s = time.perf_counter(); at.run(); rerun.append(time.perf_counter() - s)
print(json.dumps({"first_run": first, "rerun": rerun}))
"""

TRIVIAL_APP = 'import streamlit as st\nst.title("baseline")\nst.write("hello")\n'


def run_child(code: str, args: list[str], env: dict) -> tuple[float, dict, str]:
    """Run `python -c code args`; returns (launch wall time, last JSON line of stdout, stderr)."""
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return launched, json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per case (3)")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("cache_hit")

    from explorer.config import TrainingConfig
    from explorer.data.sources import load_mnist

    with common.temporary_home("cache-hit") as home:
        env = common.bench_env(home, data_dir)
        data = load_mnist(data_dir)
        common.seed_store(home, data, [TrainingConfig(), TrainingConfig(hidden2=0)])
        trivial = Path(home) / "trivial_app.py"
        trivial.write_text(TRIVIAL_APP)

        fresh: dict[str, list[float]] = {k: [] for k in ("python", "service", "page", "cli")}
        page_first, trivial_first, trivial_warm = [], [], []
        services, pages, tf_flags, cli_cached = [], [], {}, []
        for _ in range(arguments.repeat):
            launched, _report, _ = run_child("import json; print(json.dumps({}))", [], env)
            fresh["python"].append(time.time() - launched)
            launched, service_report, _ = run_child(SERVICE_CHILD, [str(WARM_REPEATS)], env)
            fresh["service"].append(service_report["hit_wall"] - launched)
            services.append(service_report)
            launched, page_report, _ = run_child(PAGE_CHILD, [str(common.APP), "10"], env)
            fresh["page"].append(page_report["hit_wall"] - launched)
            page_first.append(page_report["first_run"])
            pages.append(page_report)
            _, baseline, _ = run_child(BASELINE_PAGE_CHILD, [str(trivial), "10"], env)
            trivial_first.append(baseline["first_run"])
            trivial_warm += baseline["rerun"]
            launched = time.time()
            done = subprocess.run(
                [sys.executable, "-c", CLI_CHILD, data_dir],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                cwd=common.ROOT,
            )
            fresh["cli"].append(time.time() - launched)
            if done.returncode != 0:
                raise RuntimeError(f"CLI failed:\n{done.stderr[-3000:]}")
            cli_cached.append(json.loads(done.stdout)["cached"])
            tf_flags["cli"] = (
                tf_flags.get("cli", False)
                or json.loads(done.stderr.strip().splitlines()[-1])["tensorflow_imported"]
            )
        tf_flags["service"] = any(r["tensorflow_imported"] for r in services)
        tf_flags["page"] = any(r["tensorflow_imported"] for r in pages)

    def pooled(reports: list[dict], key: str) -> list[float]:
        return [value for report in reports for value in report[key]]

    med = statistics.median
    python_start = med(fresh["python"])
    trivial_first_base = ("trivial first run", med(trivial_first))
    trivial_rerun = ("trivial rerun", med(trivial_warm))
    rows = []

    def row(case: str, process: str, values, target: float | None = None, base=None) -> None:
        value = med(values)
        ratio = f"{value / base[1]:.1f}x {base[0]}" if base else ""
        met = "" if target is None else value < target
        rows.append([case, process, value, "" if target is None else f"< {target} s", met, ratio])

    start = ("python start", python_start)
    row("baseline: python -c (interpreter start)", "fresh", fresh["python"])
    row("service submit+predictions", "fresh", fresh["service"], 1.0, start)
    row("  of which imports", "fresh", [r["imports"] for r in services])
    row("  of which data load (full MNIST)", "fresh", [r["data_load"] for r in services])
    row("  of which submit+predictions", "fresh", [r["submit_and_predictions"] for r in services])
    row("service submit+predictions", "warm", pooled(services, "warm"), 0.3)
    row("  submit only (checks the files exist)", "warm", pooled(services, "warm_submit_only"))
    row("  lookup only (SQLite)", "warm", pooled(services, "warm_lookup_only"))
    row("  predictions only", "warm", pooled(services, "warm_predictions_only"))
    row("  weights only (network view)", "warm", pooled(services, "warm_weights_only"))
    row("baseline: AppTest trivial script, first run", "fresh", trivial_first)
    row("page AppTest first run (at.run)", "fresh", page_first, 1.0, trivial_first_base)
    row("page, interpreter start to result", "fresh", fresh["page"], None, start)
    row("baseline: AppTest trivial script, rerun", "warm", trivial_warm)
    row("page rerun, same config", "warm", pooled(pages, "rerun_same"), 0.3, trivial_rerun)
    row(
        "page rerun, other stored config (slider)",
        "warm",
        pooled(pages, "rerun_switch"),
        0.3,
        trivial_rerun,
    )
    row("page, new AppTest session, warm process", "warm", [r["new_session"] for r in pages], 0.3)
    row(
        "page rerun, same config, TF loaded (trained once)",
        "warm",
        pooled(pages, "rerun_after_training"),
        0.3,
        trivial_rerun,
    )
    row("CLI train --json (whole process)", "fresh", fresh["cli"], 1.0, start)
    common.print_table(HEADERS, rows)
    print(f"\nTensorFlow imported on a hit: {tf_flags} (must all be False)")
    print(
        f"every hit cached=True: service {all(r['cached'] for r in services)}, "
        f"CLI {all(cli_cached)}; page showed the stored result: "
        f"{all(r['all_showed_result'] for r in pages)}"
    )
    common.write_results(
        "cache_hit",
        {
            "repeat": arguments.repeat,
            "warm_repeats": WARM_REPEATS,
            "table": [dict(zip(HEADERS, line, strict=True)) for line in rows],
            "tensorflow_imported": tf_flags,
            "fresh_seconds": fresh,
            "service_reports": services,
            "page_reports": pages,
            "baseline_trivial_app": {"first": trivial_first, "rerun": trivial_warm},
            "cli_cached": cli_cached,
        },
    )


if __name__ == "__main__":
    main()
