"""Is the machine worth it? TPE against random search, 20 trials each, over 3 seeds (trains).

    python bench/machine.py --data-dir FOLDER [--trials 20] [--seeds 0,1,2] [--workers 1]

Each search is explorer.service.search.MachineSearch, as `python -m explorer search` runs it, on
small configurations: 1 epoch, a tenth of the training data, at most `--max-params` parameters.
Both samplers draw from the same space, and their first STARTUP_TRIALS trials are random for
both; one store serves every search, so a configuration two searches propose trains once (the
same config gives the same result). Prints the best public-half accuracy after 5, 10 and 20
trials for each sampler and seed, their means, the best run's private-half accuracy, and how
many of the trials were distinct configurations (a repeat is a cache hit).
"""

from __future__ import annotations

import argparse
import statistics
import time

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--max-params", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("machine")

    import optuna

    from explorer.service.classroom import classroom_of
    from explorer.service.search import STARTUP_TRIALS, MachineSearch, SearchSpec
    from explorer.service.service import create_service

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    seeds = [int(seed) for seed in arguments.seeds.split(",")]
    checkpoints = sorted({5, 10, arguments.trials} & set(range(1, arguments.trials + 1)))
    rows, payload = [], []
    with common.temporary_home("machine") as home:
        service = create_service(data_dir, home, isolated=True, workers=arguments.workers)
        classroom = classroom_of(service)
        started = time.perf_counter()
        for sampler in ("tpe", "random"):
            for seed in seeds:
                spec = SearchSpec(
                    seed=seed,
                    max_params=arguments.max_params,
                    max_epochs=1,
                    train_fraction=0.1,
                    sampler=sampler,
                )
                begin = time.perf_counter()
                search = MachineSearch(classroom, spec)
                run_ids = search.run(arguments.trials, parallel=arguments.workers)
                records = [service.get(run_id) for run_id in run_ids]
                scores = classroom.half_scores(records)
                public = [
                    -1.0 if scores[run_id] is None else scores[run_id].public_accuracy
                    for run_id in run_ids
                ]
                best_so_far = [max(public[:count]) for count in checkpoints]
                best_index = max(range(len(public)), key=public.__getitem__)
                private = scores[run_ids[best_index]].private_accuracy
                seconds = time.perf_counter() - begin
                distinct = len({record.config for record in records})
                rows.append([sampler, seed, *best_so_far, private, distinct, round(seconds)])
                payload.append(
                    {
                        "sampler": sampler,
                        "seed": seed,
                        "best_public_after": dict(zip(checkpoints, best_so_far, strict=True)),
                        "best_private": private,
                        "best_config": records[best_index].config.to_dict(),
                        "distinct_configs": distinct,
                        "seconds": seconds,
                    }
                )
                print(f"{sampler} seed {seed}: best public {best_so_far[-1]:.4f} ({seconds:.0f} s)")
        total = time.perf_counter() - started
        service.shutdown()

    for sampler in ("tpe", "random"):
        mine = [row for row in rows if row[0] == sampler]
        means = [statistics.mean(row[2 + i] for row in mine) for i in range(len(checkpoints))]
        private_mean = statistics.mean(row[-3] for row in mine)
        rows.append([f"{sampler} mean", "", *means, private_mean, "", ""])
    print(
        f"\nbest public-half accuracy after N trials (1 epoch, 10% of the data, at most "
        f"{arguments.max_params:,} parameters; the first {STARTUP_TRIALS} trials are random "
        f"for both); {total:.0f} s in all"
    )
    headers = ["sampler", "seed", *[f"after {count}" for count in checkpoints]]
    common.print_table([*headers, "its private", "distinct", "s"], rows)
    common.write_results("machine", {"searches": payload, "seconds": total})


if __name__ == "__main__":
    main()
