"""The fair queue and the class's limits, with a fake trainer (no TensorFlow)."""

from __future__ import annotations

import pytest

from explorer.config import TrainingConfig
from explorer.service.jobs import COMMAND_LINE, LimitError, Requester
from explorer.service.queue import FairQueue, Limits
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore
from testkit.fakes import FakeTrainer, tiny_data
from tests.waiting import wait_until

A, B, C = (Requester(name * 8, "student") for name in "abc")
TEACHER = Requester("t" * 8, "teacher")


def config(number: int) -> TrainingConfig:
    return TrainingConfig(hidden1=number, hidden2=0, epochs=1)


@pytest.fixture
def trainer():
    return FakeTrainer(steps=1)


@pytest.fixture
def service(tmp_path, trainer):
    made = TrainingService(
        RunStore(tmp_path), lambda: tiny_data(), trainer=trainer, limits=Limits(drop_orphans=False)
    )
    yield made
    trainer.gate.set()
    made.shutdown()


def test_a_students_second_job_waits_behind_every_other_students_first(service, trainer):
    trainer.gate.clear()
    blocker = service.submit(config(1), TEACHER)  # holds the only trainer while the class queues
    wait_until(trainer.started.is_set)
    jobs = {
        "A1": service.submit(config(11), A),
        "A2": service.submit(config(12), A),
        "A3": service.submit(config(13), A),
        "B1": service.submit(config(21), B),
        "C1": service.submit(config(31), C),
    }
    waiting = [state.run_id for state in service.queue()][1:]
    assert waiting == [jobs[name].run_id for name in ("A1", "B1", "C1", "A2", "A3")]
    positions = {name: service.progress(job.run_id).position for name, job in jobs.items()}
    assert positions == {"A1": 0, "B1": 1, "C1": 2, "A2": 3, "A3": 4}
    trainer.gate.set()
    for job in [blocker, *jobs.values()]:
        assert service.wait(job.run_id, timeout=10).status == "complete"
    trained = [call.hidden1 for call in trainer.calls]
    assert trained == [1, 11, 21, 31, 12, 13]


def test_the_per_session_limit_refuses_with_a_message(service, trainer):
    trainer.gate.clear()
    for number in (1, 2, 3):
        service.submit(config(number), A)
    with pytest.raises(LimitError, match="You already have 3 runs queued or training"):
        service.submit(config(4), A)
    service.submit(config(5), B)  # another student is not held back
    service.submit(config(6), TEACHER)  # nor is the teacher


def test_the_cost_cap_refuses_a_long_student_job_before_it_is_queued(tmp_path, trainer):
    capped = TrainingService(
        RunStore(tmp_path), lambda: tiny_data(), trainer=trainer, limits=Limits(max_job_seconds=1)
    )
    try:
        huge = TrainingConfig(hidden1=1024, hidden2=512, batch_size=1, epochs=50)
        with pytest.raises(LimitError) as refused:
            capped.submit(huge, A)
        message = str(refused.value)
        assert "over the class's limit of 1 s" in message
        assert "fewer epochs, a bigger batch or a smaller share" in message
        assert capped.runs() == []  # refused before it was queued
        assert not capped.submit(huge, TEACHER).cached  # the teacher is not capped
        assert not capped.submit(huge.replace(seed=1), COMMAND_LINE).cached
    finally:
        trainer.gate.set()
        capped.shutdown()


def test_a_students_stop_only_cancels_a_run_nobody_else_waits_for(service, trainer):
    trainer.gate.clear()
    shared = service.submit(config(7), A)
    assert service.submit(config(7), B).attached
    message = service.stop(shared.run_id, A)
    assert message.startswith("You stopped waiting for this run; 1 other session")
    assert not service.progress(shared.run_id).stop_requested
    assert service.stop(shared.run_id, B).startswith("Stop")  # the last one waiting cancels it
    trainer.gate.set()
    assert service.wait(shared.run_id, timeout=10).status == "stopped"


def test_students_never_delete(service):
    run = service.submit(config(8), A)
    service.wait(run.run_id, timeout=10)
    with pytest.raises(LimitError, match="Only the teacher can delete"):
        service.delete([run.run_id], A)
    service.delete([run.run_id], TEACHER)
    assert service.get(run.run_id) is None


def test_a_queued_job_nobody_waits_for_is_dropped(tmp_path, trainer):
    dropping = TrainingService(
        RunStore(tmp_path),
        lambda: tiny_data(),
        trainer=trainer,
        limits=Limits(drop_orphans=True, orphan_seconds=0.0),
    )
    try:
        trainer.gate.clear()
        dropping.submit(config(1), COMMAND_LINE)  # holds the trainer meanwhile
        wait_until(trainer.started.is_set)
        gone = dropping.submit(config(2), A)  # A closes the tab: seen no more
        kept = dropping.submit(config(3), COMMAND_LINE)  # the command line always waits
        trainer.gate.set()
        final = dropping.wait(gone.run_id, timeout=10)
        assert final.status == "stopped" and "Nobody was waiting" in final.error
        assert dropping.wait(kept.run_id, timeout=10).status == "complete"
    finally:
        trainer.gate.set()
        dropping.shutdown()


def test_the_queue_serves_equal_rounds_in_arrival_order():
    queue = FairQueue()

    class Stub:
        pass

    jobs = [Stub() for _ in range(4)]
    for job, fair_round in zip(jobs, (1, 0, 1, 0), strict=True):
        queue.put(job, fair_round)
    assert [queue.take(0) for _ in range(4)] == [jobs[1], jobs[3], jobs[0], jobs[2]]
    assert queue.take(0.01) is None
