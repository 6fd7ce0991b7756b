"""Class throughput: 30 students ask for 30 different small configs at the same moment.

    EXPLORER_DATA_DIR=FOLDER python bench/class_throughput.py   # --rounds 3 --settings local1,...

Each student is its own `Requester(session, "student")` and asks, from its own thread, at the
same instant (a barrier), for a config nobody asked for before: `hidden1` 8, 10, ... 66,
`hidden2=0`, `epochs=1`, `train_fraction=0.1` of the full MNIST, `seed` = the round. Each
setting has its own fresh EXPLORER_HOME, so nothing is stored yet (every submission must say
neither cached nor attached). The services are made by `create_service`, as the page makes its
own. Settings, measured side by side in one run, alternating their order from round to round:

- `local1`: 1 child process (LocalPool(1)), EXPLORER_TRAINING_THREADS=1;
- `local2`: 2 child processes (LocalPool(2)), one TensorFlow thread each;
- `ray`: a two-node Ray cluster on this machine (ray.cluster_utils.Cluster: a head without
  CPUs and two nodes of one CPU each, all on 127.0.0.1, as tests/service/test_ray_cluster.py),
  through RayCluster (one TensorFlow thread per task);
- `local1t2` (not in the default list): 1 child with two threads, what a page on a 2-core
  machine gets by default (`default_workers()` is cores - 1).

Measured per round and setting:

1. throughput: time from the first submit until the last student's `service.wait` returns, runs
   per minute, and per run `finished_at - started_at` (the executor's round trip: send the job,
   train, get the result back), `train_seconds` (inside the trainer) and end to end (submit to
   `wait` returning, the store's files written);
2. fairness: student A queues three jobs, then students B..Z one each, as fast as they can. For
   every one-job student: the jobs that started while it waited, counted per other student (the
   target: never more than one of any student), its wait in seconds, and the queue's estimate of
   that wait given just after the submits;
3. latency: three runs one after the other on the idle service (`hidden1=20`), end to end and
   `finished_at - started_at`: Ray's added seconds per small run over a local child.

One-time start is kept out of the throughput: recycling is off (EXPLORER_TRAINER_MAX_RUNS; a
child's restart every 100 runs is measured by bench/memory.py), and each service is warmed
first (`service.warm()` and one throwaway run per slot, so every child or Ray worker has
imported TensorFlow and holds the data); that start is reported on its own, with the Ray
cluster's start. The machine has 2 cores and may be shared: before each throughput the script
waits (up to --quiet-timeout s) for other processes to leave the cores, and it prints the
load average at the start and the cores other processes kept busy during each measurement
(/proc/stat less this benchmark's processes). Targets: 2 workers / 1 worker runs per minute
>= 1.6; Ray adds <= 0.5 s per small run; no one-job student waits behind more than one job of
any other student.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

SETTINGS = {
    "local1": ("1 local worker (1 thread)", 1, "1"),
    "local2": ("2 local workers (1 thread each)", 2, "1"),
    "ray": ("Ray, 2 nodes of 1 CPU", None, None),
    "local1t2": ("1 local worker (2 threads)", 1, "2"),
}
TARGET_RATIO = 1.6
TARGET_RAY_ADDED = 0.5
QUIET_CORES = 0.3  # other processes' cores below which a round counts as quiet
WAIT_TIMEOUT = 600.0
RAY_NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 200 * 2**20}


def small(hidden1: int, seed: int):
    from explorer.config import TrainingConfig

    return TrainingConfig(hidden1=hidden1, hidden2=0, epochs=1, train_fraction=0.1, seed=seed)


@dataclass
class Setting:
    key: str
    label: str
    service: object
    start: dict = field(default_factory=dict)
    rounds: list[dict] = field(default_factory=list)


def submit_and_wait(service, requests: list[tuple], together: bool) -> list[dict]:
    """Submit (config, requester) pairs, at one instant from one thread each (`together`) or in
    order from this thread, and wait for every one. Returns one dict per request."""
    results: list[dict] = [{} for _ in requests]
    barrier = threading.Barrier(len(requests)) if together else None

    def wait(index: int) -> None:
        entry = results[index]
        service.wait(entry["run_id"], WAIT_TIMEOUT)
        entry["done"] = time.time()

    def ask(index: int) -> None:
        config, requester = requests[index]
        if barrier is not None:
            barrier.wait()
        submitted = time.time()
        submission = service.submit(config, requester)
        results[index].update(
            session=requester.session,
            config=config,
            run_id=submission.run_id,
            submitted=submitted,
            fresh=not submission.cached and not submission.attached,
        )
        if barrier is not None:
            wait(index)

    if together:
        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    else:
        for index in range(len(requests)):
            ask(index)
        for entry in results:  # the queue's view just after the submits
            progress = service.progress(entry["run_id"])
            entry["estimated_wait"] = progress.wait_seconds if progress else None
            entry["estimated_position"] = progress.position if progress else None
        threads = [threading.Thread(target=wait, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for entry in results:
        record = service.get(entry["run_id"])
        entry.update(
            status=record.status,
            started=record.started_at,
            finished=record.finished_at,
            worker=record.worker,
            train_seconds=record.summary.get("train_seconds"),
        )
    return results


def per_run(results: list[dict]) -> dict:
    trip = [r["finished"] - r["started"] for r in results]
    train = [r["train_seconds"] for r in results]
    return {
        "trip_median": statistics.median(trip),
        "train_median": statistics.median(train),
        "trip_less_train_median": statistics.median(
            a - b for a, b in zip(trip, train, strict=True)
        ),
        "end_to_end_median": statistics.median(r["done"] - r["submitted"] for r in results),
        "files_written_median": statistics.median(r["done"] - r["finished"] for r in results),
    }


def throughput(setting: Setting, round_index: int, students: int) -> dict:
    from explorer.service.jobs import Requester

    requests = [
        (small(hidden1, round_index), Requester(f"t{round_index}-{i:02d}", "student"))
        for i, hidden1 in enumerate(range(8, 8 + 2 * students, 2))
    ]
    with common.CpuWindow() as cpu:
        results = submit_and_wait(setting.service, requests, together=True)
    first = min(r["submitted"] for r in results)
    last = max(r["done"] for r in results)
    return {
        "seconds_to_last_result": last - first,
        "runs_per_minute": len(results) / (last - first) * 60,
        "all_fresh": all(r["fresh"] for r in results),
        "all_complete": all(r["status"] == "complete" for r in results),
        "workers_used": len({r["worker"] for r in results}),
        **per_run(results),
        "cpu": cpu.figures(),
        "runs": results,
    }


def fairness(setting: Setting, round_index: int, students: int) -> dict:
    from explorer.service.jobs import Requester

    seed = 1000 + round_index
    first = Requester(f"f{round_index}-A", "student")
    requests = [(small(hidden1, seed), first) for hidden1 in (8, 10, 12)]
    for i in range(1, students - 4):  # B..Z: 25 students
        requests.append((small(12 + 2 * i, seed), Requester(f"f{round_index}-{i:02d}", "student")))
    with common.CpuWindow() as cpu:
        results = submit_and_wait(setting.service, requests, together=False)
    order = sorted(results, key=lambda r: r["started"])
    singles = [r for r in results if r["session"] != first.session]
    worst = {"behind_one_student": -1}
    for mine in singles:
        while_waiting = [
            r
            for r in results
            if r is not mine and mine["submitted"] <= r["started"] < mine["started"]
        ]
        started_before = [r for r in results if r is not mine and r["started"] < mine["started"]]
        counts: dict[str, int] = {}
        for other in while_waiting:
            counts[other["session"]] = counts.get(other["session"], 0) + 1
        before_counts: dict[str, int] = {}
        for other in started_before:
            before_counts[other["session"]] = before_counts.get(other["session"], 0) + 1
        behind = max(counts.values(), default=0)
        mine.update(
            wait_seconds=mine["started"] - mine["submitted"],
            jobs_started_while_waiting=len(while_waiting),
            most_of_one_student_while_waiting=behind,
            jobs_started_before=len(started_before),
            most_of_one_student_before=max(before_counts.values(), default=0),
        )
        if behind > worst["behind_one_student"]:
            worst = {"behind_one_student": behind, "session": mine["session"]}
    longest = max(singles, key=lambda r: r["wait_seconds"])
    a_places = [order.index(r) + 1 for r in results if r["session"] == first.session]
    return {
        "most_jobs_of_one_student_while_waiting": max(
            r["most_of_one_student_while_waiting"] for r in singles
        ),
        "most_jobs_of_one_student_started_before": max(
            r["most_of_one_student_before"] for r in singles
        ),
        "most_jobs_started_while_waiting": max(r["jobs_started_while_waiting"] for r in singles),
        "longest_wait_seconds": longest["wait_seconds"],
        "longest_wait_estimated_seconds": longest["estimated_wait"],
        "longest_wait_jobs_started_while_waiting": longest["jobs_started_while_waiting"],
        "a_jobs_started_as": a_places,
        "jobs": len(results),
        "all_fresh": all(r["fresh"] for r in results),
        "all_complete": all(r["status"] == "complete" for r in results),
        "seconds_to_last_result": max(r["done"] for r in results)
        - min(r["submitted"] for r in results),
        "cpu": cpu.figures(),
        "runs": results,
    }


def latency(setting: Setting, round_index: int, repeats: int = 3) -> dict:
    from explorer.service.jobs import Requester

    results = []
    for k in range(repeats):
        request = (small(20, 2000 + 10 * round_index + k), Requester(f"l{round_index}", "student"))
        results += submit_and_wait(setting.service, [request], together=False)
    return {**per_run(results), "runs": results}


def warm(setting: Setting, made_at: float) -> None:
    """One throwaway run per slot at once: every trainer imports TensorFlow and gets the data."""
    from explorer.service.jobs import Requester

    service = setting.service
    service.warm()
    slots = service.slots
    requests = [
        (small(3 + slot, 99_999), Requester(f"warm-{slot}", "student")) for slot in range(slots)
    ]
    results = submit_and_wait(service, requests, together=True)
    setting.start.update(
        ready_seconds=max(r["done"] for r in results) - made_at,
        warm_runs_trip=[r["finished"] - r["started"] for r in results],
        warm_workers=sorted({r["worker"] for r in results}),
        slots=slots,
    )
    if len(setting.start["warm_workers"]) != slots:
        print(f"  warning: {setting.key}'s warm runs used {setting.start['warm_workers']}")


def make_local(key: str, data_dir: str, root: Path) -> Setting:
    from explorer.service.local import TrainerProcess
    from explorer.service.service import create_service

    label, workers, threads = SETTINGS[key]
    home = tempfile.mkdtemp(prefix=f"{key}-", dir=root)
    os.environ["EXPLORER_TRAINING_THREADS"] = threads  # read when the pool is made
    made_at = time.time()
    service = create_service(data_dir, home, workers=workers)
    service.data  # noqa: B018 - load MNIST now, as the page's first view does
    setting = Setting(key, label, service)
    setting.start["service_made_seconds"] = time.time() - made_at
    warm(setting, made_at)
    setting.start["trainer_ready_seconds"] = TrainerProcess.measured_start_seconds
    setting.start["pids"] = [trainer.pid for trainer in service.executor.trainers]
    return setting


def make_ray(data_dir: str, root: Path, stack: contextlib.ExitStack) -> Setting:
    # Ray's socket paths must stay under 108 bytes: a short folder of its own in the temp dir.
    ray_tmp = tempfile.mkdtemp(prefix="ray-")
    stack.callback(shutil.rmtree, ray_tmp, ignore_errors=True)
    os.environ["RAY_TMPDIR"] = ray_tmp
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    began = time.time()
    import ray._private.ray_constants as constants
    from ray.cluster_utils import Cluster

    from explorer.service.service import create_service

    constants.ENABLE_RAY_CLUSTER = False  # keep every address on 127.0.0.1
    imported = time.time()
    cluster = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={**RAY_NODE, "num_cpus": 0, "include_dashboard": False},
    )
    stack.callback(cluster.shutdown)
    for _ in range(2):
        cluster.add_node(**RAY_NODE)
    cluster.wait_for_nodes()
    cluster_up = time.time()
    service = create_service(
        data_dir,
        str(Path(tempfile.mkdtemp(prefix="ray-home-", dir=root))),
        ray_address=cluster.address,
    )
    stack.callback(service.shutdown)
    service.data  # noqa: B018
    setting = Setting("ray", SETTINGS["ray"][0], service)
    setting.start.update(
        ray_import_seconds=imported - began,
        cluster_start_seconds=cluster_up - imported,
        service_made_seconds=time.time() - cluster_up,
    )
    warm(setting, cluster_up)
    return setting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all settings (3)")
    parser.add_argument("--students", type=int, default=30, help="students (30)")
    parser.add_argument(
        "--settings",
        default="local1,local2,ray",
        help=f"of {','.join(SETTINGS)} (local1,local2,ray)",
    )
    common.add_quiet_timeout_argument(parser, 60.0, "throughput")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("class_throughput")
    os.environ["EXPLORER_OFFLINE"] = "1"
    # A child is replaced after 100 runs (bench/memory.py measures that); here it would put a
    # TensorFlow import into the third round of the 1-worker setting.
    os.environ["EXPLORER_TRAINER_MAX_RUNS"] = "100000"
    keys = [key.strip() for key in arguments.settings.split(",") if key.strip()]
    unknown = set(keys) - set(SETTINGS)
    if unknown:
        sys.exit(f"unknown settings {sorted(unknown)}; choose from {list(SETTINGS)}")

    with common.temporary_home("class-throughput") as root, contextlib.ExitStack() as stack:
        root = Path(root)
        os.environ["KERAS_HOME"] = str(root / "keras")
        settings: dict[str, Setting] = {}
        for key in keys:
            began = time.time()
            if key == "ray":
                settings[key] = make_ray(data_dir, root, stack)
            else:
                settings[key] = make_local(key, data_dir, root)
                stack.callback(settings[key].service.shutdown)
            print(
                f"started {key} in {time.time() - began:.1f} s: {settings[key].start}", flush=True
            )
        for round_index in range(arguments.rounds):
            order = keys[round_index % len(keys) :] + keys[: round_index % len(keys)]
            entries = {key: {"round": round_index} for key in order}
            # The throughputs first, each right after a wait for quiet cores: they need both.
            for key in order:
                waited = time.monotonic()
                entries[key]["other_cores_before"] = common.wait_for_quiet(
                    timeout=arguments.quiet_timeout
                )
                entries[key]["waited_for_quiet_s"] = time.monotonic() - waited
                entries[key]["load_average_1min"] = os.getloadavg()[0]
                entries[key]["throughput"] = throughput(
                    settings[key], round_index, arguments.students
                )
            for key in order:
                entries[key]["fairness"] = fairness(settings[key], round_index, arguments.students)
                entries[key]["latency"] = latency(settings[key], round_index)
            for key in order:
                entry = entries[key]
                settings[key].rounds.append(entry)
                t, f = entry["throughput"], entry["fairness"]
                print(
                    f"round {round_index} {key}: {t['seconds_to_last_result']:.2f} s to the last "
                    f"of {arguments.students}, {t['runs_per_minute']:.0f} runs/min, trip "
                    f"{t['trip_median']:.3f} s (train {t['train_median']:.3f}), other cores "
                    f"{t['cpu']['other_cores']:.2f}; fairness: "
                    f"{f['most_jobs_of_one_student_while_waiting']} of one student, longest wait "
                    f"{f['longest_wait_seconds']:.2f} s; latency e2e "
                    f"{entry['latency']['end_to_end_median']:.3f} s; load "
                    f"{entry['load_average_1min']:.2f}",
                    flush=True,
                )
    report(settings, arguments)


def median_of(setting: Setting, part: str, name: str) -> float:
    return statistics.median(entry[part][name] for entry in setting.rounds)


def paired(settings: dict, a: str, b: str, part: str, name: str, how) -> list[float]:
    if a not in settings or b not in settings:
        return []
    return [
        how(x[part][name], y[part][name])
        for x, y in zip(settings[a].rounds, settings[b].rounds, strict=True)
    ]


def report(settings: dict[str, Setting], arguments) -> None:
    print()
    rows = []
    for setting in settings.values():
        rows.append(
            [
                setting.label,
                median_of(setting, "throughput", "seconds_to_last_result"),
                median_of(setting, "throughput", "runs_per_minute"),
                median_of(setting, "throughput", "trip_median"),
                median_of(setting, "throughput", "train_median"),
                median_of(setting, "latency", "end_to_end_median"),
                median_of(setting, "latency", "trip_median"),
                max(
                    e["fairness"]["most_jobs_of_one_student_while_waiting"] for e in setting.rounds
                ),
                max(e["fairness"]["longest_wait_seconds"] for e in setting.rounds),
                statistics.median(e["throughput"]["cpu"]["other_cores"] for e in setting.rounds),
            ]
        )
    headers = [
        f"setting (medians of {arguments.rounds} rounds)",
        f"s to last of {arguments.students}",
        "runs/min",
        "trip s (30 at once)",
        "train s",
        "single run e2e s",
        "single run trip s",
        "fair: most of 1 student",
        "fair: longest wait s",
        "other cores",
    ]
    common.print_table(headers, rows)

    ratios = paired(
        settings, "local2", "local1", "throughput", "runs_per_minute", lambda a, b: a / b
    )
    ray_trip = paired(settings, "ray", "local1", "latency", "trip_median", lambda a, b: a - b)
    ray_e2e = paired(settings, "ray", "local1", "latency", "end_to_end_median", lambda a, b: a - b)
    ray_busy = paired(settings, "ray", "local2", "throughput", "trip_median", lambda a, b: a - b)
    fair = max(
        e["fairness"]["most_jobs_of_one_student_while_waiting"]
        for s in settings.values()
        for e in s.rounds
    )
    quiet_ratios = (
        [
            one["throughput"]["runs_per_minute"] / two["throughput"]["runs_per_minute"]
            for one, two in zip(settings["local2"].rounds, settings["local1"].rounds, strict=True)
            if max(one["throughput"]["cpu"]["other_cores"], two["throughput"]["cpu"]["other_cores"])
            < QUIET_CORES
        ]
        if "local1" in settings and "local2" in settings
        else []
    )
    summary = {"ratio_2_over_1_quiet_rounds": quiet_ratios}
    print()
    if ratios:
        summary["ratio_2_workers_over_1"] = ratios
        verdict = "met" if statistics.median(ratios) >= TARGET_RATIO else "NOT met"
        print(
            f"runs/min, 2 workers / 1 worker, per round: {', '.join(f'{r:.2f}' for r in ratios)}"
            f" (median {statistics.median(ratios):.2f}; target >= {TARGET_RATIO}: {verdict})"
        )
        quiet = ", ".join(f"{r:.2f}" for r in quiet_ratios) or "none"
        print(f"  in the rounds where other work kept < {QUIET_CORES} cores busy: {quiet}")
    if ray_trip:
        summary.update(ray_added_trip=ray_trip, ray_added_end_to_end=ray_e2e)
        worst = max(max(ray_trip), max(ray_e2e))
        verdict = "met" if worst <= TARGET_RAY_ADDED else "NOT met"
        print(
            "Ray's added seconds per single small run over 1 local child, per round: trip "
            + ", ".join(f"{v:+.3f}" for v in ray_trip)
            + "; end to end "
            + ", ".join(f"{v:+.3f}" for v in ray_e2e)
            + f" (target <= {TARGET_RAY_ADDED} s: {verdict})"
        )
    if ray_busy:
        summary["ray_added_trip_30_at_once_vs_local2"] = ray_busy
        print(
            "Ray's added trip with 30 at once, over 2 local children: "
            + ", ".join(f"{v:+.3f}" for v in ray_busy)
        )
    print(
        f"fairness: most jobs of one other student that started while a one-job student waited: "
        f"{fair} (target <= 1: {'met' if fair <= 1 else 'NOT met'})"
    )
    for setting in settings.values():
        f = [e["fairness"] for e in setting.rounds]
        print(
            f"  {setting.key}: A's jobs started as {[x['a_jobs_started_as'] for x in f]} of "
            f"{f[0]['jobs']}; "
            f"most of one student started before (not only while waiting) "
            f"{max(x['most_jobs_of_one_student_started_before'] for x in f)}; longest wait "
            f"{max(x['longest_wait_seconds'] for x in f):.2f} s (estimated "
            + ", ".join(f"{x['longest_wait_estimated_seconds'] or 0:.1f}" for x in f)
            + " s)"
        )
    print("\none-time start (not in the throughput):")
    for setting in settings.values():
        start = {k: v for k, v in setting.start.items() if k not in ("pids", "warm_workers")}
        print(f"  {setting.key}: " + ", ".join(f"{k} {_short(v)}" for k, v in start.items()))
    problems = [
        f"{s.key} round {e['round']} {part}"
        for s in settings.values()
        for e in s.rounds
        for part in ("throughput", "fairness")
        if not (e[part]["all_fresh"] and e[part]["all_complete"])
    ]
    print(f"every run fresh and complete: {not problems} {problems or ''}")
    common.write_results(
        "class_throughput",
        {
            "rounds": arguments.rounds,
            "students": arguments.students,
            "summary": summary,
            "settings": {
                key: {"label": s.label, "start": s.start, "rounds": s.rounds}
                for key, s in settings.items()
            },
        },
    )


def _short(value) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return str(value)


if __name__ == "__main__":
    main()
