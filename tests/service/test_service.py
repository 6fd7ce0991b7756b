"""The training service: cache hits, dedup, progress, stop and failures (fake trainer, no TF)."""

import pytest

from explorer.config import TrainingConfig
from explorer.service.service import TrainingService
from explorer.store.records import StoreError
from explorer.store.registry import RunStore
from testkit.fakes import FakeTrainer, tiny_data
from tests.waiting import wait_until

CONFIG = TrainingConfig(hidden1=8, hidden2=0, epochs=3)


@pytest.fixture
def trainer():
    return FakeTrainer()


@pytest.fixture
def service(tmp_path, trainer):
    data = tiny_data()
    service = TrainingService(RunStore(tmp_path), data_loader=lambda: data, trainer=trainer)
    yield service
    trainer.gate.set()
    service.shutdown()


def test_submit_trains_once_then_hits_the_cache(service, trainer):
    first = service.submit(CONFIG)
    assert not first.cached and not first.attached
    final = service.wait(first.run_id, timeout=10)
    assert final.status == "complete"
    assert [record["epoch"] for record in final.history] == [1, 2, 3]
    second = service.submit(CONFIG)
    assert second.cached and second.run_id == first.run_id
    assert service.get(second.run_id).summary["epochs_completed"] == 3
    assert len(trainer.calls) == 1


def test_cache_survives_a_restart(tmp_path, trainer):
    data = tiny_data()
    first = TrainingService(RunStore(tmp_path), lambda: data, trainer=trainer)
    run_id = first.submit(CONFIG).run_id
    first.wait(run_id, timeout=10)
    first.shutdown()
    restarted = TrainingService(RunStore(tmp_path), lambda: data, trainer=FakeTrainer())
    submission = restarted.submit(CONFIG)
    assert submission.cached and submission.run_id == run_id


def test_two_sessions_same_config_share_one_training(service, trainer):
    trainer.gate.clear()
    first = service.submit(CONFIG)
    second = service.submit(CONFIG)
    assert second.attached and second.run_id == first.run_id
    assert service.latest(CONFIG).run_id == first.run_id and service.latest(CONFIG).is_active
    trainer.gate.set()
    assert service.wait(first.run_id, timeout=10).status == "complete"
    assert len(trainer.calls) == 1


def test_progress_is_visible_while_running(service, trainer):
    trainer.gate.clear()
    run_id = service.submit(CONFIG).run_id
    wait_until(trainer.started.is_set)
    snapshot = service.progress(run_id)
    assert snapshot.status == "running"
    assert (snapshot.epochs, snapshot.steps_per_epoch) == (3, 3)
    assert not snapshot.finished
    trainer.gate.set()
    final = service.wait(run_id, timeout=10)
    assert final.fraction == 1.0
    assert final.finished


def test_stop_keeps_partial_history_and_is_seen_by_every_session(service, trainer):
    trainer.gate.clear()
    run_id = service.submit(CONFIG).run_id
    wait_until(trainer.started.is_set)
    assert service.stop(run_id) == "Stopping after the current batch…"
    assert service.progress(run_id).stop_requested  # what any other session polling sees
    trainer.gate.set()
    final = service.wait(run_id, timeout=10)
    assert final.status == "stopped"
    record = service.store.get(run_id)
    assert record.status == "stopped"
    assert record.summary["stopped"] is True
    assert service.lookup(CONFIG) is None  # a stopped run is not served as the cached result
    assert service.latest(CONFIG).run_id == run_id


def test_a_failing_training_is_marked_failed_and_the_service_keeps_serving(tmp_path):
    data = tiny_data()
    failing = FakeTrainer(fail_with=RuntimeError("injected TensorFlow failure"))
    service = TrainingService(RunStore(tmp_path), lambda: data, trainer=failing)
    run_id = service.submit(CONFIG).run_id
    final = service.wait(run_id, timeout=10)
    assert final.status == "failed"
    assert "injected TensorFlow failure" in final.error
    assert service.store.get(run_id).error == "RuntimeError: injected TensorFlow failure"
    failing.fail_with = None
    other = service.submit(CONFIG.replace(hidden1=9))
    assert service.wait(other.run_id, timeout=10).status == "complete"
    # The failed config can be trained again.
    retry = service.submit(CONFIG)
    assert retry.run_id != run_id
    assert service.wait(retry.run_id, timeout=10).status == "complete"
    service.shutdown()


def test_jobs_queue_one_after_another(service, trainer):
    trainer.gate.clear()
    first = service.submit(CONFIG)
    second = service.submit(CONFIG.replace(hidden1=9))
    wait_until(trainer.started.is_set)
    assert service.progress(first.run_id).status == "running"
    waiting = service.progress(second.run_id)
    assert (waiting.status, waiting.position) == ("queued", 0)  # next to start
    assert waiting.wait_seconds > 0  # the first one's time left
    assert [state.run_id for state in service.queue()] == [first.run_id, second.run_id]
    trainer.gate.set()
    assert service.wait(second.run_id, timeout=10).status == "complete"
    assert service.progress(first.run_id).status == "complete"


def test_stopping_a_queued_job_never_trains_it(service, trainer):
    trainer.gate.clear()
    first = service.submit(CONFIG)
    wait_until(trainer.started.is_set)
    second = service.submit(CONFIG.replace(hidden1=9))
    assert service.stop(second.run_id) == "Stopped before it started."
    assert service.progress(second.run_id).status == "stopped"
    trainer.gate.set()
    assert service.wait(first.run_id, timeout=10).status == "complete"
    assert service.wait(second.run_id, timeout=10).status == "stopped"
    assert trainer.calls == [CONFIG]


def test_calibration_learns_from_complete_runs(service):
    assert service.calibration().measured_runs == 0
    service.wait(service.submit(CONFIG).run_id, timeout=10)
    assert service.calibration().measured_runs == 1


def test_a_run_with_damaged_files_is_trained_again_and_others_stay_intact(service, trainer):
    first = service.submit(CONFIG)
    other = service.submit(CONFIG.replace(hidden1=9))
    service.wait(first.run_id, timeout=10)
    service.wait(other.run_id, timeout=10)
    (service.store.runs_dir / first.run_id / "predictions.npz").write_bytes(b"garbage")
    with pytest.raises(StoreError, match="damaged"):  # found when a page reads them
        service.predictions(first.run_id)
    again = service.submit(CONFIG)
    assert not again.cached and again.run_id != first.run_id
    assert service.store.get(first.run_id).status == "failed"
    assert "damaged" in service.store.get(first.run_id).error
    assert service.wait(again.run_id, timeout=10).status == "complete"
    assert service.submit(CONFIG.replace(hidden1=9)).cached  # the other run is untouched
    assert service.store.load_predictions(other.run_id).predicted_labels.shape == (30,)


def test_a_run_whose_files_are_gone_is_trained_again_at_once(service):
    first = service.submit(CONFIG)
    service.wait(first.run_id, timeout=10)
    (service.store.runs_dir / first.run_id / "weights.npz").unlink()
    again = service.submit(CONFIG)
    assert not again.cached and again.run_id != first.run_id
    assert service.wait(again.run_id, timeout=10).status == "complete"


def test_a_broken_data_folder_is_reported_once_in_the_log_never_raised_in_a_thread(
    tmp_path, capsys
):
    from explorer.data.files import MnistFileError
    from explorer.service.executors import InProcess

    class SlowToStart(InProcess):
        """An executor with trainers to start, as child processes have."""

        def start_seconds(self) -> float:
            return 5.0

    def broken() -> None:
        raise MnistFileError("The data folder holds only some of the MNIST files.")

    service = TrainingService(RunStore(tmp_path), data_loader=broken, executor=SlowToStart())
    try:
        for _ in range(3):  # three page views
            service.warm()
            wait_until(lambda: not service.warming, timeout=10)
    finally:
        service.shutdown()
    log = capsys.readouterr().err.splitlines()
    expected = (
        "The trainers could not get ready: The data folder holds only some of the MNIST files."
    )
    assert log.count(expected) == 1
    assert not any("Traceback" in line for line in log)


def test_the_teacher_token_is_made_once_and_kept_for_the_servers_account_only(tmp_path, service):
    token = service.teacher_token()
    path = tmp_path / "teacher_token"
    assert path.read_text() == token and len(token) >= 16
    assert path.stat().st_mode & 0o777 == 0o600
    assert service.teacher_token() == token  # read back, not made again


def test_the_service_says_how_many_runs_train_at_once_and_what_a_start_costs(service):
    assert service.slots == 1  # this process, one worker thread
    assert service.start_seconds() == 0.0  # nothing to start in this process
