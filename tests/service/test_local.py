"""Training in a child process (explorer.service.local), as the page's service does it."""

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
from explorer.service.service import TrainingService
from explorer.store.records import process_alive
from explorer.store.registry import RunStore
from tests.waiting import read_line, wait_until

ROOT = Path(__file__).resolve().parents[2]
SMALL = TrainingConfig(hidden1=32, hidden2=0, epochs=2, batch_size=500)


def isolated_service(home, data) -> TrainingService:
    return TrainingService(RunStore(home), data_loader=lambda: data, isolated=True)


def test_child_trains_the_same_result_as_the_worker_thread(tmp_path, sample_data):
    child = isolated_service(tmp_path / "child", sample_data)
    run_id = child.submit(SMALL).run_id
    seen_epochs = set()

    def finished():
        progress = child.progress(run_id)
        seen_epochs.add(len(progress.history))
        return progress if progress.finished else None

    progress = wait_until(finished, timeout=120, interval=0.02)
    assert progress.status == "complete", progress.error
    assert child._trainer_process._process.pid not in (None, os.getpid())
    assert len(progress.history) == 2 and seen_epochs <= {0, 1, 2}

    thread = TrainingService(RunStore(tmp_path / "thread"), lambda: sample_data)
    thread_run = thread.submit(SMALL).run_id
    thread.wait(thread_run, timeout=120)
    in_child = child.store.load_predictions(run_id)
    in_thread = thread.store.load_predictions(thread_run)
    # Seeded and deterministic: the process boundary changes nothing, to the last bit.
    assert (
        child.store.get(run_id).summary["test_accuracy"]
        == (thread.store.get(thread_run).summary["test_accuracy"])
    )
    assert (in_child.predicted_labels == in_thread.predicted_labels).all()
    child.shutdown()
    thread.shutdown()


def test_stop_reaches_the_child_and_keeps_finished_epochs(tmp_path, sample_data):
    service = isolated_service(tmp_path, sample_data)
    run_id = service.submit(TrainingConfig(hidden1=32, hidden2=0, epochs=50)).run_id
    wait_until(lambda: len(service.progress(run_id).history) >= 1)
    assert service.stop(run_id)
    progress = service.wait(run_id, timeout=60)
    assert progress.status == "stopped"
    assert 1 <= len(service.store.get(run_id).history) < 50
    service.shutdown()


def test_a_killed_child_fails_its_run_and_the_next_run_gets_a_new_child(tmp_path, sample_data):
    service = isolated_service(tmp_path, sample_data)
    run_id = service.submit(TrainingConfig(hidden1=32, hidden2=0, epochs=50)).run_id
    wait_until(lambda: service.progress(run_id).step > 0)
    first_child = service._trainer_process._process.pid
    os.kill(first_child, signal.SIGKILL)
    progress = service.wait(run_id, timeout=30)
    assert progress.status == "failed"
    assert "training process ended unexpectedly" in progress.error
    assert progress.error.startswith("The training process")  # said plainly, no class names
    assert service.store.get(run_id).status == "failed"

    next_run = service.submit(SMALL).run_id
    assert service.wait(next_run, timeout=120).status == "complete"
    assert service._trainer_process._process.pid != first_child
    service.shutdown()


SERVER_STAND_IN = textwrap.dedent(
    """
    import json, sys, time
    from explorer.config import TrainingConfig
    from explorer.service.service import create_service

    if __name__ == "__main__":
        service = create_service(None, sys.argv[1])
        run_id = service.submit(TrainingConfig(hidden1=1024, hidden2=512, epochs=50)).run_id
        while service.progress(run_id).step == 0:
            time.sleep(0.05)
        print(json.dumps({"child": service._trainer_process._process.pid,
                          "tensorflow_here": "tensorflow" in sys.modules}), flush=True)
        time.sleep(600)
    """
)


def test_server_never_loads_tensorflow_and_its_child_dies_with_it(tmp_path):
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
        wait_until(lambda: not process_alive(child), timeout=4, interval=0.1)
    except AssertionError:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the training process outlived its server")
    # The next server marks the run interrupted instead of waiting for it forever.
    record = RunStore(tmp_path / "home")
    record.mark_orphans_interrupted()
    assert [run.status for run in record.list_runs()] == ["interrupted"]
