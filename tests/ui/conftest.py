"""A run store seeded with three finished runs, for the page's tests."""

import numpy as np
import pytest

from explorer.config import TrainingConfig
from explorer.store.registry import RunStore
from testkit.fakes import fake_result

TUTORIAL = TrainingConfig()
VARIANTS = [TrainingConfig(hidden2=200), TrainingConfig(hidden2=0)]


@pytest.fixture
def seeded(sample_data, monkeypatch, tmp_path):
    """Three stored runs (the tutorial's and two variants), as the page's data would key them."""
    monkeypatch.setenv("EXPLORER_HOME", str(tmp_path / "home"))
    store = RunStore(tmp_path / "home")
    run_ids = []
    for shift, config in enumerate([TUTORIAL, *VARIANTS]):
        key = config.cache_key(sample_data.fingerprint)
        run_id, _ = store.claim(config, key, sample_data.source)
        history = [
            {
                "epoch": e,
                "loss": 1 / e,
                "accuracy": 0.8 + e / 100,
                "test_loss": 1.1 / e,
                "test_accuracy": 0.78 + e / 100 - shift / 50,
            }
            for e in range(1, 6)
        ]
        result = fake_result(config, sample_data, history)
        # Make the runs differ: each shifts some predictions by a different amount.
        result.predicted_labels = (
            (sample_data.y_test + (np.arange(1000) % (3 + shift) == 0)) % 10
        ).astype(np.uint8)
        store.finish(run_id, result)
        run_ids.append(run_id)
    return run_ids
