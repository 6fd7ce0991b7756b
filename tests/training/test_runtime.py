"""Loading TensorFlow (explorer.training.runtime): how many threads a trainer gets."""

import pytest

from explorer.training import runtime


@pytest.mark.parametrize(
    ("kind", "cores", "workers", "chosen", "expected"),
    [
        ("amx", 2, 1, "", 1),  # one thread beats two there, and leaves a core to the pages
        ("avx512_bf16", 2, 1, "", 2),
        ("no bfloat16", 2, 1, "", 2),
        ("no bfloat16", 8, 2, "", 4),  # the cores shared out between the trainers
        ("no bfloat16", 2, 4, "", 1),
        ("amx", 2, 1, "3", 3),  # EXPLORER_TRAINING_THREADS wins
        ("no bfloat16", 2, 1, "0", 2),
    ],
)
def test_training_threads_follow_the_cpu_kind_and_the_workers(
    monkeypatch, kind, cores, workers, chosen, expected
):
    monkeypatch.setattr(runtime, "cpu_kind", lambda: kind)
    monkeypatch.setattr(runtime.os, "cpu_count", lambda: cores)
    monkeypatch.setenv("EXPLORER_TRAINING_THREADS", chosen)
    assert runtime.training_threads(workers) == expected
