"""A run store filled with finished runs, for the unit tests, the browser tests and the
benchmarks, written as the service writes it: under a lease.

    run_ids = seed_store(home, data, [TrainingConfig(), TrainingConfig(hidden2=0)])
    run_ids = seed_store(home, data, configs, result_for=lambda index, config: my_result(...))
    count_runs(home)                           # {"complete": 2}: rows by status

A run is claimed by an instance of this process that holds its lease while the files are
written: a server running on the same store (the browser tests', a benchmark's) marks a run
without a live owner interrupted and removes its half-written files.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from explorer.config import TrainingConfig
from explorer.data.sources import MnistData
from explorer.store.leases import new_instance_id
from explorer.store.registry import RunStore
from explorer.training.loop import TrainingResult
from testkit.fakes import fake_result

ResultFor = Callable[[int, TrainingConfig], TrainingResult]


def made_up_history(config: TrainingConfig, index: int = 0) -> list[dict]:
    """A plausible learning curve for `config`'s epochs, a little lower for each `index`."""
    return [
        {
            "epoch": epoch,
            "loss": 1 / epoch,
            "accuracy": 0.8 + epoch / 100,
            "test_loss": 1.1 / epoch,
            "test_accuracy": 0.78 + epoch / 100 - index / 50,
        }
        for epoch in range(1, config.epochs + 1)
    ]


def seed_store(
    home: str | Path,
    data: MnistData,
    configs: Sequence[TrainingConfig],
    result_for: ResultFor | None = None,
) -> list[str]:
    """Store a finished run for each config under `data.fingerprint`, unless one is there;
    returns their run ids in order. `result_for(index, config)` makes each TrainingResult
    (by default testkit.fakes.fake_result with `made_up_history`)."""
    if result_for is None:

        def result_for(index: int, config: TrainingConfig) -> TrainingResult:
            return fake_result(config, data, made_up_history(config, index))

    store = RunStore(home)
    owner = new_instance_id()
    store.register_instance(owner)
    run_ids = []
    try:
        for index, config in enumerate(configs):
            key = config.cache_key(data.fingerprint)
            run_id, created = store.claim(config, key, data.source, owner=owner)
            if created:
                store.mark_running(run_id)
                store.finish(run_id, result_for(index, config))
            run_ids.append(run_id)
    finally:
        store.end_instance(owner, "The store was seeded.")
        store.close()
    return run_ids


def count_runs(home: str | Path, cache_key: str | None = None) -> dict[str, int]:
    """Runs in the store by status (all keys, or one cache key)."""
    store = RunStore(home)
    try:
        records = store.list_runs()
    finally:
        store.close()
    return dict(
        Counter(
            str(record.status)
            for record in records
            if cache_key is None or record.cache_key == cache_key
        )
    )
