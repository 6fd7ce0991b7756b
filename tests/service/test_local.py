"""Training in child processes (explorer.service.local), as the page's service does it: results,
stop, death, a hung child (the watchdog), recycling, and a server that dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from explorer.config import TrainingConfig
from explorer.service.local import LocalPool, TrainerProcess, TrainerSettings
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore
from tests.waiting import read_line, wait_until

ROOT = Path(__file__).resolve().parents[2]
SMALL = TrainingConfig(hidden1=32, hidden2=0, epochs=2, batch_size=500)
LONG = TrainingConfig(hidden1=32, hidden2=0, epochs=50)


def pool_service(home, data, workers=1, **settings) -> TrainingService:
    pool = LocalPool(workers, TrainerSettings(**settings))
    return TrainingService(RunStore(home), data_loader=lambda: data, executor=pool)


def child_pid(service: TrainingService, slot: int = 0) -> int | None:
    return service.executor.trainers[slot].pid


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_child_trains_the_same_result_as_this_process(tmp_path, sample_data):
    child = pool_service(tmp_path / "child", sample_data)
    run_id = child.submit(SMALL).run_id
    seen_epochs = set()

    def finished():
        progress = child.progress(run_id)
        seen_epochs.add(len(progress.history))
        return progress if progress.finished else None

    progress = wait_until(finished, timeout=120, interval=0.02)
    assert progress.status == "complete", progress.error
    assert child_pid(child) not in (None, os.getpid())
    assert child.get(run_id).worker == f"local:{child_pid(child)}"
    assert len(progress.history) == 2 and seen_epochs <= {0, 1, 2}

    here = TrainingService(RunStore(tmp_path / "here"), lambda: sample_data)
    here_run = here.submit(SMALL).run_id
    here.wait(here_run, timeout=120)
    # Seeded and deterministic: the process boundary changes nothing, to the last bit.
    in_child, in_here = child.weights(run_id), here.weights(here_run)
    assert all((a == b).all() for a, b in zip(in_child, in_here, strict=True))
    assert child.get(run_id).summary["test_accuracy"] == here.get(here_run).summary["test_accuracy"]


def test_stop_reaches_the_child_and_keeps_finished_epochs(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data)
    run_id = service.submit(LONG).run_id
    wait_until(lambda: len(service.progress(run_id).history) >= 1, timeout=120)
    assert service.stop(run_id) == "Stopping after the current batch…"
    assert service.wait(run_id, timeout=60).status == "stopped"
    assert 1 <= len(service.get(run_id).history) < 50


@pytest.mark.parametrize(
    ("sent", "name"), [(signal.SIGKILL, "SIGKILL"), (signal.SIGTERM, "SIGTERM")]
)
def test_a_child_ended_by_a_signal_interrupts_its_run_and_the_next_gets_a_new_child(
    tmp_path, sample_data, sent, name
):
    service = pool_service(tmp_path, sample_data)
    run_id = service.submit(LONG).run_id
    wait_until(lambda: service.progress(run_id).step > 0, timeout=120)
    first_child = child_pid(service)
    os.kill(first_child, sent)
    progress = service.wait(run_id, timeout=30)
    # Killed from outside is "interrupted" (it used to say "failed, exit -15").
    assert (progress.status, progress.error) == (
        "interrupted",
        f"The training process was ended by signal {name}.",
    )
    assert service.get(run_id).status == "interrupted"
    next_run = service.submit(SMALL).run_id
    assert service.wait(next_run, timeout=120).status == "complete"
    assert child_pid(service) != first_child


def test_a_hung_child_is_ended_by_the_watchdog_and_the_queue_goes_on(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, watchdog_seconds=3.0)
    hung = service.submit(LONG).run_id
    queued = service.submit(SMALL).run_id
    wait_until(lambda: service.progress(hung).step > 0, timeout=120)
    frozen = child_pid(service)
    os.kill(frozen, signal.SIGSTOP)  # alive, but answers nothing: a stuck kernel looks the same
    try:
        progress = service.wait(hung, timeout=30)
        assert progress.status == "interrupted"
        assert progress.error.startswith("The trainer stopped answering for 3 s")
        assert service.wait(queued, timeout=120).status == "complete"
        wait_until(lambda: not alive(frozen), timeout=10)
    finally:
        if alive(frozen):
            os.kill(frozen, signal.SIGKILL)


def test_a_stop_that_is_not_obeyed_ends_the_child(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, stop_grace_seconds=2.0, watchdog_seconds=60)
    run_id = service.submit(LONG).run_id
    wait_until(lambda: service.progress(run_id).step > 0, timeout=120)
    frozen = child_pid(service)
    os.kill(frozen, signal.SIGSTOP)
    try:
        service.stop(run_id)
        progress = service.wait(run_id, timeout=30)
        assert progress.status == "stopped"  # what the teacher asked for, by force
        assert progress.error == "Stopped: the trainer did not stop within 2 s, so it was ended."
    finally:
        if alive(frozen):
            os.kill(frozen, signal.SIGKILL)


@pytest.mark.parametrize("limit", [{"max_runs": 1}, {"max_rss_mb": 1.0}])
def test_a_child_is_recycled_at_its_limit_between_jobs(tmp_path, sample_data, limit):
    """TensorFlow's memory grows run by run (+5 to +21 MiB a run, measured): past a number of
    runs or a size, the child ends after its job and the next job starts a fresh one."""
    service = pool_service(tmp_path, sample_data, **limit)
    pids = []
    for hidden in (8, 9, 10):
        run_id = service.submit(SMALL.replace(hidden1=hidden)).run_id
        assert service.wait(run_id, timeout=120).status == "complete"
        pids.append(service.get(run_id).worker)
    assert len(set(pids)) == 3  # a new child for every run
    assert service.executor.trainers[0].recycles == 3


def test_an_idle_child_exits_and_gives_its_memory_back(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, idle_seconds=2.0)
    first = service.submit(SMALL).run_id
    assert service.wait(first, timeout=120).status == "complete"
    idle = child_pid(service)
    wait_until(lambda: service.executor.trainers[0].process.poll() is not None, timeout=20)
    assert not alive(idle)
    second = service.submit(SMALL.replace(hidden1=9)).run_id  # a new child, at no other cost
    assert service.wait(second, timeout=120).status == "complete"


def test_two_workers_train_two_configs_at_once(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, workers=2)
    runs = [service.submit(SMALL.replace(hidden1=h, epochs=3)).run_id for h in (16, 17)]
    records = [service.wait(run_id, timeout=180) and service.get(run_id) for run_id in runs]
    assert [record.status for record in records] == ["complete", "complete"]
    assert records[0].worker != records[1].worker
    first, second = sorted(records, key=lambda record: record.started_at)
    assert second.started_at < first.finished_at  # their running intervals overlap


def test_killing_one_worker_leaves_the_other_run_complete(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, workers=2)
    doomed = service.submit(LONG).run_id
    survivor = service.submit(SMALL.replace(epochs=4)).run_id
    wait_until(lambda: service.progress(doomed).step > 0, timeout=120)
    assert len({trainer.pid for trainer in service.executor.trainers}) == 2
    victim = next(
        trainer.pid
        for trainer in service.executor.trainers
        if service.progress(doomed).worker == f"local:{trainer.pid}"
    )
    os.kill(victim, signal.SIGKILL)
    assert service.wait(doomed, timeout=30).status == "interrupted"
    assert service.wait(survivor, timeout=180).status == "complete"
    store = RunStore(tmp_path)
    assert {r.status for r in store.list_runs()} == {"interrupted", "complete"}


SERVER_STAND_IN = textwrap.dedent(
    """
    import json, sys, time
    from explorer.config import TrainingConfig
    from explorer.service.service import create_service

    if __name__ == "__main__":
        service = create_service(None, sys.argv[1], workers=1)
        run_id = service.submit(TrainingConfig(hidden1=1024, hidden2=512, epochs=50)).run_id
        while service.progress(run_id).step == 0:
            time.sleep(0.05)
        print(json.dumps({"child": service.executor.trainers[0].pid,
                          "tensorflow_here": "tensorflow" in sys.modules}), flush=True)
        time.sleep(600)
    """
)


def test_server_never_loads_tensorflow_and_its_child_dies_with_it(tmp_path, monkeypatch):
    monkeypatch.setattr("explorer.store.leases.LEASE_SECONDS", 0.5)
    script = tmp_path / "server.py"
    script.write_text(SERVER_STAND_IN)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        report = json.loads(read_line(server, "{", timeout=120))
    finally:
        server.kill()
        server.wait()
    assert report["tensorflow_here"] is False  # training runs, yet the server has no TensorFlow
    child = report["child"]
    try:  # the child checks on its server every second
        wait_until(lambda: not alive(child), timeout=5, interval=0.1)
    except AssertionError:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the training process outlived its server")
    # Its lease ran out: the next look at the store marks the run interrupted.
    store = RunStore(tmp_path / "home")
    wait_until(lambda: store.interrupt_expired() == 1, timeout=5)
    assert [run.status for run in store.list_runs()] == ["interrupted"]


def test_a_page_view_warms_a_trainer_again_after_it_gave_its_memory_back(tmp_path, sample_data):
    service = pool_service(tmp_path, sample_data, idle_seconds=2.0)
    trainer = service.executor.trainers[0]
    assert trainer.pid is None and service.executor.start_seconds() > 0  # nothing started yet
    service.warm()  # the first page view
    first = wait_until(lambda: trainer.pid, timeout=30)
    wait_until(lambda: trainer.process.poll() is not None, timeout=60)  # idle: it exits
    assert service.executor.start_seconds() > 0  # the estimate counts the start again
    service.warm()  # the next page view
    wait_until(lambda: trainer.pid not in (None, first) and trainer.process.poll() is None, 30)


def test_the_estimate_drops_the_start_once_the_warmed_trainer_is_ready(tmp_path, sample_data):
    """The page's estimate counted a start still to pay until the first job read the child's
    "ready" (it said 6.8 s for a 3 s training 5 s after the first page view)."""
    service = pool_service(tmp_path, sample_data)
    assert service.executor.start_seconds() > 0
    service.warm()  # the first page view
    wait_until(lambda: service.executor.trainers[0].pid, timeout=30)
    wait_until(lambda: not service.warming, timeout=60)  # TensorFlow loaded
    assert service.executor.start_seconds() == 0
    assert 0 < TrainerProcess.measured_start_seconds < 60


def test_a_stop_that_reaches_the_trainer_while_it_warms_up_still_stops_the_job(
    tmp_path, sample_data
):
    """Stop pressed while the trainer was still loading TensorFlow or warming up reached it
    before the job did, and the job then cleared it and trained to the end (a teacher's Stop
    was lost)."""
    service = pool_service(tmp_path, sample_data)
    submission = service.submit(LONG)
    wait_until(lambda: child_pid(service), timeout=30)  # the job is in hand: the child starts
    service.stop(submission.run_id)
    progress = service.wait(submission.run_id, timeout=120)
    assert progress is not None and progress.status == "stopped", progress
    # The stop was for that run only: the next one trains to the end.
    follow_up = service.submit(SMALL)
    assert service.wait(follow_up.run_id, timeout=120).status == "complete"
