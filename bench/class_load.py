"""Class load: 30 sessions ask for one untrained config at once; one training serves them all.

One `streamlit run app.py` (full MNIST, empty temporary EXPLORER_HOME). 29 sessions are Python
clients speaking the browser's websocket protocol (bench/st_client.py: rerun requests with widget
states, the fragment timers of the live parts, 1-2 s per session, as the frontend sends them) and
one is a real Chromium page. All open the same link and press Train within a second. Checks: exactly
one run in the store (for that cache key and in all) and every session ends showing "Test
accuracy". Measures page rerun latency: a session moves "Neurons in hidden layer 1" one step (to an
untrained config: until its "784 → N → 10" line and "Not trained yet") and back (until the line
and the live progress, or the result). Protocol sessions: rerun request sent → `script_finished`
of that rerun (the whole page redrawn). Chromium: keydown → the first frame showing the update.
"staggered": like a class, every session does this every 2-8 s (at random) for as long as the
training runs; the same for 15 s before Train is pressed ("idle", the baseline) and after the
result is shown ("after": TensorFlow is now loaded in the server). "burst": all sessions at the
same moment (idle and after only), a worst case.

Why protocol clients: 30 Chromium renderers on this 2-core machine took more CPU than the server
(tried first), so they measured the browsers, and AppTest neither
runs fragments on a timer nor goes through the server. Students' browsers run on their own
machines; the protocol clients load the server the same way and draw nothing.

`--trainer cli`: `python -m explorer train` starts the training just before the clicks, in its own
process on the same store, and the sessions join it: what training outside the server would give.
Target: one training for 30 sessions; p95 rerun < 0.5 s while training. 2-core shared machine.

    python bench/class_load.py --data-dir /path/to/mnist   # or EXPLORER_DATA_DIR; --trainer cli
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common
import st_client

TARGET_P95 = 0.5
DEFAULT_QUERY = "hidden1=64&hidden2=0&epochs=10&batch_size=16"
THINK = (2.0, 8.0)  # seconds between a session's slider moves (uniform)
NO_GC = ("STREAMLIT_RUNNER_POST_SCRIPT_GC", "false")  # the variant named in the result file
PHASE_SECONDS = 15.0  # length of the idle and after-training phases
CLOCK = time.time() - time.perf_counter()  # perf_counter -> wall clock (the store's)

PROBE = """document.addEventListener("keydown",
  () => { window.__keydown = performance.timeOrigin + performance.now(); }, true);"""
UPDATED = """([line, untrained]) => {
  const text = document.body.innerText, idle = text.includes("Not trained yet");
  const busy = !!document.querySelector('[data-testid="stProgress"]')
    || text.includes("Test accuracy");
  if (!text.includes(line) || (untrained ? !idle : idle || !busy)) return false;
  window.__seen = performance.timeOrigin + performance.now();
  return true;
}"""


def wider(hidden1: int) -> int:
    """The next width up on the slider's ladder: where one ArrowRight takes hidden layer 1."""
    from explorer.ui.controls import WIDTH_LADDERS

    return min(width for width in WIDTH_LADDERS["hidden1"] if width > hidden1)


def line(hidden1: int) -> str:
    return f"784 → {hidden1} → 10"


def shows(untrained: bool, hidden1: int):
    def done(run: st_client.ScriptRun) -> bool:
        idle = run.shows("Not trained yet")
        busy = run.shows("progress:") or run.shows("Test accuracy")
        return run.shows(line(hidden1)) and (idle if untrained else busy and not idle)

    return done


async def protocol_move(session, hidden1: int, untrained: bool, mode: str) -> dict:
    # The width slider steps along a ladder: one step is the next width on it (`wider`).
    sent = await session.set_choice("hidden1", str(hidden1))
    fragment = session.widget_fragments.get("hidden1", "")
    run = await session.full_run_after(sent, shows(untrained, hidden1), fragment_id=fragment)
    between = [r.status for r in session.runs if r.started >= sent and r.started <= run.started]
    return {
        "client": "protocol",
        "mode": mode,
        "at": sent + CLOCK,
        "s": run.finished - sent,
        "runs_until_match": between,
    }


async def burst(sessions, hidden1: int, untrained_back: bool) -> list[dict]:
    """Every session moves the slider at the same moment, then back."""
    away = [protocol_move(s, wider(hidden1), True, "burst") for s in sessions]
    results = list(await asyncio.gather(*away))
    back = [protocol_move(s, hidden1, untrained_back, "burst") for s in sessions]
    return results + list(await asyncio.gather(*back))


async def staggered(sessions, page, hidden1: int, untrained_back: bool, done) -> list[dict]:
    """Like a class: each session moves the slider and back every THINK seconds until `done()`."""

    async def student(session) -> list[dict]:
        results = []
        while not done():
            await asyncio.sleep(random.uniform(*THINK))
            if session is page:
                results += await browser_trips(page, hidden1, untrained_back, trips=1)
            elif not done():
                results.append(await protocol_move(session, wider(hidden1), True, "staggered"))
                results.append(await protocol_move(session, hidden1, untrained_back, "staggered"))
        return results

    return [r for found in await asyncio.gather(*map(student, [*sessions, page])) for r in found]


async def browser_move(page, key: str, target: int, untrained: bool) -> dict:
    await page.get_by_role("slider", name="Neurons in hidden layer 1").press(key)
    await page.wait_for_function(UPDATED, arg=[line(target), untrained], polling="raf")
    pressed, seen = await page.evaluate("[window.__keydown, window.__seen]")
    seconds = (seen - pressed) / 1000
    return {"client": "chromium", "mode": "observer", "at": pressed / 1000, "s": seconds}


async def browser_trips(page, hidden1: int, untrained_back: bool, trips: int = 5) -> list[dict]:
    results = []
    for _ in range(trips):
        results.append(await browser_move(page, "ArrowRight", wider(hidden1), True))
        results.append(await browser_move(page, "ArrowLeft", hidden1, untrained_back))
    return results


def run_row(home: str, key: str) -> tuple | None:
    """(status, started_at, finished_at) of the newest run of `key`, or None."""
    from explorer.store.registry import RunStore

    store = RunStore(home)
    try:
        record = store.find_latest(key)
    finally:
        store.close()
    return None if record is None else (record.status, record.started_at, record.finished_at)


def cpu_now(server_pid: int, trainer) -> dict:
    cpu = {
        "wall": time.time(),
        "server": common.cpu_seconds(server_pid),
        "chromium": 0.0,
        "clients": sum(os.times()[:2]),
        "trainer": 0.0,
    }
    pids = [(pid, "chromium") for pid in common.descendants(os.getpid())]
    # The page's trainer is the server's child process; --trainer cli is a process of ours.
    pids += [(pid, "trainer") for pid in common.descendants(server_pid)]
    for pid, name in pids + ([(trainer.pid, "trainer")] if trainer else []):
        with contextlib.suppress(OSError):  # gone (a trainer is readable until reaped)
            if name == "trainer" or "chrom" in Path(f"/proc/{pid}/comm").read_text():
                cpu[name] += common.cpu_seconds(pid)
    return cpu


def start_cli_trainer(config, data_dir: str, env: dict, log) -> subprocess.Popen:
    command = [sys.executable, "-m", "explorer", "train", "--json", "--data-dir", data_dir]
    for name, value in config.to_dict().items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    return subprocess.Popen(command, cwd=common.ROOT, env=env, stdout=log, stderr=log)


async def scenario(arguments, server, home: str, key: str, config, data_dir: str) -> dict:
    from playwright.async_api import async_playwright

    h1, samples, trainer = config.hidden1, [], None
    sessions = [
        await st_client.Session(server.url, arguments.query).open()
        for _ in range(arguments.sessions - 1)
    ]
    for session in sessions:
        await session.full_run_after(0, shows(True, h1))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=common.CHROMIUM, args=common.CHROMIUM_ARGS
        )
        log = (Path(home) / "trainer.log").open("w")
        try:
            context = await browser.new_context(viewport={"width": 1200, "height": 1000})
            page = await context.new_page()
            page.set_default_timeout(120_000)
            await page.add_init_script(PROBE)
            await page.goto(f"{server.url}/?{arguments.query}")
            await page.get_by_text("Not trained yet").wait_for()
            ends = time.monotonic() + PHASE_SECONDS
            idle = await staggered(sessions, page, h1, True, lambda: time.monotonic() > ends)
            samples += tag(idle + await burst(sessions, h1, True), "idle")

            cpu_before = cpu_now(server.pid, None)
            if arguments.trainer != "page":
                trainer = start_cli_trainer(config, data_dir, server.env, log)
                while run_row(home, key) is None and trainer.poll() is None:
                    await asyncio.sleep(0.05)

            async def click_later(session) -> float:
                await asyncio.sleep(random.uniform(0, 1))
                return await session.click("train") + CLOCK

            train = page.get_by_role("button", name="Train", exact=True)
            clicks = await asyncio.gather(*(click_later(s) for s in sessions), train.click())

            def trained() -> bool:
                row = run_row(home, key)
                return row is not None and row[0] not in ("queued", "running")

            samples += tag(await staggered(sessions, page, h1, False, trained), "training")
            cpu_during = cpu_now(server.pid, trainer)
            shown = 0
            for session in sessions:  # a whole page, or the Explore part a slider redrew
                explore = session.widget_fragments.get("hidden1", "")
                await session.full_run_after(
                    0, lambda run: run.shows("Test accuracy"), 180, fragment_id=explore
                )
                shown += 1
            await page.get_by_text("Test accuracy").first.wait_for(timeout=180_000)
            shown += 1
            ends = time.monotonic() + PHASE_SECONDS
            after = await staggered(sessions, page, h1, False, lambda: time.monotonic() > ends)
            samples += tag(after + await burst(sessions, h1, False), "after")
        finally:
            if trainer is not None and trainer.poll() is None:
                trainer.terminate()
                trainer.wait(30)
            log.close()
            for session in sessions:
                await session.close()
            await browser.close()
    requests = sum(session.requests for session in sessions)
    return {
        "samples": samples,
        "clicks": [c for c in clicks if c],
        "shown": shown,
        "requests": requests,
        "cpu": (cpu_before, cpu_during),
    }


def tag(samples: list[dict], phase: str) -> list[dict]:
    return [dict(sample, phase=phase) for sample in samples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    common.add_data_dir_argument(parser)
    parser.add_argument("--sessions", type=int, default=30, help="sessions in all (30)")
    parser.add_argument("--query", default=DEFAULT_QUERY, help=f"the link ({DEFAULT_QUERY})")
    parser.add_argument("--trainer", choices=("page", "cli"), default="page")
    arguments = parser.parse_args()
    data_dir = common.data_dir_from(arguments)
    common.announce("class_load")

    from explorer.config import TrainingConfig
    from explorer.data.sources import load_mnist

    config = TrainingConfig.from_mapping(dict(parse_qsl(arguments.query)))
    assert config.hidden2 == 0 and config.hidden1 < 1024, "the slider probe needs hidden2=0"
    from explorer.ui.controls import WIDTH_LADDERS

    # ArrowLeft from the next width up comes back only to a width on the ladder.
    assert config.hidden1 in WIDTH_LADDERS["hidden1"], "the slider probe needs a ladder width"
    key = config.cache_key(load_mnist(data_dir).fingerprint)
    with common.temporary_home("class-load") as home:
        env = common.bench_env(home, data_dir)
        with common.StreamlitServer(env, Path(home) / "server.log") as server:
            outcome = asyncio.run(scenario(arguments, server, home, key, config, data_dir))
        all_runs, key_runs = common.count_runs(home), common.count_runs(home, key)
        status, started, finished = run_row(home, key)
    report(arguments, outcome, all_runs, key_runs, status, started, finished)


def report(arguments, outcome, all_runs, key_runs, status, started, finished) -> None:
    samples = outcome["samples"]
    for sample in samples:  # "training" only if the move began while the run was running
        sample["since_run_started"] = sample["at"] - started
        if sample["phase"] == "training" and not started <= sample["at"] < finished:
            sample["phase"] = "training ended meanwhile"
    rows, table = [], {}
    for phase in ("idle", "training", "after"):
        for client, mode in (
            ("protocol", "staggered"),
            ("chromium", "observer"),
            ("protocol", "burst"),
        ):
            chosen = [
                s["s"]
                for s in samples
                if s["phase"] == phase and s["client"] == client and mode in (None, s["mode"])
            ]
            if not chosen:
                continue
            name = f"{phase}, {client}" + (f", {mode}" if mode and client == "protocol" else "")
            figures = common.summary(chosen)
            table[name] = figures
            base = table.get(name.replace(phase, "idle"))
            ratio = f"{figures['p95'] / base['p95']:.1f}x" if phase != "idle" and base else ""
            met = figures["p95"] < TARGET_P95 if phase == "training" and mode != "burst" else ""
            rows.append(
                [name, figures["n"], figures["median"], figures["p95"], figures["max"], ratio, met]
            )
    headers = ["rerun latency (s)", "n", "p50", "p95", "max", "p95 vs idle", "p95 < 0.5 s"]
    common.print_table(headers, rows)
    before, during = outcome["cpu"]
    window = during["wall"] - before["wall"]
    cpu = {name: during[name] - before[name] for name in ("server", "chromium", "clients")}
    cpu["trainer"] = during["trainer"]
    one_training = key_runs == {"complete": 1} and all_runs == {"complete": 1}
    clicks = outcome["clicks"]
    print(
        f"\ntrainer: {arguments.trainer}; Train pressed in {len(clicks) + 1} sessions within "
        f"{max(clicks) - min(clicks):.2f} s (+ the Chromium page)"
    )
    print(f"runs in the store: {all_runs} (this config: {key_runs}); one training: {one_training}")
    print(f"sessions showing Test accuracy: {outcome['shown']}/{arguments.sessions}")
    print(
        f"training ran {finished - started:.1f} s; CPU-s used in the {window:.1f} s from the "
        f"clicks to its end: "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
        + f" (of {2 * window:.1f})"
    )
    common.write_results(
        "class_load"
        + ("-cli" if arguments.trainer == "cli" else "")
        + ("-no-post-script-gc" if os.environ.get(NO_GC[0], "").lower() == NO_GC[1] else ""),
        {
            "sessions": arguments.sessions,
            "query": arguments.query,
            "trainer": arguments.trainer,
            "one_training": one_training,
            "runs_in_store": all_runs,
            "runs_for_config": key_runs,
            "status": status,
            "training_seconds": finished - started,
            "sessions_showing_result": outcome["shown"],
            "click_spread_s": max(clicks) - min(clicks),
            "rerun_requests_sent_by_protocol_sessions": outcome["requests"],
            "latency": table,
            "cpu_seconds": {"window_s": window, **cpu},
            "samples": samples,
            "streamlit_env": {k: v for k, v in os.environ.items() if k.startswith("STREAMLIT_")},
        },
    )


if __name__ == "__main__":
    main()
