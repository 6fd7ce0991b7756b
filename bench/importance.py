"""What mattered, over 1,000 stored runs: Optuna's importances and the halves' scores.

    python bench/importance.py --data-dir FOLDER [--runs 1000] [--repeats 5]

Measures, on a store of `--runs` complete runs on full MNIST (made with realistic files, as
bench/common.seed_store does, and an accuracy that depends on the first layer and the seed):

- `setting_importance` alone on those runs (the computation: Optuna's PED-ANOVA evaluator);
- `classroom.importance("mnist")` from the store: the first call after a change (read the rows,
  compute) and a repeated one (the cached result under the store's change stamp);
- `classroom.half_scores` for every run: the first time (each run's predictions read once, as for
  runs stored before the halves existed) and after (the scores kept in the store).

Target (issue 23): importance over 1,000 runs under 1 s.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import time

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("importance")

    import numpy as np

    from explorer.config import TrainingConfig
    from explorer.data.sources import load_mnist
    from explorer.service.classroom import classroom_of
    from explorer.service.importance import setting_importance
    from explorer.service.service import TrainingService
    from explorer.store.registry import RunStore, new_instance_id

    data = load_mnist(data_dir)
    rng = np.random.default_rng(0)
    configs = []
    seen = set()
    while len(configs) < arguments.runs:
        config = TrainingConfig(
            hidden1=int(rng.choice([16, 32, 64, 128, 256])),
            hidden2=int(rng.choice([0, 20, 64])),
            batch_size=int(rng.choice([32, 64, 128, 200, 512])),
            epochs=int(rng.integers(1, 11)),
            optimizer=str(rng.choice(["sgd", "adam", "rmsprop"])),
            activation=str(rng.choice(["relu", "tanh", "sigmoid"])),
            seed=int(rng.integers(0, 5)),
        )
        if config not in seen:
            seen.add(config)
            configs.append(config)

    def accuracy(config) -> float:
        return 0.85 + 0.015 * math.log2(config.hidden1 / 16) + 0.003 * (config.seed - 2)

    with common.temporary_home("importance") as home:
        started = time.perf_counter()
        store = RunStore(home)
        owner = new_instance_id()
        store.register_instance(owner)
        for index, config in enumerate(configs):
            run_id, _ = store.claim(
                config, config.cache_key(data.fingerprint), data.source, owner=owner
            )
            store.mark_running(run_id)
            result = common.realistic_result(config, data, seed=index)
            store.finish(run_id, dataclasses.replace(result, test_accuracy=accuracy(config)))
        seeding = time.perf_counter() - started
        print(f"stored {len(configs)} runs in {seeding:.0f} s")

        service = TrainingService(RunStore(home), lambda: data)
        classroom = classroom_of(service)
        records = service.runs(("complete",))
        pairs = [(record.config, record.summary["test_accuracy"]) for record in records]

        def timed(call) -> list[float]:
            times = []
            for _ in range(arguments.repeats):
                begin = time.perf_counter()
                call()
                times.append(time.perf_counter() - begin)
            return times

        compute = timed(lambda: setting_importance(pairs))

        def fresh_importance():
            classroom.store.set_hidden(0, "nobody")  # a change: the cache is stale
            return classroom.importance("mnist")

        after_change = timed(fresh_importance)
        cached = timed(lambda: classroom.importance("mnist"))
        begin = time.perf_counter()
        classroom.half_scores(records)
        first_scores = time.perf_counter() - begin
        kept_scores = timed(lambda: classroom.half_scores(records))
        result = classroom.importance("mnist")
        service.shutdown()

    rows = [
        ["setting_importance (computation only)", statistics.median(compute), max(compute)],
        ["classroom.importance after a change", statistics.median(after_change), max(after_change)],
        ["classroom.importance, cached", statistics.median(cached), max(cached)],
        ["half_scores, first time (reads every run's predictions)", first_scores, first_scores],
        ["half_scores, kept in the store", statistics.median(kept_scores), max(kept_scores)],
    ]
    print(f"\n{len(records)} complete runs on full MNIST, {arguments.repeats} repeats (seconds)")
    common.print_table(["what", "median", "max"], rows)
    print("\nimportances:", ", ".join(f"{i.setting} {i.share:.2f}" for i in result.importances))
    print(f"seed (noise) {result.seed_share:.2f}")
    common.write_results(
        "importance",
        {
            "runs": len(records),
            "seconds": {row[0]: {"median": row[1], "max": row[2]} for row in rows},
            "importance": result.to_json(),
        },
    )


if __name__ == "__main__":
    main()
