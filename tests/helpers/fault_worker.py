"""Processes for tests/test_faults.py: `python -m tests.helpers.fault_worker MODE HOME [ARGS]`.

Run from the repository root so `explorer` and `tests` are importable. Modes:

    hold HOME HIDDEN1          claim a run, mark it running, save one epoch, print READY, sleep
    hold-finish HOME HIDDEN1   ... then start `finish` and sleep half-way through the files
    swarm HOME INDEX GO_FILE   a TrainingService with a fake trainer: wait for GO_FILE, submit
                               3 overlapping configs, list runs meanwhile, print a JSON report;
                               no run finishes before every process has submitted (a file
                               handshake next to GO_FILE), so some must join another's run
"""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback
from pathlib import Path

from explorer.config import TrainingConfig
from explorer.store.leases import new_instance_id
from explorer.store.registry import RunStore
from testkit.fakes import FakeTrainer, fake_result, tiny_data

DATA = tiny_data()
HISTORY = [
    {"epoch": 1, "loss": 0.5, "accuracy": 0.8, "test_loss": 0.4, "test_accuracy": 0.85},
]
SWARM_PROCESSES = 8


def held_config(hidden1: int) -> TrainingConfig:
    return TrainingConfig(hidden1=hidden1, hidden2=0, epochs=3)


def swarm_config(number: int) -> TrainingConfig:
    """Config `number` (taken modulo the number of processes) of the 8-process swarm."""
    return TrainingConfig(hidden1=4 + number % SWARM_PROCESSES, hidden2=0, epochs=2)


def hold(home: str, hidden1: int, during_finish: bool) -> None:
    store = RunStore(home)
    instance = new_instance_id()
    store.register_instance(instance)

    def renew():  # hold the lease, as a server or command does
        while True:
            store.renew_instance(instance)
            time.sleep(1)

    threading.Thread(target=renew, daemon=True).start()
    config = held_config(hidden1)
    key = config.cache_key(DATA.fingerprint)
    run_id, created = store.claim(config, key, "data-dir", owner=instance)
    assert created, "the held config was already active"
    store.mark_running(run_id)
    store.save_progress(run_id, HISTORY)
    if not during_finish:
        print(f"READY {run_id} {instance}", flush=True)
        time.sleep(120)
        return

    import numpy as np

    def half_written(handle, **arrays):  # write part of the first file, then hang there
        handle.write(b"PK\x03\x04 half of a zip file")
        handle.flush()
        print(f"READY {run_id} {instance}", flush=True)
        time.sleep(120)

    np.savez_compressed = half_written
    store.finish(run_id, fake_result(config, DATA, HISTORY * 3))


def submitted_file(go_file: str, index: int) -> Path:
    """The file process `index` of the swarm makes once it has submitted all its configs."""
    return Path(go_file).with_name(f"submitted-{index}")


def wait_for_files(paths: list[Path], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not all(path.exists() for path in paths):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} never appeared")
        time.sleep(0.005)


def swarm(home: str, index: int, go_file: str) -> None:
    fake = FakeTrainer(steps=3)
    everyone_submitted = [submitted_file(go_file, other) for other in range(SWARM_PROCESSES)]

    def held_trainer(config, data, *, progress=None, stop=None):
        # A barrier: no run finishes before every process has submitted, so every config's
        # later submissions find its run active and join it.
        wait_for_files(everyone_submitted, "the other processes' submissions")
        return fake(config, data, progress=progress, stop=stop)

    from explorer.service.service import TrainingService

    service = TrainingService(RunStore(home), lambda: DATA, trainer=held_trainer)
    errors: list[str] = []
    listings = 0
    done = threading.Event()

    def keep_listing() -> None:
        nonlocal listings
        while not done.is_set():
            try:
                service.store.list_runs()
                listings += 1
            except Exception:
                errors.append(traceback.format_exc())
            time.sleep(0.01)

    print("ARRIVED", flush=True)
    wait_for_files([Path(go_file)], "the go file")  # start together: all have imported by now
    lister = threading.Thread(target=keep_listing, daemon=True)
    lister.start()
    report: dict = {"index": index, "submissions": [], "trainer_calls": 0}
    try:
        submissions = []
        for number in (index, index + 1, index + 2):
            config = swarm_config(number)
            submissions.append((config, service.submit(config)))
            service.store.list_runs()
        submitted_file(go_file, index).touch()
        for config, submission in submissions:
            final = service.wait(submission.run_id, timeout=20)
            report["submissions"].append(
                {
                    "hidden1": config.hidden1,
                    "run_id": submission.run_id,
                    "cached": submission.cached,
                    "attached": submission.attached,
                    "status": None if final is None else final.status,
                    "error": None if final is None else final.error,
                }
            )
    except Exception:
        errors.append(traceback.format_exc())
    finally:
        done.set()
        lister.join(5)
        service.shutdown()
    report.update(trainer_calls=len(fake.calls), listings=listings, errors=errors)
    print(json.dumps(report), flush=True)
    sys.exit(1 if errors else 0)


def main(argv: list[str]) -> None:
    mode, home, *rest = argv
    if mode in ("hold", "hold-finish"):
        hold(home, int(rest[0]), during_finish=mode == "hold-finish")
    elif mode == "swarm":
        swarm(home, int(rest[0]), rest[1])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
