"""The page's tests: each starts as a new server would, and a run store seeded with three
finished runs."""

import numpy as np
import pytest

from explorer.config import TrainingConfig
from testkit.fakes import fake_result
from testkit.store import made_up_history, seed_store

TUTORIAL = TrainingConfig()
VARIANTS = [TrainingConfig(hidden2=200), TrainingConfig(hidden2=0)]


@pytest.fixture
def seeded(sample_data, monkeypatch, tmp_path):
    """Three stored runs (the tutorial's and two variants), as the page's data would key them."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))

    def result_for(shift, config):
        result = fake_result(config, sample_data, made_up_history(config, shift))
        # Make the runs differ: each shifts some predictions by a different amount.
        result.predicted_labels = (
            (sample_data.y_test + (np.arange(1000) % (3 + shift) == 0)) % 10
        ).astype(np.uint8)
        return result

    return seed_store(tmp_path / "home", sample_data, [TUTORIAL, *VARIANTS], result_for)


@pytest.fixture(autouse=True)
def a_new_server():
    """What a server looks up once (the teacher's secret, its start checks, its guess limiter)
    is looked up again for each test, as a new server would: one test's password or guesses
    must not reach the next."""
    from explorer.ui import roles

    cached = (roles.teacher_secret, roles.start_checks, roles._limiter)
    for function in cached:
        function.clear()
    yield
    for function in cached:
        function.clear()
