"""Training on a real two-node Ray cluster on this machine (ray.cluster_utils.Cluster), bound to
127.0.0.1: a sweep spread over both nodes with progress, Stop, and a node that dies mid-run."""

from __future__ import annotations

import os
import subprocess

import pytest

from explorer.config import TrainingConfig
from explorer.service.service import TrainingService
from explorer.store.registry import RunStore
from tests.waiting import wait_until

ray = pytest.importorskip("ray", reason="Ray is optional: pip install -r requirements-cluster.txt")
pytestmark = pytest.mark.cluster

TINY = TrainingConfig(hidden1=16, hidden2=0, epochs=1, train_fraction=0.05)
NODE = {"node_ip_address": "127.0.0.1", "num_cpus": 1, "object_store_memory": 200 * 2**20}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A head node that trains nothing (no CPU) and two worker nodes of one CPU each."""
    os.environ["RAY_TMPDIR"] = str(tmp_path_factory.mktemp("ray"))
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray._private.ray_constants as constants
    from ray.cluster_utils import Cluster

    constants.ENABLE_RAY_CLUSTER = False  # keep the addresses on 127.0.0.1
    made = Cluster(
        initialize_head=True,
        connect=False,
        head_node_args={**NODE, "num_cpus": 0, "include_dashboard": False},
    )
    nodes = [made.add_node(**NODE) for _ in range(2)]
    made.wait_for_nodes()
    yield made, nodes
    made.shutdown()


@pytest.fixture(scope="module")
def service(cluster, tmp_path_factory):
    from explorer.data.npz import read_npz
    from explorer.data.sources import SAMPLE_PATH, MnistData, fingerprint_arrays
    from explorer.service.ray_cluster import RayCluster

    arrays = read_npz(SAMPLE_PATH)
    data = MnistData(*arrays, source="sample", location="", fingerprint=fingerprint_arrays(*arrays))
    made, _ = cluster
    executor = RayCluster(made.address)
    service = TrainingService(
        RunStore(tmp_path_factory.mktemp("home")), lambda: data, executor=executor
    )
    yield service
    service.shutdown()


def test_nothing_listens_beyond_127_0_0_1(cluster):
    listeners = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    ray_lines = [line for line in listeners.splitlines() if "ray" in line or "gcs" in line]
    assert ray_lines, "expected Ray's servers to be listening"
    for line in ray_lines:
        local = line.split()[3]
        assert local.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")), line


def test_a_sweep_runs_on_both_nodes_and_progress_arrives(service, cluster):
    _, nodes = cluster
    configs = [TINY.replace(hidden1=hidden) for hidden in (8, 9, 10, 11)]
    run_ids = [service.submit(config).run_id for config in configs]
    assert service.executor.slots == 2  # one per CPU of the cluster
    seen = set()

    def all_done():
        for run_id in run_ids:
            progress = service.progress(run_id)
            if progress.steps_per_epoch:
                seen.add(run_id)  # a batch message came back while it trained
        return all(service.progress(run_id).finished for run_id in run_ids)

    wait_until(all_done, timeout=120, interval=0.05)
    records = [service.get(run_id) for run_id in run_ids]
    assert [record.status for record in records] == ["complete"] * 4
    assert {record.worker for record in records} == {f"ray:{node.node_id}" for node in nodes}
    assert seen == set(run_ids)
    assert all(len(record.history) == 1 for record in records)
    assert service.predictions(run_ids[0]).predicted_labels.shape == (1000,)


def test_stop_cancels_the_task(service):
    run_id = service.submit(TINY.replace(hidden1=64, epochs=50, train_fraction=1.0)).run_id
    wait_until(lambda: service.progress(run_id).step > 0, timeout=60)
    service.stop(run_id)
    final = service.wait(run_id, timeout=30)
    assert final.status == "stopped" and "Stopped on the cluster" in final.error


def test_a_node_that_dies_mid_run_leaves_it_interrupted_and_retrainable(service, cluster):
    made, nodes = cluster
    config = TINY.replace(hidden1=48, epochs=50, train_fraction=1.0)
    run_id = service.submit(config).run_id
    wait_until(lambda: service.progress(run_id).step > 0, timeout=60)
    worker = service.progress(run_id).worker
    doomed = next(node for node in nodes if worker == f"ray:{node.node_id}")
    made.remove_node(doomed, allow_graceful=False)
    final = service.wait(run_id, timeout=60)
    assert final.status == "interrupted" and "lost" in final.error
    retry = service.submit(config.replace(epochs=1))  # the other node trains on
    assert service.wait(retry.run_id, timeout=60).status == "complete"
    again = service.submit(config)
    assert again.run_id != run_id and not again.cached  # never stuck: it can train again
    service.stop(again.run_id)
    service.wait(again.run_id, timeout=60)
