"""The machine's TPE search, with a fake trainer: within limits, seeded, resumable, polite."""

from __future__ import annotations

import dataclasses
import math

import optuna
import pytest

from explorer.architecture import total_parameters
from explorer.config import BOUNDS, TrainingConfig
from explorer.service.classroom import classroom_of
from explorer.service.jobs import COMMAND_LINE, LimitError, Requester
from explorer.service.queue import Limits
from explorer.service.search import MACHINE, MachineSearch, SearchSpec, start_search
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore
from testkit.classroom import ScoringTrainer
from testkit.fakes import tiny_data
from tests.waiting import wait_until

SPEC = SearchSpec(seed=3, max_params=20_000, max_epochs=3)
STUDENT = Requester("s" * 8, "student")


def accuracy(config: TrainingConfig) -> tuple[float, float]:
    """Wider first layers and the middle learning rates score better (something to find)."""
    score = (
        0.5 + 0.04 * math.log2(config.hidden1) - 0.05 * abs(math.log10(config.learning_rate) + 2)
    )
    score = min(0.99, max(0.05, score))
    return score, score


@pytest.fixture(autouse=True)
def quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def make(home, trainer=None):
    trainer = trainer or ScoringTrainer(accuracy)
    service = TrainingService(
        RunStore(home),
        lambda: tiny_data(test=200),
        trainer=trainer,
        limits=Limits(drop_orphans=False),
    )
    return classroom_of(service), trainer


def configs(classroom, search) -> list[TrainingConfig]:
    return [classroom.service.get(trial.run_id).config for trial in search.trials()]


def test_ten_trials_stay_within_the_limits_and_the_sliders(tmp_path):
    classroom, _ = make(tmp_path)
    search = MachineSearch(classroom, SPEC)
    run_ids = search.run(10)
    assert len(run_ids) == 10
    for config in configs(classroom, search):
        assert total_parameters(config) <= 20_000
        assert 1 <= config.epochs <= 3
        assert BOUNDS["hidden1"][0] <= config.hidden1 <= BOUNDS["hidden1"][1]
        assert 0 <= config.hidden2 <= BOUNDS["hidden2"][1]
    records = [classroom.service.get(run_id) for run_id in run_ids]
    assert all(record.status == "complete" for record in records)
    classroom.service.shutdown()


def test_the_same_seed_gives_the_same_trials_and_another_seed_others(tmp_path):
    first, _ = make(tmp_path / "a")
    second, _ = make(tmp_path / "b")
    other, _ = make(tmp_path / "c")
    searches = [
        MachineSearch(first, SPEC),
        MachineSearch(second, SPEC),
        MachineSearch(other, SearchSpec(seed=4, max_params=20_000, max_epochs=3)),
    ]
    for search in searches:
        search.run(8)
    found = [
        configs(classroom, search)
        for classroom, search in zip((first, second, other), searches, strict=True)
    ]
    assert found[0] == found[1]
    assert found[0] != found[2]
    for classroom in (first, second, other):
        classroom.service.shutdown()


def test_a_restart_carries_the_search_on_from_the_store(tmp_path):
    straight, _ = make(tmp_path / "straight")
    uninterrupted = MachineSearch(straight, SPEC)
    uninterrupted.run(10)
    expected = configs(straight, uninterrupted)
    straight.service.shutdown()

    before, _ = make(tmp_path / "restarted")
    MachineSearch(before, SPEC).run(4)
    before.service.shutdown()
    after, trainer = make(tmp_path / "restarted")
    resumed = MachineSearch(after, SPEC)
    assert resumed.next_configs(1)[0][1] == expected[4]  # same store and seed, same proposal
    resumed.run(10)
    assert configs(after, resumed) == expected
    assert len(trainer.calls) == 6  # the first four were not trained again
    after.service.shutdown()


def test_learning_from_the_class_changes_what_it_proposes(tmp_path):
    classroom, _ = make(tmp_path)
    for hidden1 in (4, 8, 12, 16, 20, 24):
        run_id = classroom.service.submit(
            TrainingConfig(hidden1=hidden1, hidden2=0, epochs=1), STUDENT
        ).run_id
        classroom.service.wait(run_id, timeout=10)
    alone = MachineSearch(classroom, SPEC).next_configs(1)
    with_class = MachineSearch(classroom, dataclasses.replace(SPEC, learn_from_class=True))
    assert len(with_class._study().trials) == 6
    assert with_class.next_configs(1) != alone
    classroom.service.shutdown()


def test_a_machine_job_never_starts_while_a_students_job_waits(tmp_path):
    classroom, trainer = make(tmp_path)
    service = classroom.service
    trainer.gate.clear()
    blocker = service.submit(TrainingConfig(hidden1=1, hidden2=0, epochs=1), STUDENT)
    wait_until(trainer.started.is_set)
    machine = service.submit(TrainingConfig(hidden1=2, hidden2=0, epochs=1), MACHINE)
    students = [
        service.submit(TrainingConfig(hidden1=3, hidden2=0, epochs=1), STUDENT),
        service.submit(
            TrainingConfig(hidden1=4, hidden2=0, epochs=1), Requester("x" * 8, "student")
        ),
    ]
    waiting = [state.run_id for state in service.queue() if state.status == "queued"]
    # The second student's first job goes before the first student's second (round robin),
    # and the machine's, queued before both, after them.
    assert waiting == [students[1].run_id, students[0].run_id, machine.run_id]
    # The teacher's queue and the store name the machine's job after the machine.
    waiters = {state.run_id: state.waiters for state in service.queue()}
    assert waiters[machine.run_id] == ("machine",)
    assert waiters[students[1].run_id] == ("student xxxx",)
    assert service.get(machine.run_id).requested_by == "machine"
    trainer.gate.set()
    for submission in (blocker, machine, *students):
        service.wait(submission.run_id, timeout=10)
    assert [config.hidden1 for config in trainer.calls] == [1, 4, 3, 2]
    service.shutdown()


def test_only_the_teacher_starts_the_search_and_it_takes_the_challenges_limits(tmp_path):
    classroom, trainer = make(tmp_path)
    classroom.start_challenge("Small", COMMAND_LINE, max_params=9_000, max_epochs=1)
    with pytest.raises(LimitError, match="Only the teacher can start the machine's search"):
        start_search(classroom, 3, STUDENT)
    teacher = Requester("t" * 8, "teacher")
    trainer.gate.clear()  # hold its first trial while a second search is asked for
    search = start_search(classroom, 3, teacher)
    wait_until(trainer.started.is_set)
    assert classroom.machine_search is search and search.running
    with pytest.raises(LimitError, match="already running"):
        start_search(classroom, 3, teacher)
    trainer.gate.set()
    wait_until(lambda: not search.running, timeout=30)
    found = configs(classroom, search)
    assert len(found) == 3
    assert all(total_parameters(config) <= 9_000 and config.epochs == 1 for config in found)
    assert classroom_of(classroom.service) is classroom_of(classroom.service)
    classroom.service.shutdown()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_params": 804}, "max_params must allow one neuron (805 parameters); got 804."),
        ({"max_epochs": 0}, "max_epochs must be at least 1; got 0."),
        ({"max_seconds": 0.0}, "max_seconds must be above 0; got 0.0."),
        ({"train_fraction": 0.0}, "train_fraction must be a number from 0.01 to 1"),
    ],
    ids=["params", "epochs", "seconds", "fraction"],
)
def test_a_search_with_impossible_limits_is_refused_with_the_field_named(changes, message):
    with pytest.raises(ValueError) as refused:
        dataclasses.replace(SPEC, **changes)
    assert message in str(refused.value)


def test_the_widest_layers_the_parameter_limit_allows_fit_it_exactly():
    spec = SearchSpec(max_params=20_000)
    widest = TrainingConfig(hidden1=spec.hidden1_high(), hidden2=0)
    assert total_parameters(widest) <= 20_000
    assert total_parameters(widest.replace(hidden1=widest.hidden1 + 1)) > 20_000
    second = spec.hidden2_high(20)
    assert second == (20_000 - 785 * 20 - 10) // (20 + 11) == 138  # below the slider's 512
    assert total_parameters(TrainingConfig(hidden1=20, hidden2=second)) <= 20_000
    assert total_parameters(TrainingConfig(hidden1=20, hidden2=second + 1)) > 20_000
