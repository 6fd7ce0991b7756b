"""The class view's server time: the runs' frame and the charts' specs over 100 to 5,000 runs.

    python bench/class_view.py [--runs 100,1000,5000] [--repeats 5]

Needs no MNIST: the runs are stored records made in memory (their settings drawn as
testkit.classroom.store_runs draws them). For each size it measures, as the page does them after
the store changed (nothing cached):

- `frame`: `runs_frame` over the records (settings, parameter counts, both Pareto fronts);
- `scatter` and `parallel`: building each Altair chart and turning it into its Vega-Lite spec
  (what `resources.chart_spec` caches until the store changes), and the specs' size in bytes;
- `brush`: the table's runs for a brush on the scatter and one on the parallel coordinates
  (this runs on every rerun, cached spec or not);
- `total`: all of the above, the first view after a change. A rerun without a change costs only
  `brush` plus drawing the cached specs.

Target (issue 23): total under 0.5 s at 1,000 runs.
"""

from __future__ import annotations

import argparse
import json
import time

import common


def records(count: int, seed: int = 0) -> list:
    """`count` complete run records of different small configurations, as a store lists them."""
    import numpy as np

    from explorer.config import TrainingConfig
    from explorer.store.records import RunRecord

    rng = np.random.default_rng(seed)
    seen: dict = {}
    while len(seen) < count:
        config = TrainingConfig(
            hidden1=int(rng.integers(8, 1025)),
            hidden2=int(rng.choice((0, 8, 16, 32, 64))),
            batch_size=int(rng.choice((32, 64, 128, 256))),
            epochs=int(rng.integers(1, 11)),
            optimizer=str(rng.choice(("sgd", "adam", "rmsprop"))),
            learning_rate=float(rng.choice((1e-3, 3e-3, 1e-2, 3e-2, 0.1))),
            activation=str(rng.choice(("relu", "tanh", "sigmoid"))),
            seed=int(rng.integers(0, 5)),
        )
        seen.setdefault(config, float(rng.uniform(0.85, 0.98)))
    return [
        RunRecord(
            run_id=f"{index:016x}",
            cache_key=f"{index:064x}",
            config=config,
            data_source="data-dir",
            status="complete",
            created_at=float(index),
            summary={"test_accuracy": accuracy, "train_seconds": 2.0 + config.epochs},
        )
        for index, (config, accuracy) in enumerate(seen.items())
    ]


def measure(runs: list) -> dict[str, float]:
    from explorer.views import classview

    timings = {}
    start = time.perf_counter()
    frame = classview.runs_frame(runs)
    timings["frame"] = time.perf_counter() - start
    step = time.perf_counter()
    scatter = classview.scatter_chart(frame, "parameters", "optimizer").to_dict()
    timings["scatter"] = time.perf_counter() - step
    step = time.perf_counter()
    axes = classview.parallel_axes(frame)
    parallel = classview.parallel_chart(frame, axes).to_dict()
    timings["parallel"] = time.perf_counter() - step
    step = time.perf_counter()
    low, high = frame["parameters"].quantile([0.2, 0.8])
    chosen = classview.scatter_brushed(
        frame, "parameters", {"parameters": [low, high], "accuracy_percent": [88, 99]}
    )
    chosen = classview.brushed_runs(
        chosen, axes, {"axis_index": [len(axes) - 1.2, len(axes) - 0.8], "position": [0.5, 1]}
    )
    classview.table_frame(chosen)
    timings["brush"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - start
    timings["scatter_bytes"] = len(json.dumps(scatter))
    timings["parallel_bytes"] = len(json.dumps(parallel))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", default="100,1000,5000")
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    common.announce("class_view")
    measure(records(20))  # imports and Altair's schema loaded before timing
    rows, results = [], {}
    for count in [int(text) for text in arguments.runs.split(",")]:
        runs = records(count)
        samples = [measure(runs) for _ in range(arguments.repeats)]
        medians = {
            name: common.summary([sample[name] for sample in samples])["median"]
            for name in samples[0]
        }
        results[count] = {"median": medians, "samples": samples}
        rows.append(
            [
                count,
                *(medians[name] for name in ("frame", "scatter", "parallel", "brush", "total")),
                f"{medians['scatter_bytes'] / 1e3:.0f} kB",
                f"{medians['parallel_bytes'] / 1e3:.0f} kB",
            ]
        )
    common.print_table(
        ["runs", "frame s", "scatter s", "parallel s", "brush s", "total s", "scatter", "parallel"],
        rows,
    )
    common.write_results("class_view", {"repeats": arguments.repeats, "sizes": results})


if __name__ == "__main__":
    main()
