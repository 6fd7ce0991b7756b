"""Class view load: 30 sessions on the class view (`?view=class`) while 2 workers train.

One `streamlit run app.py` (full MNIST, temporary EXPLORER_HOME holding `--runs` stored runs made
up by testkit.classroom.store_runs, and a challenge on, so the board refreshes itself every
3-4 s). The sessions are Python clients speaking the browser's websocket protocol
(bench/st_client.py: rerun requests, and the fragment timers of the live parts as the frontend
sends them). Each session asks for a rerun every 2-8 s (at random), as a student's click on the
page would; a rerun's latency is request sent → `script_finished` of that rerun, the whole page
redrawn ("runs selected" shown). Phases: 15 s idle, then while `python -m explorer sweep
--workers 2` (its own process, 2 local child workers, the same store) trains `--trainings`
runs, then 15 s after. The stored runs change under the sessions as the sweep's runs finish,
so the frame and the charts are built again.

Reports p50/p95/max per phase, the server's CPU seconds per script run (full and fragment
runs of every session) during training, and the load average (the machine may be shared).
Target: p95 rerun < 0.5 s while training.

    python bench/class_view_load.py --data-dir /path/to/mnist   # or EXPLORER_DATA_DIR
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import st_client

TARGET_P95 = 0.5
THINK = (2.0, 8.0)  # seconds between a session's reruns (uniform)
PHASE_SECONDS = 15.0  # length of the idle and after-training phases
SHOWN = "runs selected"  # the caption over the class view's table: the page is drawn
# The sweep's runs: small enough to train in seconds, several so that 2 workers stay busy.
SWEEP = ["--hidden1", "32,64,128", "--epochs", "2", "--seeds", "0,1", "--batch-size", "64"]


def drawn(run: st_client.ScriptRun) -> bool:
    return run.shows(SHOWN)


async def one_rerun(session, phase: str) -> dict:
    sent = await session.rerun()
    run = await session.full_run_after(sent, drawn)
    return {"phase": phase, "at": sent, "s": run.finished - sent}


async def staggered(sessions, phase: str, done) -> list[dict]:
    """Each session asks for a rerun every THINK seconds until `done()`."""

    async def student(session) -> list[dict]:
        results = []
        while not done():
            await asyncio.sleep(random.uniform(*THINK))
            if not done():
                results.append(await one_rerun(session, phase))
        return results

    return [r for found in await asyncio.gather(*map(student, sessions)) for r in found]


def script_runs(sessions, since: float, until: float) -> int:
    """Script runs (full and fragment) the sessions saw start in [since, until)."""
    return sum(1 for s in sessions for run in s.runs if since <= run.started < until)


async def scenario(arguments, server, env) -> dict:
    sessions = [
        await st_client.Session(server.url, "view=class").open() for _ in range(arguments.sessions)
    ]
    try:
        for session in sessions:
            await session.full_run_after(0, drawn, 180)
        ends = time.monotonic() + PHASE_SECONDS
        samples = await staggered(sessions, "idle", lambda: time.monotonic() > ends)

        log = (Path(env["EXPLORER_HOME"]) / "sweep.log").open("w")
        command = [sys.executable, "-m", "explorer", "sweep", *SWEEP, "--workers", "2"]
        started, cpu_before = time.perf_counter(), common.cpu_seconds(server.pid)
        sweep = subprocess.Popen(command, cwd=common.ROOT, env=env, stdout=log, stderr=log)
        loads = []

        def trained() -> bool:
            loads.append(os.getloadavg()[0])
            return sweep.poll() is not None

        samples += await staggered(sessions, "training", trained)
        ended, cpu_after = time.perf_counter(), common.cpu_seconds(server.pid)
        log.close()
        runs_during = script_runs(sessions, started, ended)
        ends = time.monotonic() + PHASE_SECONDS
        samples += await staggered(sessions, "after", lambda: time.monotonic() > ends)
    finally:
        for session in sessions:
            await session.close()
    return {
        "samples": samples,
        "sweep_status": sweep.returncode,
        "training_s": ended - started,
        "server_cpu_s": cpu_after - cpu_before,
        "script_runs_during_training": runs_during,
        "load_during_training": (min(loads), max(loads)) if loads else None,
        "training_started": started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--sessions", type=int, default=30, help="protocol sessions (30)")
    parser.add_argument("--runs", type=int, default=300, help="runs stored beforehand (300)")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("class_view_load")

    from explorer.data.sources import load_mnist
    from explorer.store.registry import RunStore
    from testkit.classroom import store_runs

    data = load_mnist(data_dir)
    with common.temporary_home("class-view-load") as home:
        env = common.bench_env(home, data_dir)
        store = RunStore(home)
        store_runs(store, data, arguments.runs)
        store.close()
        challenge = [sys.executable, "-m", "explorer", "challenge", "start", "Bench"]
        subprocess.run(challenge, cwd=common.ROOT, env=env, check=True, capture_output=True)
        with common.StreamlitServer(env, Path(home) / "server.log") as server:
            outcome = asyncio.run(scenario(arguments, server, env))
        runs = common.count_runs(home)
    report(arguments, outcome, runs)


def report(arguments, outcome, runs) -> None:
    for sample in outcome["samples"]:  # perf_counter → seconds since the sweep started
        sample["at"] -= outcome["training_started"]
    rows, table = [], {}
    for phase in ("idle", "training", "after"):
        chosen = [s["s"] for s in outcome["samples"] if s["phase"] == phase]
        if not chosen:
            continue
        figures = common.summary(chosen)
        table[phase] = figures
        met = figures["p95"] < TARGET_P95 if phase == "training" else ""
        rows.append([phase, figures["n"], figures["median"], figures["p95"], figures["max"], met])
    common.print_table(["rerun latency (s)", "n", "p50", "p95", "max", "p95 < 0.5 s"], rows)
    per_run = outcome["server_cpu_s"] / max(1, outcome["script_runs_during_training"])
    print(
        f"\n{arguments.sessions} sessions, {arguments.runs} stored runs; the sweep (exit "
        f"{outcome['sweep_status']}) trained for {outcome['training_s']:.1f} s; runs in the "
        f"store after: {runs}"
    )
    print(
        f"server CPU during training: {outcome['server_cpu_s']:.1f} s over "
        f"{outcome['script_runs_during_training']} script runs ({per_run:.3f} s per run); "
        f"load average (1 min) during training: {outcome['load_during_training']}"
    )
    common.write_results(
        "class_view_load",
        {
            "sessions": arguments.sessions,
            "stored_runs": arguments.runs,
            "sweep": SWEEP,
            "runs_in_store": runs,
            "latency": table,
            "cpu_seconds_per_script_run": per_run,
            **{k: v for k, v in outcome.items() if k != "samples"},
            "samples": outcome["samples"],
        },
    )


if __name__ == "__main__":
    main()
