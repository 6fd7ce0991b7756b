"""Rerun cost: the server's CPU time for one rerun of the result page, this code against a baseline.

What a class's burst of slider moves asks for (bench/class_load.py): the result page of a stored
run (`hidden1=64&hidden2=0&epochs=10&batch_size=16`, 10 epochs), and the untrained config one
slider step away (hidden 1 at 96: "Not trained yet"). Each case is an AppTest of app.py in its own
process (the page runs in that process, as on the server), against a temporary run store seeded
with a complete run of realistic size (random weights of the real shapes, bench/common.py):

- "result, same": the result page rerun as it is (a fragment timer or a click that changes
  nothing on it);
- "move away" / "move back": hidden layer 1 to 96 (untrained) and back to 64 (the result).

`--page compare`: the Compare view of 4 stored runs (3 against the first), rerun as it is (a
click elsewhere on it, a live part's timer). `--page sweep`: the Sweep view of a finished 3 × 3
sweep (hidden 1 at 16/32/64 × 1/2/3 epochs), rerun as it is.

For each rerun: CPU seconds of the process (user + system, all threads: what the server's one
interpreter pays) and wall seconds. The first runs warm the caches, as a server that has shown
the result once would be. This code and the baseline (`--baseline DIR`, or by default `git
archive` of `--baseline-ref` unpacked into the bench's temporary folder) alternate, `--rounds`
processes each, and the figures are given as ratios this / baseline. No TensorFlow is imported
on either side. Full MNIST needed (the data's fingerprint keys the run).

    python bench/rerun_cost.py --data-dir /path/to/mnist   # --baseline-ref main --rounds 3
    python bench/rerun_cost.py --data-dir /path/to/mnist --page compare   # or sweep
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

QUERY = {"hidden1": "64", "hidden2": "0", "epochs": "10", "batch_size": "16"}
WIDER = 96  # one step up the slider's ladder from 64: not trained
WARM = 3  # reruns of each kind before measuring

CHILD = r"""
import json, sys, time
from streamlit.testing.v1 import AppTest

app_path, repeats, warm, wider = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
query = json.loads(sys.argv[5])
at = AppTest.from_file(app_path, default_timeout=120)
for name, value in query.items():
    at.query_params[name] = value
at.run()

def shows_result():
    return not at.exception and any(m.label == "Test accuracy" for m in at.metric)

def untrained():
    return not at.exception and any("Not trained yet" in e.value for e in at.info)

def timed():
    cpu, wall = time.process_time(), time.perf_counter()
    at.run()
    return time.process_time() - cpu, time.perf_counter() - wall

if "view" in query:  # Compare or Sweep: the page rerun as it is
    figures = {query["view"] + ", same": []}
    for index in range(warm + repeats):
        same = timed()
        if index >= warm:
            figures[query["view"] + ", same"].append(same)
    ok = not at.exception and len(at.get("vega_lite_chart")) > 1
    print(json.dumps({"figures": figures, "ok": bool(ok),
                      "tensorflow_imported": "tensorflow" in sys.modules}))
    sys.exit(0)

assert shows_result(), "the stored run is not shown"
figures = {"result, same": [], "move away": [], "move back": []}
ok = True
for index in range(warm + repeats):
    same = timed()
    ok &= shows_result()
    at.select_slider(key="hidden1").set_value(wider)
    away = timed()
    ok &= untrained()
    at.select_slider(key="hidden1").set_value(int(query["hidden1"]))
    back = timed()
    ok &= shows_result()
    if index >= warm:
        for name, value in zip(figures, (same, away, back)):
            figures[name].append(value)
print(json.dumps({"figures": figures, "ok": bool(ok),
                  "tensorflow_imported": "tensorflow" in sys.modules}))
"""


def baseline_checkout(ref: str, folder: Path) -> Path:
    """`git archive REF` unpacked into `folder` (the checkout itself is left alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "archive", ref], cwd=common.ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def with_model_file(home: str, run_id: str) -> None:
    """A `.keras` file of a trained run's size (its weights and one optimizer slot, random bytes)
    beside the seeded run, so the page's download builds a zip of realistic size, as for a run
    trained by the page."""
    from explorer.store.registry import MODEL_FILE, RunStore

    store = RunStore(home)
    try:
        folder = store.runs_dir / run_id
    finally:
        store.close()
    size = 2 * (folder / "weights.npz").stat().st_size
    (folder / MODEL_FILE).write_bytes(os.urandom(size))


def seeded_page(page: str, home: str, data) -> dict:
    """Store the runs `page` shows; returns its link's query."""
    from explorer.config import TrainingConfig

    if page == "explore":
        for run_id in common.seed_store(home, data, [TrainingConfig.from_mapping(QUERY)]):
            with_model_file(home, run_id)
        return QUERY
    if page == "compare":
        configs = [
            TrainingConfig(hidden1=width, hidden2=0, epochs=10) for width in (64, 128, 256, 400)
        ]
        run_ids = common.seed_store(home, data, configs)
        return {"view": "compare", "runs": ",".join(run_ids), "baseline": run_ids[0]}
    base = TrainingConfig(hidden2=0)
    widths, epochs = (16, 32, 64), (1, 2, 3)
    cells = [base.replace(hidden1=width, epochs=count) for width in widths for count in epochs]
    common.seed_store(home, data, cells)
    return {"view": "sweep", "sweep": "hidden1:16,32,64;epochs:1,2,3", "hidden2": "0"}


def measure(code: Path, env: dict, repeats: int, query: dict) -> dict:
    """One AppTest process on the page of the checkout `code`."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            str(code / "app.py"),
            str(repeats),
            str(WARM),
            str(WIDER),
            json.dumps(query),
        ],
        cwd=code,  # its .streamlit/config.toml
        env={**env, "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--baseline", help="a checkout of the code to compare with")
    parser.add_argument("--baseline-ref", default="main", help="else git archive of this (main)")
    parser.add_argument("--rounds", type=int, default=3, help="processes per side (3)")
    parser.add_argument("--repeat", type=int, default=10, help="measured reruns per process")
    parser.add_argument(
        "--page", choices=("explore", "compare", "sweep"), default="explore", help="(explore)"
    )
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("rerun_cost")

    from explorer.data.sources import load_mnist

    with common.temporary_home("rerun-cost") as home, tempfile.TemporaryDirectory() as scratch:
        if arguments.baseline:
            baseline = Path(arguments.baseline).resolve()
        else:
            baseline = baseline_checkout(arguments.baseline_ref, Path(scratch) / "baseline")
        query = seeded_page(arguments.page, home, load_mnist(data_dir))
        env = common.bench_env(home, data_dir)
        sides = {"this": common.ROOT, "baseline": baseline}
        reports: dict[str, list[dict]] = {side: [] for side in sides}
        for round_number in range(arguments.rounds):
            for side, code in sides.items():  # alternated: a load change hits both sides
                reports[side].append(measure(code, env, arguments.repeat, query))
                print(f"round {round_number + 1} {side} done", flush=True)
    report(arguments, reports, query)


def report(arguments, reports: dict[str, list[dict]], query: dict) -> None:
    cases = list(reports["this"][0]["figures"])
    rows, table = [], {}
    for case in cases:
        pooled = {
            side: [value for run in runs for value in run["figures"][case]]
            for side, runs in reports.items()
        }
        medians = {
            side: (
                statistics.median(cpu for cpu, _ in values),
                statistics.median(wall for _, wall in values),
            )
            for side, values in pooled.items()
        }
        (this_cpu, this_wall), (base_cpu, base_wall) = medians["this"], medians["baseline"]
        table[case] = {"this": medians["this"], "baseline": medians["baseline"]}
        rows.append(
            [
                case,
                len(pooled["this"]),
                base_cpu,
                this_cpu,
                this_cpu / base_cpu,
                base_wall,
                this_wall,
                this_wall / base_wall,
            ]
        )
    headers = [
        "rerun (median)",
        "n",
        "CPU-s base",
        "CPU-s this",
        "CPU ratio",
        "wall base",
        "wall this",
        "wall ratio",
    ]
    common.print_table(headers, rows)
    ok = all(run["ok"] for runs in reports.values() for run in runs)
    tensorflow = any(run["tensorflow_imported"] for runs in reports.values() for run in runs)
    print(f"\nevery rerun showed what it should: {ok}; TensorFlow imported: {tensorflow}")
    common.write_results(
        "rerun_cost" if arguments.page == "explore" else f"rerun_cost_{arguments.page}",
        {
            "page": arguments.page,
            "query": query,
            "wider": WIDER,
            "rounds": arguments.rounds,
            "repeat": arguments.repeat,
            "baseline": arguments.baseline or arguments.baseline_ref,
            "medians_cpu_wall": table,
            "all_ok": ok,
            "tensorflow_imported": tensorflow,
            "runs": reports,
        },
    )


if __name__ == "__main__":
    main()
