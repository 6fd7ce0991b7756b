"""The trainer protocol (explorer.service.protocol): messages cross a pickle intact, progress
messages reach a job, and a trainer of another version is named instead of misread."""

import pickle

import pytest

from explorer.config import TrainingConfig
from explorer.service import protocol
from explorer.service.jobs import COMMAND_LINE, Job, Reporter

MESSAGES = [
    protocol.Train(TrainingConfig(hidden1=8), "0123456789abcdef"),
    protocol.Stop("0123456789abcdef"),
    protocol.Exit(),
    protocol.Ready(2.5),
    protocol.Placed("node-1"),
    protocol.Beat(512.0),
    protocol.Started(2, 10, 640),
    protocol.Batch(1, 3, {"loss": 0.5}),
    protocol.Epoch(1, {"epoch": 1, "loss": 0.4}),
    protocol.Failed("ValueError: no"),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda message: type(message).__name__)
def test_every_message_crosses_a_pickle_intact(message):
    assert pickle.loads(pickle.dumps(message)) == message


def test_a_reporters_messages_drive_a_job_as_a_local_training_would():
    job = Job("0123456789abcdef", TrainingConfig(hidden1=8, epochs=2), COMMAND_LINE)
    sent = []
    reporter = Reporter(sent.append)
    reporter.on_start(2, 10, 640)
    reporter.on_batch(1, 5, {"loss": 0.5, "accuracy": 0.8})
    reporter.on_epoch(1, {"epoch": 1, "loss": 0.4})
    assert [type(message) for message in sent] == list(protocol.PROGRESS)
    assert all(job.receive(message) for message in sent)
    state = job.snapshot()
    assert (state.status, state.epoch, state.step, state.steps_per_epoch) == ("running", 1, 5, 10)
    assert state.history == [{"epoch": 1, "loss": 0.4}]


def test_messages_about_the_trainer_are_not_progress():
    job = Job("0123456789abcdef", TrainingConfig(hidden1=8), COMMAND_LINE)
    assert not job.receive(protocol.Beat(100.0))
    assert not job.receive(protocol.Failed.from_error(ValueError("no")))


def test_a_trainer_of_another_version_is_named():
    assert protocol.version_problem(protocol.VERSION) is None
    problem = protocol.version_problem(protocol.VERSION + 1)
    assert f"version {protocol.VERSION + 1}" in problem and "same version" in problem
    assert protocol.Failed.from_error(ValueError("no")).message == "ValueError: no"
