"""Memory: the trainer child's RSS over many mixed runs, recycled and not; the idle server.

    EXPLORER_DATA_DIR=FOLDER python bench/memory.py      # --runs 200, --skip-idle, --skip-runs

Part 1, many runs. The page's kind of service (a TrainingService with LocalPool(1): one child
process, both cores' threads) trains a deterministic pseudo-random list of mixed configs on the
full MNIST: `hidden1` 16..1024, `hidden2` 0..512, `batch_size` 32..1024, sgd or adam, one epoch,
5 % to 20 % of the training set (random.Random(2026)). Two services do this side by side, run by
run, alternating which goes first: one with the default TrainerSettings (a child is replaced
after `max_runs` 100 runs or past `max_rss_mb` 2500 MiB) and one with recycling off (both
limits huge). Each has its own EXPLORER_HOME, so every run trains. A thread reads the child's
VmRSS (/proc/<pid>/status) every 0.5 s; after each run the RSS is read again. Reported: RSS at
the start (child ready, before the first run), after every 25 runs, and the largest sample; the
growth in MiB per run (least squares over the runs, and per child for the recycled service);
the recycles and the time they cost (the run before a recycle waits for the old child to exit,
the run after it for a new one to import TensorFlow: their seconds over the same runs in the
other service); whether the RSS stayed under the limit.

Part 2, idle. `streamlit run app.py` with EXPLORER_TRAINER_IDLE_SECONDS=5 and one Chromium page:
the server's and the trainer's RSS once the page has started the trainer and it sits idle, the
server's alone after the trainer has exited by itself, and what the next Train pays for it: a
small run (`hidden1=32`, `hidden2=0`, one epoch, 10 % of the data) from Train to its result with
no trainer, against the same for the next config with the trainer up.

The machine has 2 cores and may be shared: the load average at the start is printed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common

SAMPLE_SECONDS = 0.5
EVERY = 25
SMALL = "hidden2=0&epochs=1&train_fraction=0.1"
IDLE_SECONDS = 5


def mixed_configs(count: int, seed: int = 2026) -> list:
    """The same pseudo-random list of mixed configs on every run of this script."""
    from explorer.config import TrainingConfig

    rng = random.Random(seed)
    configs, seen = [], set()
    while len(configs) < count:
        config = TrainingConfig(
            hidden1=rng.choice((16, 32, 64, 128, 256, 512, 1024)),
            hidden2=rng.choice((0, 0, 16, 64, 128, 256, 512)),
            batch_size=rng.choice((32, 64, 128, 256, 512, 1024)),
            optimizer=rng.choice(("sgd", "adam")),
            epochs=1,
            train_fraction=round(rng.uniform(0.05, 0.2), 2),
        )
        if config not in seen:  # a repeat would be a cache hit, not a run
            seen.add(config)
            configs.append(config)
    return configs


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        return common.proc_status_kib(pid, "VmRSS") / 1024
    except OSError:  # exited between reading the pid and its status
        return None


class Sampler(threading.Thread):
    """Every SAMPLE_SECONDS: each service's trainer pid and VmRSS, with the runs done so far."""

    def __init__(self, trainers: dict, progress: dict) -> None:
        super().__init__(daemon=True)
        self.trainers, self.progress = trainers, progress
        self.samples: dict[str, list[tuple]] = {name: [] for name in trainers}
        self.done = threading.Event()
        self.began = time.monotonic()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_SECONDS):
            for name, trainer in self.trainers.items():
                pid = trainer.pid
                value = rss_mib(pid)
                if value is not None:
                    moment = time.monotonic() - self.began
                    self.samples[name].append((moment, self.progress[name], pid, value))


def wait_ready(trainer, timeout: float = 120.0) -> float:
    """Until the child has TensorFlow mapped and its RSS holds still for a second; its RSS."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        pid = trainer.pid
        value = rss_mib(pid)
        try:
            mapped = pid is not None and common.tensorflow_mapped(pid)
        except OSError:
            mapped = False
        if mapped and value is not None and last is not None and abs(value - last) < 1.0:
            return value
        last = value if mapped else None
        time.sleep(1.0)
    raise RuntimeError("the trainer did not get ready")


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x (MiB per run)."""
    if len(points) < 2:
        return float("nan")
    xs, ys = zip(*points, strict=True)
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    denominator = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / denominator


def many_runs(data_dir: str, count: int) -> dict:
    from explorer.data.sources import load_mnist
    from explorer.service.jobs import COMMAND_LINE
    from explorer.service.local import LocalPool, TrainerSettings
    from explorer.service.service import TrainingService
    from explorer.store.registry import RunStore

    data = load_mnist(data_dir)
    configs = mixed_configs(count)
    settings = {
        "recycling (defaults)": TrainerSettings(),
        "recycling off": TrainerSettings(max_runs=10**9, max_rss_mb=1e9),
    }
    limit = TrainerSettings().max_rss_mb
    results: dict[str, dict] = {}
    with common.temporary_home("memory") as home:
        services = {}
        for index, (name, trainer_settings) in enumerate(settings.items()):
            store = RunStore(Path(home) / f"home{index}")
            executor = LocalPool(1, trainer_settings)
            services[name] = TrainingService(store, lambda: data, executor=executor)
        trainers = {name: service.executor.trainers[0] for name, service in services.items()}
        progress = dict.fromkeys(services, 0)
        runs: dict[str, list[dict]] = {name: [] for name in services}
        try:
            for service in services.values():
                service.warm()
            start = {name: wait_ready(trainer) for name, trainer in trainers.items()}
            sampler = Sampler(trainers, progress)
            sampler.start()
            began = time.monotonic()
            for index, config in enumerate(configs):
                names = list(services) if index % 2 == 0 else list(services)[::-1]
                for name in names:
                    service = services[name]
                    submitted = time.time()
                    submission = service.submit(config, COMMAND_LINE)
                    final = service.wait(submission.run_id, 600)
                    done = time.time()
                    record = service.get(submission.run_id)
                    trainer = trainers[name]
                    progress[name] = index + 1
                    runs[name].append(
                        {
                            "index": index + 1,
                            "status": final.status if final else None,
                            "fresh": not submission.cached and not submission.attached,
                            "trip": record.finished_at - record.started_at,
                            "end_to_end": done - submitted,
                            "train_seconds": record.summary.get("train_seconds"),
                            "worker": record.worker,
                            "pid_after": trainer.pid,
                            "rss_after": rss_mib(trainer.pid),
                            "heartbeat_rss": trainer.rss_mb,
                            "recycles": trainer.recycles,
                        }
                    )
                if (index + 1) % EVERY == 0:
                    print(
                        f"  {index + 1} runs, {time.monotonic() - began:.0f} s: "
                        + "; ".join(
                            f"{name} {runs[name][-1]['rss_after'] or 0:.0f} MiB "
                            f"(recycles {trainers[name].recycles})"
                            for name in services
                        ),
                        flush=True,
                    )
            sampler.done.set()
            sampler.join()
        finally:
            for service in services.values():
                service.shutdown()
        for name in services:
            results[name] = summarise(name, runs, sampler.samples[name], start[name], limit)
        results["_wall_seconds"] = time.monotonic() - began
    return results


def summarise(name: str, runs: dict, samples: list[tuple], start: float, limit: float) -> dict:
    mine = runs[name]
    other = runs[next(n for n in runs if n != name)]
    # Each child's runs: a new pid starts a new segment (the recycled service's sawtooth).
    segments: list[list[tuple[float, float]]] = [[]]
    recycled_at, previous_pid = [], None
    for run in mine:
        if run["rss_after"] is None:  # no child right now: it was recycled after this run
            recycled_at.append(run["index"])
            segments.append([])
            continue
        if segments[-1] and run["pid_after"] != previous_pid:
            segments.append([])
        segments[-1].append((run["index"], run["rss_after"]))
        previous_pid = run["pid_after"]
    segments = [segment for segment in segments if segment]
    points = [(run["index"], run["rss_after"]) for run in mine if run["rss_after"] is not None]
    # Time lost to a recycle: the run that ends the old child and the one that starts the new,
    # over the same two runs in the other service.
    lost = []
    indexes = {run["index"]: run for run in mine}
    others = {run["index"]: run for run in other}
    for index in recycled_at:
        pair = [i for i in (index, index + 1) if i in indexes]
        lost.append(sum(indexes[i]["end_to_end"] - others[i]["end_to_end"] for i in pair))
    at = {0: start}
    for run in mine:
        if run["index"] % EVERY == 0:
            at[run["index"]] = run["rss_after"]
    sampled_max = max((sample[3] for sample in samples), default=float("nan"))
    return {
        "rss_at": at,
        "rss_sampled_max": sampled_max,
        "samples": samples,
        "slope_all_runs": slope(points),
        "slope_per_child": [slope(segment) for segment in segments],
        "children": len(segments),
        "recycles": mine[-1]["recycles"] if mine else 0,
        "recycled_after_runs": recycled_at,
        "seconds_lost_per_recycle": lost,
        "under_limit": sampled_max < limit,
        "limit_mib": limit,
        "wall_seconds": sum(run["end_to_end"] for run in mine),
        "median_trip": statistics.median(run["trip"] for run in mine),
        "all_complete_and_fresh": all(r["status"] == "complete" and r["fresh"] for r in mine),
        "runs": mine,
    }


def idle_memory(data_dir: str) -> dict:
    """The server and its trainer idle, the trainer's idle exit, and the next start's cost."""
    from playwright.sync_api import sync_playwright

    figures: dict = {}
    with common.temporary_home("memory-idle") as home, sync_playwright() as playwright:
        env = common.bench_env(home, data_dir)
        env["EXPLORER_TRAINER_IDLE_SECONDS"] = str(IDLE_SECONDS)
        browser = common.launch_chromium(playwright)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
            page.set_default_timeout(180_000)
            with common.StreamlitServer(env, Path(home) / "server.log") as server:
                figures["server_ready_rss"] = rss_mib(server.pid)
                page.goto(server.url)
                page.get_by_text("Parameters to learn").wait_for()
                page.get_by_text("Data: Full MNIST").wait_for()
                trainer = wait_for_child(server.pid)
                opened = time.monotonic()
                figures["trainer_idle_rss"] = wait_ready(_Pid(trainer))
                figures["server_idle_rss"] = rss_mib(server.pid)
                figures["trainer_ready_after_page_s"] = time.monotonic() - opened
                while living_children(server.pid):
                    time.sleep(0.2)
                    if time.monotonic() - opened > 120:
                        raise RuntimeError("the idle trainer did not exit")
                figures["trainer_exited_after_ready_s"] = (
                    time.monotonic() - opened - figures["trainer_ready_after_page_s"]
                )
                time.sleep(1)
                figures["server_alone_rss"] = rss_mib(server.pid)
                figures["cold_train_s"] = train_from_link(page, server.url, 32)
                figures["warm_train_s"] = train_from_link(page, server.url, 34)
                # Once more: let it exit again, then a run without and one with the trainer.
                while living_children(server.pid):
                    time.sleep(0.2)
                figures["cold_train_again_s"] = train_from_link(page, server.url, 36)
                figures["warm_train_again_s"] = train_from_link(page, server.url, 38)
                figures["server_after_rss"] = rss_mib(server.pid)
        finally:
            browser.close()
    return figures


def living_children(pid: int) -> list[int]:
    """Child processes that have not exited (an exited child stays a zombie until the server
    next polls it; it holds no memory)."""
    living = []
    for child in common.descendants(pid):
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            living.append(child)
    return living


class _Pid:
    def __init__(self, pid: int) -> None:
        self.pid = pid


def wait_for_child(pid: int, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = common.descendants(pid)
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("the page did not start a trainer")


def train_from_link(page, url: str, hidden1: int) -> float:
    page.goto(f"{url}/?hidden1={hidden1}&{SMALL}")
    page.get_by_text("Not trained yet").wait_for()
    pressed = time.monotonic()
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Tutorial's score").first.wait_for()
    return time.monotonic() - pressed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--runs", type=int, default=200, help="mixed runs per service (200)")
    parser.add_argument("--skip-runs", action="store_true", help="only the idle part")
    parser.add_argument("--skip-idle", action="store_true", help="only the many runs")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("memory")
    payload: dict = {"runs": arguments.runs}

    if not arguments.skip_runs:
        results = many_runs(data_dir, arguments.runs)
        wall = results.pop("_wall_seconds")
        payload["many_runs"] = results
        names = list(results)
        marks = sorted(results[names[0]]["rss_at"])
        rows = []
        for mark in marks:
            label = "start (child ready)" if mark == 0 else f"after {mark} runs"
            rows.append([label, *(_mib(results[n]["rss_at"].get(mark)) for n in names)])
        rows.append(
            ["largest sample (every 0.5 s)", *(_mib(results[n]["rss_sampled_max"]) for n in names)]
        )
        rows.append(
            ["MiB per run, all runs", *(f"{results[n]['slope_all_runs']:+.1f}" for n in names)]
        )
        rows.append(
            [
                "MiB per run, per child",
                *(", ".join(f"{s:+.1f}" for s in results[n]["slope_per_child"]) for n in names),
            ]
        )
        rows.append(
            [
                "children / recycles",
                *(f"{results[n]['children']} / {results[n]['recycles']}" for n in names),
            ]
        )
        rows.append(
            [
                "recycled after run",
                *(", ".join(map(str, results[n]["recycled_after_runs"])) or "-" for n in names),
            ]
        )
        rows.append(
            [
                "s lost per recycle",
                *(
                    ", ".join(f"{s:.1f}" for s in results[n]["seconds_lost_per_recycle"]) or "-"
                    for n in names
                ),
            ]
        )
        rows.append(
            ["median trip per run (s)", *(f"{results[n]['median_trip']:.2f}" for n in names)]
        )
        rows.append(["seconds for all runs", *(f"{results[n]['wall_seconds']:.0f}" for n in names)])
        rows.append(
            [
                f"under {results[names[0]]['limit_mib']:.0f} MiB",
                *(str(results[n]["under_limit"]) for n in names),
            ]
        )
        print()
        common.print_table([f"trainer RSS MiB, {arguments.runs} mixed runs", *names], rows)
        complete = all(results[n]["all_complete_and_fresh"] for n in names)
        print(f"\nevery run trained and complete: {complete}; both services took {wall:.0f} s")

    if not arguments.skip_idle:
        idle = idle_memory(data_dir)
        payload["idle"] = idle
        rows = [
            ["server ready, no page", _mib(idle["server_ready_rss"]), "", ""],
            [
                "page open, trainer up and idle",
                _mib(idle["server_idle_rss"]),
                _mib(idle["trainer_idle_rss"]),
                _mib(idle["server_idle_rss"] + idle["trainer_idle_rss"]),
            ],
            [
                f"trainer exited by itself ({idle['trainer_exited_after_ready_s']:.1f} s idle)",
                _mib(idle["server_alone_rss"]),
                "0",
                _mib(idle["server_alone_rss"]),
            ],
        ]
        print()
        common.print_table(["idle (MiB)", "server", "trainer", "sum"], rows)
        cold = [idle["cold_train_s"], idle["cold_train_again_s"]]
        warm = [idle["warm_train_s"], idle["warm_train_again_s"]]
        print(
            f"\nTrain to result, small run: no trainer {', '.join(f'{c:.2f}' for c in cold)} s; "
            f"trainer up {', '.join(f'{w:.2f}' for w in warm)} s; the next start costs "
            f"{statistics.fmean(cold) - statistics.fmean(warm):.2f} s"
        )
    common.write_results("memory", payload)


def _mib(value) -> str:
    return "" if value is None else f"{value:,.0f}"


if __name__ == "__main__":
    main()
