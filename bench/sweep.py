"""Sweep: a 3 x 3 sweep of small configs, from Train to a complete picture, 1 and 2 workers.

    EXPLORER_DATA_DIR=FOLDER python bench/sweep.py      # --rounds 3

The sweep is the Sweep page's (explorer/views/sweeps.py): SweepSpec with the knobs
`hidden1` 16, 64, 256 and `epochs` 1, 2, 3 on the base `hidden2=0`, `train_fraction=0.1`
(seed = the round, so every round trains), turned into 9 configs by `sweep_configs` and
submitted one after the other by one requester, as the page's "Train 9 run(s)" button does (on a
laptop the one user is the teacher; a student on a class server may have 3 runs queued at once,
so a student's sweep queues 3 of 9: checked at the end). The picture is complete when
`sweep_frame` over `service.latest` of every config (what the page's 2 s fragment draws) shows
every cell complete; the time is from the first submit until then, polled every 0.05 s (the
page redraws every 2 s, so a student sees it up to 2 s later). Also reported: the page's plan
(`plan_runs` with `service.estimate`, shown above the Train button) against what it took.

Settings, made like the page's service (`create_service(..., workers=N)`) with a fresh
EXPLORER_HOME each, warmed first (one throwaway run per trainer) and alternating from round to
round: 1 worker (the default on 2 cores: one child with 2 threads) and 2 workers (one thread
each). The machine has 2 cores and may be shared: the load average at the start and the cores
other processes kept busy during each sweep are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

WORKERS = (1, 2)
QUIET_CORES = 0.3  # other processes' cores below which a sweep counts as quiet


def spec_for(seed: int):
    from explorer.config import TrainingConfig
    from explorer.views.sweeps import Knob, SweepSpec

    base = TrainingConfig(hidden2=0, train_fraction=0.1, seed=seed)
    return SweepSpec((Knob("hidden1", (16, 64, 256)), Knob("epochs", (1, 2, 3))), base)


def picture_complete(service, spec) -> bool:
    from explorer.views.sweeps import sweep_configs, sweep_frame

    records = {config: service.latest(config) for config in sweep_configs(spec)}
    frame = sweep_frame(spec, records, "test_accuracy")
    return bool((frame["status"] == "complete").all())


def one_sweep(service, seed: int) -> dict:
    from explorer.service.jobs import Requester
    from explorer.views.sweeps import plan_runs, sweep_configs

    spec = spec_for(seed)
    configs = sweep_configs(spec)
    records = {config: service.latest(config) for config in configs}
    plan = plan_runs(configs, service.estimate, records, service.slots)
    teacher = Requester(f"sweep-{seed}", "teacher")
    with common.CpuWindow() as cpu:
        began = time.monotonic()
        submissions = [service.submit(config, teacher) for config in configs]
        while not picture_complete(service, spec):
            time.sleep(0.05)
            if time.monotonic() - began > 600:
                raise RuntimeError("the sweep did not finish in 10 minutes")
        seconds = time.monotonic() - began
    runs = [service.get(submission.run_id) for submission in submissions]
    return {
        "seed": seed,
        "seconds_to_complete_picture": seconds,
        "plan_text": plan.text,
        "plan_wall_seconds": plan.wall_seconds,
        "all_fresh": all(not s.cached and not s.attached for s in submissions),
        "train_seconds": [run.summary.get("train_seconds") for run in runs],
        "trip_seconds": [run.finished_at - run.started_at for run in runs],
        "workers": sorted({run.worker for run in runs}),
        "cpu": cpu.figures(),
    }


def student_sweep(service) -> dict:
    """A student's sweep: how many of the 9 are queued before the class's limit says no."""
    from explorer.service.jobs import LimitError, Requester
    from explorer.views.sweeps import sweep_configs

    student = Requester("sweep-student", "student")
    queued, message = [], ""
    for config in sweep_configs(spec_for(99)):
        try:
            queued.append(service.submit(config, student).run_id)
        except LimitError as error:
            message = str(error)
            break
    for run_id in queued:
        service.stop(run_id, student)
        service.wait(run_id, 120)
    return {"queued": len(queued), "message": message}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--rounds", type=int, default=3, help="sweeps per setting (3)")
    common.add_quiet_timeout_argument(parser, 30.0, "sweep")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("sweep")
    os.environ["EXPLORER_OFFLINE"] = "1"
    os.environ.pop("EXPLORER_TRAINING_THREADS", None)  # the page's default threads per child

    from explorer.config import TrainingConfig
    from explorer.service.jobs import Requester
    from explorer.service.service import create_service

    results: dict[int, list[dict]] = {workers: [] for workers in WORKERS}
    start: dict[int, float] = {}
    with common.temporary_home("sweep") as root, contextlib.ExitStack() as stack:
        os.environ["KERAS_HOME"] = str(Path(root) / "keras")
        services = {}
        for workers in WORKERS:
            began = time.monotonic()
            service = create_service(data_dir, str(Path(root) / f"home{workers}"), workers=workers)
            stack.callback(service.shutdown)
            service.warm()
            warm = [
                service.submit(
                    TrainingConfig(hidden1=3 + slot, hidden2=0, epochs=1, train_fraction=0.05),
                    Requester(f"warm-{slot}", "teacher"),
                )
                for slot in range(workers)
            ]
            for submission in warm:
                service.wait(submission.run_id, 300)
            start[workers] = time.monotonic() - began
            services[workers] = service
            threads = service.executor.trainers[0].threads
            print(f"{workers} worker(s), {threads} thread(s) each: ready in {start[workers]:.1f} s")
        for round_index in range(arguments.rounds):
            order = WORKERS if round_index % 2 == 0 else WORKERS[::-1]
            for workers in order:
                quiet = common.wait_for_quiet(timeout=arguments.quiet_timeout)
                result = one_sweep(services[workers], round_index)
                result["other_cores_before"] = quiet
                result["load_average_1min"] = os.getloadavg()[0]
                results[workers].append(result)
                print(
                    f"round {round_index}, {workers} worker(s): complete picture in "
                    f"{result['seconds_to_complete_picture']:.2f} s (plan: "
                    f"{result['plan_text']}); other cores {result['cpu']['other_cores']:.2f}",
                    flush=True,
                )
        student = student_sweep(services[1])

    rows = []
    for workers in WORKERS:
        runs = results[workers]
        seconds = [r["seconds_to_complete_picture"] for r in runs]
        rows.append(
            [
                f"{workers} worker(s)",
                statistics.median(seconds),
                min(seconds),
                max(seconds),
                statistics.median(r["plan_wall_seconds"] for r in runs),
                statistics.median(sum(r["train_seconds"]) for r in runs),
                statistics.median(r["cpu"]["other_cores"] for r in runs),
            ]
        )
    headers = [
        f"3x3 sweep ({arguments.rounds} rounds)",
        "s to complete picture (median)",
        "min",
        "max",
        "plan said (s)",
        "train s, 9 runs",
        "other cores",
    ]
    print()
    common.print_table(headers, rows)
    ratios = [
        one["seconds_to_complete_picture"] / two["seconds_to_complete_picture"]
        for one, two in zip(results[1], results[2], strict=True)
    ]
    print(
        "\n1 worker / 2 workers, per round: "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + f" (median {statistics.median(ratios):.2f})"
    )
    quiet = [
        (one["seconds_to_complete_picture"], two["seconds_to_complete_picture"])
        for one, two in zip(results[1], results[2], strict=True)
        if max(one["cpu"]["other_cores"], two["cpu"]["other_cores"]) < QUIET_CORES
    ]
    print(
        f"  rounds where other work kept < {QUIET_CORES} cores busy during both: "
        + (", ".join(f"{a:.2f} s / {b:.2f} s = {a / b:.2f}" for a, b in quiet) or "none")
    )
    print(f"one-time start (not counted): {', '.join(f'{w}: {s:.1f} s' for w, s in start.items())}")
    fresh = all(r["all_fresh"] for runs in results.values() for r in runs)
    print(f"every sweep run trained (none stored before): {fresh}")
    print(f"a student's sweep: {student['queued']} of 9 queued; then: {student['message']}")
    common.write_results(
        "sweep",
        {
            "rounds": arguments.rounds,
            "start_seconds": start,
            "ratio_1_over_2_workers": ratios,
            "quiet_rounds_seconds_1_and_2_workers": quiet,
            "student_sweep": student,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
